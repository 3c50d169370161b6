#pragma once

#include "common/Clock.h"
#include "common/Result.h"
#include "discovery/AuthServerMetadata.h"
#include "net/HttpClient.h"
#include "registration/ClientRegistration.h"
#include "tokens/TokenSet.h"

#include <QObject>
#include <QStringList>

#include <functional>
#include <optional>

namespace mcpauth {

class FormBody;

/// Talks to an authorization server's token endpoint (RFC 6749 §4.1.3 code exchange, §6 refresh)
/// and revocation endpoint (RFC 7009), authenticating the client as its registration says
/// (RFC 6749 §2.3.1: none, client_secret_basic or client_secret_post). Every token request carries
/// `resource` (RFC 8707, MCP spec: including refresh). Errors are sorted for the caller:
/// invalid_grant → LoginRequired (sign in again), invalid_client → Protocol "invalid_client"
/// (register again), 5xx/429/transport → Network (retry later, keep the tokens).
/// Each callback runs exactly once on the event loop unless `context` is destroyed first.
class TokenClient
{
public:
    using TokenCallback = std::function<void(Result<TokenSet>)>;
    using RevokeCallback = std::function<void(Result<bool>)>;

    TokenClient(const HttpClient &http, const Clock &clock);

    /// grant_type=authorization_code with code, code_verifier (RFC 7636 §4.5), redirect_uri and
    /// resource. `requestedScope` becomes the token's scope when the server does not echo one.
    void exchangeCode(const AuthServerMetadata &as, const ClientRegistration &client, const QString &code,
                      const QString &codeVerifier, const QString &redirectUri, const QString &resource,
                      const QString &requestedScope, QObject *context, TokenCallback done);
    /// grant_type=refresh_token with resource and without scope (a refresh cannot widen scope).
    /// A response without refresh_token keeps current.refreshToken.
    void refresh(const AuthServerMetadata &as, const ClientRegistration &client, const TokenSet &current,
                 const QString &resource, QObject *context, TokenCallback done);
    /// RFC 7009 §2.1. true: the server answered 200; false: it has no revocation_endpoint, nothing sent.
    void revoke(const AuthServerMetadata &as, const ClientRegistration &client, const QString &token,
                const QString &tokenTypeHint, QObject *context, RevokeCallback done);

    /// "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1 with Appendix B encoding).
    static QByteArray basicAuthHeader(const QString &clientId, const QString &secret);
    /// The method for a client whose registration did not fix one (pre-registered): a secret and a
    /// server that takes client_secret_basic (or says nothing) → basic; only client_secret_post →
    /// post; no secret → none. nullopt when the server lists methods and none of them fits.
    static std::optional<ClientRegistration::AuthMethod>
    chooseAuthMethod(const ClientRegistration &client, const std::optional<QStringList> &serverMethods);

private:
    void sendTokenRequest(const AuthServerMetadata &as, const ClientRegistration &client, FormBody form,
                          const QStringList &secrets, const QString &requestedScope,
                          const std::optional<TokenSet> &previous, QObject *context,
                          TokenCallback done) const;
    static Result<HttpRequest> buildRequest(const QUrl &endpoint, const ClientRegistration &client,
                                            FormBody form);

    HttpClient m_http;
    const Clock &m_clock;
};

} // namespace mcpauth
