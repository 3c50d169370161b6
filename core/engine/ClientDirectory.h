#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/Discovery.h"
#include "engine/ServerConfig.h"
#include "registration/ClientRegistration.h"

#include <QHash>
#include <QObject>

#include <functional>
#include <optional>

namespace mcpauth {

class SecretStore;

/// Every client identity the engine may present to an authorization server, and the per-server
/// client configuration (`server/configure`): dynamic registrations kept per issuer, clients from
/// IT policy per issuer, static clients and options per MCP server. The public halves live in the
/// state file (its "registrations" and "serverConfig" sections), every secret only in the
/// SecretStore. ClientSelector decides which identity a sign-in uses; this class holds them.
class ClientDirectory : public QObject
{
    Q_OBJECT
public:
    using StatusCallback = std::function<void(Status)>;
    /// Servers with a configuration at most; configure() refuses a new one beyond that.
    static constexpr int kMaxConfigs = 1000;

    explicit ClientDirectory(SecretStore &secrets, QObject *parent = nullptr);

    /// Reads its sections of the state file and the secrets they refer to; `done` runs once.
    void load(const Json &state, QObject *context, StatusCallback done);
    /// Writes its sections into `state` (never a secret).
    void saveInto(Json &state) const;

    /// The client a sign-in to `resource` at `d.issuer` uses, nullopt to register dynamically.
    Result<std::optional<ClientRegistration>> select(const QString &resource, const DiscoveryResult &d) const;
    const ServerConfig *config(const QString &resource) const;

    /// Replaces the configuration of `resource`. The static client's secret is stored first, so the
    /// state file never claims a secret the keychain lacks; `done` says whether it was taken (it
    /// runs unless `context` is destroyed first).
    void configure(const QString &resource, const ServerConfig &config, QObject *context,
                   StatusCallback done);
    /// A client just registered with its issuer (its secret goes to the SecretStore).
    void remember(const ClientRegistration &client);
    /// Drops the registration with `issuer` (the server answered invalid_client). False if none.
    bool forget(const QString &issuer);
    /// A client from IT policy for an issuer: used before anything else.
    void addPreRegistered(const ClientRegistration &client);

private:
    static QString clientSecretKey(const QString &issuer);
    static QString staticSecretKey(const QString &resource);

    SecretStore &m_secrets;
    QHash<QString, ClientRegistration> m_registered;    ///< dynamic registrations by issuer (with secrets)
    QHash<QString, ClientRegistration> m_preRegistered; ///< IT policy clients by issuer
    QHash<QString, ServerConfig> m_configs;             ///< by canonical resource string
};

} // namespace mcpauth
