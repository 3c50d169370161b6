#include "tokens/TokenClient.h"

#include "common/Log.h"
#include "tokens/FormBody.h"
#include "tokens/OAuthError.h"

#include <QTimer>

namespace mcpauth {

namespace {

using AuthMethod = ClientRegistration::AuthMethod;

// Every outcome reaches the caller on the event loop, never from inside the call.
template<typename T> void deliverLater(QObject *context, std::function<void(Result<T>)> done, Error error)
{
    QTimer::singleShot(0, context, [done = std::move(done), error = std::move(error)] { done(error); });
}

bool isRetryableStatus(int status)
{
    // RFC 6749 §5.2 has no 5xx errors: an overloaded or broken server is a transient failure, and
    // the caller keeps its tokens (design.md: a network failure never deletes tokens).
    return status >= 500 || status == 429;
}

// RFC 6749 §5.2: the token endpoint's errors, sorted by what the caller must do next.
Error tokenEndpointError(const HttpResponse &response, const QStringList &secrets)
{
    const int status = response.status;
    if (isRetryableStatus(status))
        return Error::network(QStringLiteral("server_unavailable"),
                              QStringLiteral("token endpoint answered HTTP %1; try again later").arg(status));
    const auto oauth = OAuthError::parse(response.body, secrets);
    if (status >= 400 && status < 500 && oauth) {
        if (oauth->code == QLatin1String("invalid_grant"))
            // The code, or the refresh token, is expired, revoked or was issued to someone else.
            return Error{Error::Category::LoginRequired, QStringLiteral("invalid_grant"),
                         QStringLiteral("the sign-in has expired or was revoked; sign in again")};
        if (oauth->code == QLatin1String("invalid_client") ||
            oauth->code == QLatin1String("unauthorized_client"))
            // mcp-auth-spec.md §7: drop the client registration and register again.
            return Error::protocol(
                QStringLiteral("invalid_client"),
                QStringLiteral("the authorization server no longer accepts this client (%1)")
                    .arg(oauth->describe()));
        return Error::protocol(oauth->code,
                               QStringLiteral("token endpoint refused the request: ") + oauth->describe());
    }
    if (status == 401)
        // RFC 6749 §5.2: client authentication failed; some servers send no body with the 401.
        return Error::protocol(QStringLiteral("invalid_client"),
                               QStringLiteral("the authorization server rejected the client authentication"));
    return Error::protocol(QStringLiteral("token_request_failed"),
                           QStringLiteral("token endpoint answered HTTP %1").arg(status));
}

} // namespace

TokenClient::TokenClient(const HttpClient &http, const Clock &clock) : m_http(http), m_clock(clock) {}

QByteArray TokenClient::basicAuthHeader(const QString &clientId, const QString &secret)
{
    // RFC 6749 §2.3.1: id and secret are each form-urlencoded (Appendix B) before being joined by
    // ":" and base64-encoded, so a ":" in the id cannot split it.
    return QByteArrayLiteral("Basic ") +
           QByteArray(FormBody::encode(clientId) + ':' + FormBody::encode(secret)).toBase64();
}

std::optional<AuthMethod> TokenClient::chooseAuthMethod(const ClientRegistration &client,
                                                        const std::optional<QStringList> &serverMethods)
{
    if (client.clientSecret.isEmpty())
        return AuthMethod::None;
    // RFC 8414 §2: an absent token_endpoint_auth_methods_supported means client_secret_basic.
    if (!serverMethods || serverMethods->contains(QStringLiteral("client_secret_basic")))
        return AuthMethod::ClientSecretBasic;
    if (serverMethods->contains(QStringLiteral("client_secret_post")))
        return AuthMethod::ClientSecretPost;
    return std::nullopt;
}

Result<HttpRequest> TokenClient::buildRequest(const QUrl &endpoint, const ClientRegistration &client,
                                              FormBody form)
{
    if (client.clientId.isEmpty())
        return Error::internal(QStringLiteral("token request without a client_id"));
    // RFC 6749 §2.3.1 / RFC 7591 §2: authenticate exactly as registered.
    QByteArray authorization;
    switch (client.authMethod) {
    case AuthMethod::None:
        // RFC 6749 §4.1.3: a public client identifies itself with client_id in the body.
        form.add(QStringLiteral("client_id"), client.clientId);
        break;
    case AuthMethod::ClientSecretBasic:
    case AuthMethod::ClientSecretPost:
        if (client.clientSecret.isEmpty())
            return Error::config(
                QStringLiteral("missing_client_secret"),
                QStringLiteral("the client is registered for %1 but its secret is not available")
                    .arg(ClientRegistration::authMethodName(client.authMethod)));
        if (client.authMethod == AuthMethod::ClientSecretBasic) {
            authorization = basicAuthHeader(client.clientId, client.clientSecret);
        } else {
            form.add(QStringLiteral("client_id"), client.clientId);
            form.add(QStringLiteral("client_secret"), client.clientSecret);
        }
        break;
    }
    HttpRequest request = HttpRequest::postForm(endpoint, form.toBytes());
    if (!authorization.isEmpty())
        request.headers.emplaceBack(QByteArrayLiteral("Authorization"), authorization);
    return request;
}

void TokenClient::exchangeCode(const AuthServerMetadata &as, const ClientRegistration &client,
                               const QString &code, const QString &codeVerifier, const QString &redirectUri,
                               const QString &resource, const QString &requestedScope, QObject *context,
                               TokenCallback done)
{
    FormBody form;
    form.add(QStringLiteral("grant_type"), QStringLiteral("authorization_code"))
        .add(QStringLiteral("code"), code)
        .add(QStringLiteral("redirect_uri"),
             redirectUri) // RFC 6749 §4.1.3: identical to the authorization request
        .add(QStringLiteral("code_verifier"), codeVerifier)   // RFC 7636 §4.5
        .addIfNotEmpty(QStringLiteral("resource"), resource); // RFC 8707 §2.2, MCP spec: every token request
    sendTokenRequest(as, client, std::move(form), {code, codeVerifier, client.clientSecret}, requestedScope,
                     std::nullopt, context, std::move(done));
}

void TokenClient::refresh(const AuthServerMetadata &as, const ClientRegistration &client,
                          const TokenSet &current, const QString &resource, QObject *context,
                          TokenCallback done)
{
    if (!current.hasRefreshToken()) {
        deliverLater<TokenSet>(
            context, std::move(done),
            Error::loginRequired(QStringLiteral("there is no refresh token; sign in again")));
        return;
    }
    // RFC 6749 §6: scope is omitted, so the grant stays what it was (a refresh cannot widen it; a
    // wider scope needs a new authorization). MCP spec: resource goes on the refresh request too.
    FormBody form;
    form.add(QStringLiteral("grant_type"), QStringLiteral("refresh_token"))
        .add(QStringLiteral("refresh_token"), current.refreshToken)
        .addIfNotEmpty(QStringLiteral("resource"), resource);
    sendTokenRequest(as, client, std::move(form),
                     {current.refreshToken, current.accessToken, client.clientSecret}, current.scope, current,
                     context, std::move(done));
}

void TokenClient::sendTokenRequest(const AuthServerMetadata &as, const ClientRegistration &client,
                                   FormBody form, const QStringList &secrets, const QString &requestedScope,
                                   const std::optional<TokenSet> &previous, QObject *context,
                                   TokenCallback done) const
{
    const QString grant = form.value(QStringLiteral("grant_type"));
    auto request = buildRequest(as.tokenEndpoint, client, std::move(form));
    if (!request) {
        deliverLater<TokenSet>(context, std::move(done), request.error());
        return;
    }
    qCInfo(lcTokens) << "token request" << grant << "to" << as.tokenEndpoint.host() << "as"
                     << ClientRegistration::authMethodName(client.authMethod);

    const Clock *clock = &m_clock;
    m_http.send(request.value(), context,
                [clock, secrets, requestedScope, previous, grant,
                 done = std::move(done)](Result<HttpResponse> r) {
                    Result<TokenSet> result = [&]() -> Result<TokenSet> {
                        if (!r)
                            return r.error().withContext(QStringLiteral("token endpoint"));
                        if (!r->isSuccess())
                            return tokenEndpointError(r.value(), secrets);
                        auto tokens = TokenSet::fromTokenResponse(r->body, clock->now(), requestedScope,
                                                                  previous ? &*previous : nullptr);
                        if (!tokens && tokens.error().code == QLatin1String("invalid_token_response") &&
                            OAuthError::parse(r->body)) {
                            // Some servers (GitHub) send OAuth errors with HTTP 200: read them as §5.2.
                            HttpResponse asError = r.value();
                            asError.status = 400;
                            return tokenEndpointError(asError, secrets);
                        }
                        return tokens;
                    }();
                    if (result)
                        qCInfo(lcTokens)
                            << grant << "succeeded; new refresh token:"
                            << (previous && previous->refreshToken == result->refreshToken ? "no" : "yes");
                    else
                        qCWarning(lcTokens) << grant << "failed:" << categoryName(result.error().category)
                                            << result.error().code << result.error().message;
                    done(std::move(result));
                });
}

void TokenClient::revoke(const AuthServerMetadata &as, const ClientRegistration &client, const QString &token,
                         const QString &tokenTypeHint, QObject *context, RevokeCallback done)
{
    if (as.revocationEndpoint.isEmpty()) {
        // RFC 7009 is optional for servers: nothing to send, the caller just deletes its copy.
        QTimer::singleShot(0, context, [done = std::move(done)] { done(false); });
        return;
    }
    if (token.isEmpty()) {
        deliverLater<bool>(context, std::move(done), Error::internal(QStringLiteral("no token to revoke")));
        return;
    }
    // RFC 7009 §2.1: token, optional token_type_hint, and the same client authentication as the
    // token endpoint.
    FormBody form;
    form.add(QStringLiteral("token"), token).addIfNotEmpty(QStringLiteral("token_type_hint"), tokenTypeHint);
    auto request = buildRequest(as.revocationEndpoint, client, std::move(form));
    if (!request) {
        deliverLater<bool>(context, std::move(done), request.error());
        return;
    }
    qCInfo(lcTokens) << "revoking" << (tokenTypeHint.isEmpty() ? QStringLiteral("token") : tokenTypeHint)
                     << "at" << as.revocationEndpoint.host();
    const QStringList secrets = {token, client.clientSecret};
    m_http.send(request.value(), context, [secrets, done = std::move(done)](Result<HttpResponse> r) {
        if (!r) {
            done(r.error().withContext(QStringLiteral("revocation endpoint")));
            return;
        }
        const int status = r->status;
        // RFC 7009 §2.2: 200 also for a token that was already invalid.
        if (r->isSuccess()) {
            done(true);
            return;
        }
        // RFC 7009 §2.2.1: 503 means "try again later"; other 5xx and 429 are transient as well.
        if (isRetryableStatus(status)) {
            done(Error::network(
                QStringLiteral("server_unavailable"),
                QStringLiteral("revocation endpoint answered HTTP %1; try again later").arg(status)));
            return;
        }
        if (const auto oauth = OAuthError::parse(r->body, secrets)) {
            done(Error::protocol(oauth->code, QStringLiteral("revocation refused: ") + oauth->describe()));
            return;
        }
        done(Error::protocol(QStringLiteral("revocation_failed"),
                             QStringLiteral("revocation endpoint answered HTTP %1").arg(status)));
    });
}

} // namespace mcpauth
