#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QString>
#include <QUrl>

namespace mcpauth {

/// The client identity the agent uses with one authorization server (kept per issuer: never
/// presented to another). The secret half (clientSecret) lives only in the keychain; toJson()
/// leaves it out so the rest can go to the state file.
struct ClientRegistration
{
    enum class Source { PreRegistered, MetadataDocument, Dynamic };
    enum class AuthMethod { None, ClientSecretBasic, ClientSecretPost };

    Source source = Source::Dynamic;
    QString issuer;
    QString clientId;
    QString clientSecret;             ///< secret: keychain only
    qint64 clientSecretExpiresAt = 0; ///< 0 = never
    AuthMethod authMethod = AuthMethod::None;
    QString
        redirectUri; ///< the loopback redirect registered with the server (http://127.0.0.1:PORT/callback)
    qint64 registeredAt = 0;

    bool isValid() const { return !issuer.isEmpty() && !clientId.isEmpty(); }

    static QString authMethodName(AuthMethod method);
    static std::optional<AuthMethod> authMethodFromName(const QString &name);
    static QString sourceName(Source source);

    /// Without clientSecret.
    Json toJson() const;
    static Result<ClientRegistration> fromJson(const Json &json);
};

} // namespace mcpauth
