#include "FakeAuthServer.h"

#include "login/Pkce.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace mcpauth::test {

namespace {
QByteArray toJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
TestResponse oauthError(const char *error, int status = 400)
{
    return TestResponse::json(toJson({{QStringLiteral("error"), QLatin1String(error)}}), status);
}
} // namespace

FakeAuthServer::FakeAuthServer(QObject *parent) : QObject(parent)
{
    m_http.route(QStringLiteral("/mcp"), [this](const TestRequest &r) {
        ++mcpRequests;
        const QByteArray auth = r.header("Authorization");
        if (auth.startsWith("Bearer ") && m_accessTokens.contains(QString::fromLatin1(auth.mid(7))))
            return TestResponse::json(R"({"jsonrpc":"2.0","id":1,"result":{}})");
        const QByteArray challenge =
            publishResourceMetadata ? "Bearer resource_metadata=\"" + issuer().toLatin1() +
                                          "/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools\""
                                    : QByteArray("Bearer");
        return TestResponse::text("unauthorized", 401).withHeader("WWW-Authenticate", challenge);
    });
    m_http.route(QStringLiteral("/.well-known/oauth-protected-resource/mcp"), [this](const TestRequest &) {
        if (!publishResourceMetadata)
            return TestResponse::text("not found", 404);
        return TestResponse::json(
            toJson({{QStringLiteral("resource"), mcpUrl().toString()},
                    {QStringLiteral("authorization_servers"), QJsonArray{issuer()}},
                    {QStringLiteral("scopes_supported"), QJsonArray{QStringLiteral("mcp:tools")}}}));
    });
    m_http.route(QStringLiteral("/.well-known/oauth-authorization-server"), [this](const TestRequest &) {
        if (!publishServerMetadata)
            return TestResponse::text("not found", 404);
        const QString b = issuer();
        return TestResponse::json(toJson({
            {QStringLiteral("issuer"), b},
            {QStringLiteral("authorization_endpoint"), QString(b + QStringLiteral("/authorize"))},
            {QStringLiteral("token_endpoint"), QString(b + QStringLiteral("/token"))},
            {QStringLiteral("registration_endpoint"), QString(b + QStringLiteral("/register"))},
            {QStringLiteral("revocation_endpoint"), QString(b + QStringLiteral("/revoke"))},
            {QStringLiteral("response_types_supported"), QJsonArray{QStringLiteral("code")}},
            {QStringLiteral("code_challenge_methods_supported"), QJsonArray{QStringLiteral("S256")}},
            {QStringLiteral("scopes_supported"),
             QJsonArray{QStringLiteral("mcp:tools"), QStringLiteral("offline_access")}},
            {QStringLiteral("token_endpoint_auth_methods_supported"),
             QJsonArray::fromStringList(tokenAuthMethods)},
            {QStringLiteral("authorization_response_iss_parameter_supported"), sendIss},
            {QStringLiteral("client_id_metadata_document_supported"), advertiseCimd},
        }));
    });
    m_http.route(QStringLiteral("/register"), [this](const TestRequest &r) {
        ++registrations;
        registrationBodies << r.body;
        const QJsonObject req = QJsonDocument::fromJson(r.body).object();
        const QString id = QStringLiteral("client-%1").arg(++m_counter);
        QJsonObject resp{{QStringLiteral("client_id"), id},
                         {QStringLiteral("redirect_uris"), req.value(QStringLiteral("redirect_uris"))},
                         {QStringLiteral("token_endpoint_auth_method"), registrationAuthMethod}};
        QString secret;
        if (registrationAuthMethod != QLatin1String("none")) {
            secret = QStringLiteral("client-secret-%1-Zq").arg(m_counter);
            resp.insert(QStringLiteral("client_secret"), secret);
            m_secrets << secret;
        }
        m_clients.insert(id, secret);
        return TestResponse::json(toJson(resp), 201);
    });
    m_http.route(QStringLiteral("/authorize"), [this](const TestRequest &r) { return authorize(r); });
    m_http.route(QStringLiteral("/token"), [this](const TestRequest &r) { return token(r); });
    m_http.route(QStringLiteral("/revoke"), [this](const TestRequest &r) {
        ++revocations;
        m_refreshTokens.remove(r.form().queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded));
        return TestResponse::text("", 200);
    });
}

QStringList FakeAuthServer::issuedSecrets() const
{
    return m_secrets;
}

