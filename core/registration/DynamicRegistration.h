#pragma once

#include "common/Clock.h"
#include "common/Result.h"
#include "net/HttpClient.h"
#include "registration/ClientRegistration.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>

#include <optional>

class QNetworkReply;

namespace mcpauth {

/// Registers this agent as a public native client with an authorization server through OAuth 2.0
/// Dynamic Client Registration (RFC 7591), the fallback of the MCP spec's client registration order
/// (design.md "Authorization engine" step 4). It asks for token_endpoint_auth_method "none",
/// application_type "native", the authorization_code and refresh_token grants and the loopback
/// redirect URI, then honours what the server actually returned (client_id, an optional secret with
/// its expiry, and the auth method).
///
///   Idle --start()--> Registering --response/error--> Finished  (finished() once)
///     \                   |
///      `--cancel()--------+--------------------------> Finished  (finished(Cancelled) once)
class DynamicRegistration : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QUrl registrationEndpoint;
        QString issuer;      ///< the registration is kept for this issuer only
        QString redirectUri; ///< http://127.0.0.1:PORT/callback
        QString scope;       ///< optional; sent when not empty
        QString clientName = QStringLiteral("MCP Auth Agent");
        std::optional<QStringList> serverAuthMethods; ///< AS token_endpoint_auth_methods_supported
        /// Configured RFC 7591 metadata merged into the body; only extraMetadataKeys() are taken, and
        /// a non-empty `scope` above wins over theirs.
        Json extraMetadata = Json::object();
    };
    enum class State { Idle, Registering, Finished };

    DynamicRegistration(const HttpClient &http, Request request, const Clock &clock,
                        QObject *parent = nullptr);
    ~DynamicRegistration() override;

    /// Sends the registration request. Only the first call has an effect.
    void start();
    /// Stops the flow; finished() then carries Error::cancelled (unless it has already fired).
    void cancel();
    State state() const { return m_state; }

    /// The JSON body sent to the registration endpoint (RFC 7591 §2, §3.1).
    static QByteArray requestBody(const Request &r);
    /// The descriptive RFC 7591 fields a configuration may set: client_name, scope, client_uri,
    /// logo_uri, tos_uri, policy_uri, contacts, software_id, software_version. Never redirect_uris,
    /// grant_types, response_types, token_endpoint_auth_method or application_type: those decide
    /// where codes go and how the client authenticates, and this agent is a native public client.
    static const QStringList &extraMetadataKeys();

Q_SIGNALS:
    /// Fires exactly once per object, after start() or cancel(): the registration (issuer, source
    /// Dynamic, registeredAt set; clientSecret filled when the server issued one) or why not.
    void finished(const mcpauth::Result<mcpauth::ClientRegistration> &result);

private:
    void onResponse(Result<HttpResponse> response);
    Result<ClientRegistration> parseSuccess(const HttpResponse &response) const;
    static Error failure(const HttpResponse &response);
    void finish(Result<ClientRegistration> result);

    HttpClient m_http;
    Request m_request;
    const Clock &m_clock;
    State m_state = State::Idle;
    QPointer<QNetworkReply> m_reply;
};

} // namespace mcpauth