TestResponse FakeAuthServer::authorize(const TestRequest &r)
{
    ++authorizations;
    authorizeRequests << r.query;
    const auto q = [&](const char *k) {
        return r.query.queryItemValue(QLatin1String(k), QUrl::FullyDecoded);
    };
    const bool cimdClient = advertiseCimd && q("client_id").startsWith(QLatin1String("https://"));
    if ((!m_clients.contains(q("client_id")) && !cimdClient) ||
        q("code_challenge_method") != QLatin1String("S256"))
        return TestResponse::text("bad authorization request", 400);
    const QString code = QStringLiteral("code-%1-Xy").arg(++m_counter);
    m_secrets << code << q("state");
    m_codes.insert(code, {q("client_id"), q("code_challenge"), q("redirect_uri"), q("resource"), q("scope")});
    QUrl back(q("redirect_uri"));
    QUrlQuery bq;
    bq.addQueryItem(QStringLiteral("code"), code);
    bq.addQueryItem(QStringLiteral("state"), q("state"));
    if (sendIss && publishServerMetadata)
        bq.addQueryItem(QStringLiteral("iss"), issuer());
    back.setQuery(bq);
    return TestResponse::redirect(back.toEncoded());
}

TestResponse FakeAuthServer::issueTokens(const QString &clientId, const QString &scope)
{
    const QString at = QStringLiteral("access-%1-Tk").arg(++m_counter);
    m_accessTokens.insert(at);
    lastAccessToken = at;
    m_secrets << at;
    QJsonObject o{{QStringLiteral("access_token"), at},
                  {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                  {QStringLiteral("expires_in"), accessTokenLifetime},
                  {QStringLiteral("scope"), scope}};
    if (issueRefreshTokens) {
        const QString rt = QStringLiteral("refresh-%1-Rt").arg(++m_counter);
        m_refreshTokens.insert(rt, clientId);
        lastRefreshToken = rt;
        m_secrets << rt;
        o.insert(QStringLiteral("refresh_token"), rt);
    }
    return TestResponse::json(toJson(o));
}

TestResponse FakeAuthServer::token(const TestRequest &r)
{
    const QUrlQuery form = r.form();
    tokenRequests << form;
    const auto f = [&](const char *k) { return form.queryItemValue(QLatin1String(k), QUrl::FullyDecoded); };
    switch (tokenFailure) {
    case TokenFailure::Drop: {
        TestResponse resp;
        resp.behaviour = TestResponse::Behaviour::CloseImmediately;
        return resp;
    }
    case TokenFailure::ServerError:
        return TestResponse::text("oops", 500);
    case TokenFailure::InvalidGrant:
        return oauthError("invalid_grant");
    case TokenFailure::InvalidClient:
        return oauthError("invalid_client", 401);
    case TokenFailure::None:
        break;
    }
    // Client authentication: basic header or client_id in the body.
    QString clientId = f("client_id");
    QString secret = f("client_secret");
    const QByteArray auth = r.header("Authorization");
    tokenAuthorizationHeaders << auth;
    if (auth.startsWith("Basic ")) {
        const QList<QByteArray> parts = QByteArray::fromBase64(auth.mid(6)).split(':');
        clientId = QUrl::fromPercentEncoding(parts.value(0));
        secret = QUrl::fromPercentEncoding(parts.value(1));
    }
    const bool cimdClient =
        advertiseCimd && clientId.startsWith(QLatin1String("https://")) && secret.isEmpty();
    if (!cimdClient && (!m_clients.contains(clientId) || m_clients.value(clientId) != secret))
        return oauthError("invalid_client", 401);

    if (f("grant_type") == QLatin1String("authorization_code")) {
        const Code c = m_codes.take(f("code"));
        if (c.clientId != clientId || c.redirectUri != f("redirect_uri") || c.resource != f("resource") ||
            Pkce::challengeFor(f("code_verifier")) != c.challenge)
            return oauthError("invalid_grant");
        ++codeGrants;
        return issueTokens(clientId, c.scope);
    }
    if (f("grant_type") == QLatin1String("refresh_token")) {
        const QString rt = f("refresh_token");
        if (m_spentRefreshTokens.contains(rt))
            ++refreshTokenReuse;
        if (!m_refreshTokens.contains(rt) || m_refreshTokens.value(rt) != clientId || f("resource").isEmpty())
            return oauthError("invalid_grant");
        ++refreshGrants;
        if (!rotateRefreshTokens) {
            const bool keep = issueRefreshTokens;
            issueRefreshTokens = false;
            TestResponse resp = issueTokens(clientId, QStringLiteral("mcp:tools"));
            issueRefreshTokens = keep;
            return resp;
        }
        m_refreshTokens.remove(rt);
        m_spentRefreshTokens.insert(rt);
        return issueTokens(clientId, QStringLiteral("mcp:tools"));
    }
    return oauthError("unsupported_grant_type");
}

} // namespace mcpauth::test
