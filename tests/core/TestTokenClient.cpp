#include "TestHttpServer.h"
#include "common/Json.h"
#include "tokens/TokenClient.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QTcpServer>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

Q_DECLARE_METATYPE(mcpauth::ClientRegistration::AuthMethod)
Q_DECLARE_METATYPE(mcpauth::Error::Category)

namespace {

using AuthMethod = ClientRegistration::AuthMethod;

// Values with every character that form encoding can get wrong.
const QString kCode = QStringLiteral("co+de&x=y z%");
const QString kVerifier = QStringLiteral("verifier-0123456789abcdefghijklmnopqrstuvwxyz._~");
const QString kClientId = QStringLiteral("client id:1");
const QString kSecret = QStringLiteral("s+e&c=r e%t");
const QString kRedirect = QStringLiteral("http://127.0.0.1:5555/callback");
const QString kResource = QStringLiteral("https://mcp.example.com/mcp");
// base64("client+id%3A1:s%2Be%26c%3Dr+e%25t"), worked out by hand from RFC 6749 §2.3.1 + Appendix B.
const QByteArray kBasic = QByteArrayLiteral("Basic Y2xpZW50K2lkJTNBMTpzJTJCZSUyNmMlM0RyK2UlMjV0");

TestResponse tokenResponse(const Json &json, int status = 200)
{
    return TestResponse::json(toBytes(json), status);
}

TestResponse standardTokens()
{
    return tokenResponse(
        {{"access_token", "AT"}, {"token_type", "Bearer"}, {"expires_in", 3600}, {"refresh_token", "RT"}});
}

// Captures every log message while alive, with all mcpauth categories enabled.
struct LogCapture
{
    static inline QStringList *lines = nullptr;
    QStringList captured;
    QtMessageHandler previous;
    LogCapture()
    {
        lines = &captured;
        QLoggingCategory::setFilterRules(QStringLiteral("mcpauth.*=true"));
        previous = qInstallMessageHandler([](QtMsgType, const QMessageLogContext &, const QString &msg) {
            if (lines)
                lines->append(msg);
        });
    }
    ~LogCapture()
    {
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        lines = nullptr;
    }
};

} // namespace

class TestTokenClient : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    ManualClock clock{1'700'000'000};
    int lastCallbackCount = 0;

    static AuthServerMetadata metadata(const TestHttpServer &server)
    {
        AuthServerMetadata as;
        as.issuer = server.base();
        as.authorizationEndpoint = server.url(QStringLiteral("/authorize"));
        as.tokenEndpoint = server.url(QStringLiteral("/token"));
        as.revocationEndpoint = server.url(QStringLiteral("/revoke"));
        return as;
    }

    static ClientRegistration client(const TestHttpServer &server, AuthMethod method)
    {
        ClientRegistration c;
        c.issuer = server.base();
        c.clientId = kClientId;
        c.authMethod = method;
        c.clientSecret = method == AuthMethod::None ? QString() : kSecret;
        c.redirectUri = kRedirect;
        return c;
    }

    template<typename T>
    Result<T> wait(const std::function<void(TokenClient &, QObject *, std::function<void(Result<T>)>)> &call,
                   int timeoutMs = 5000)
    {
        HttpClient::Options options;
        options.timeoutMs = timeoutMs;
        TokenClient tokens(HttpClient(&nam, options), clock);
        int calls = 0;
        std::optional<Result<T>> out;
        call(tokens, this, [&](Result<T> r) {
            ++calls;
            out.emplace(std::move(r));
        });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        QTest::qWait(20); // a second callback would show up here
        lastCallbackCount = calls;
        if (!out)
            return Error::internal(QStringLiteral("test: no callback"));
        return *std::move(out);
    }

    Result<TokenSet> exchange(const TestHttpServer &server, const ClientRegistration &c, int timeoutMs = 5000)
    {
        const AuthServerMetadata as = metadata(server);
        return wait<TokenSet>(
            [&](TokenClient &t, QObject *ctx, TokenClient::TokenCallback done) {
                t.exchangeCode(as, c, kCode, kVerifier, kRedirect, kResource, QStringLiteral("mcp:read"), ctx,
                               std::move(done));
            },
            timeoutMs);
    }

    Result<TokenSet> refresh(const TestHttpServer &server, const ClientRegistration &c,
                             const TokenSet &current)
    {
        const AuthServerMetadata as = metadata(server);
        return wait<TokenSet>([&](TokenClient &t, QObject *ctx, TokenClient::TokenCallback done) {
            t.refresh(as, c, current, kResource, ctx, std::move(done));
        });
    }

    Result<bool> revoke(const AuthServerMetadata &as, const ClientRegistration &c, const QString &token)
    {
        return wait<bool>([&](TokenClient &t, QObject *ctx, TokenClient::RevokeCallback done) {
            t.revoke(as, c, token, QStringLiteral("refresh_token"), ctx, std::move(done));
        });
    }

    static TokenSet currentTokens()
    {
        TokenSet t;
        t.accessToken = QStringLiteral("old-at");
        t.refreshToken = QStringLiteral("old-rt");
        t.scope = QStringLiteral("mcp:read offline_access");
        return t;
    }

    static QString field(const TestRequest &r, const char *name)
    {
        return r.form().queryItemValue(QString::fromLatin1(name), QUrl::FullyDecoded);
    }
    static bool hasField(const TestRequest &r, const char *name)
    {
        return r.form().hasQueryItem(QString::fromLatin1(name));
    }

private Q_SLOTS:
    void exchangeCodeRequest_data()
    {
        QTest::addColumn<AuthMethod>("method");
        QTest::newRow("none") << AuthMethod::None;
        QTest::newRow("client_secret_basic") << AuthMethod::ClientSecretBasic;
        QTest::newRow("client_secret_post") << AuthMethod::ClientSecretPost;
    }
    void exchangeCodeRequest()
    {
        QFETCH(AuthMethod, method);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) { return standardTokens(); });

        const auto r = exchange(server, client(server, method));
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(lastCallbackCount, 1);
        QCOMPARE(server.requests().size(), 1);
        const TestRequest &sent = server.requests().first();
        QCOMPARE(sent.method, QByteArray("POST"));
        QCOMPARE(sent.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QCOMPARE(field(sent, "grant_type"), QStringLiteral("authorization_code"));
        QCOMPARE(field(sent, "code"), kCode);
        QCOMPARE(field(sent, "code_verifier"), kVerifier);
        QCOMPARE(field(sent, "redirect_uri"), kRedirect);
        QCOMPARE(field(sent, "resource"), kResource);
        // Exact bytes: "+" "&" "=" " " "%" must not be confused on the wire.
        QVERIFY2(sent.body.contains("code=co%2Bde%26x%3Dy+z%25&"), sent.body.constData());

        switch (method) {
        case AuthMethod::None:
            QCOMPARE(field(sent, "client_id"), kClientId);
            QVERIFY(!hasField(sent, "client_secret"));
            QVERIFY(sent.header("Authorization").isEmpty());
            break;
        case AuthMethod::ClientSecretBasic:
            QVERIFY(!hasField(sent, "client_id")); // in the header only
            QVERIFY(!hasField(sent, "client_secret"));
            QCOMPARE(sent.header("Authorization"), kBasic);
            break;
        case AuthMethod::ClientSecretPost:
            QCOMPARE(field(sent, "client_id"), kClientId);
            QCOMPARE(field(sent, "client_secret"), kSecret);
            QVERIFY(sent.body.contains("client_secret=s%2Be%26c%3Dr+e%25t"));
            QVERIFY(sent.header("Authorization").isEmpty());
            break;
        }

        QCOMPARE(r->accessToken, QStringLiteral("AT"));
        QCOMPARE(r->refreshToken, QStringLiteral("RT"));
        QCOMPARE(r->expiresAt, clock.now() + 3600);
        QCOMPARE(r->scope, QStringLiteral("mcp:read")); // not echoed: the requested scope
    }

    void refreshSendsResourceAndNoScope()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) { return standardTokens(); });
        const auto r = refresh(server, client(server, AuthMethod::None), currentTokens());
        QVERIFY(r.ok());
        QCOMPARE(server.requests().size(), 1);
        const TestRequest &sent = server.requests().first();
        QCOMPARE(field(sent, "grant_type"), QStringLiteral("refresh_token"));
        QCOMPARE(field(sent, "refresh_token"), QStringLiteral("old-rt"));
        QCOMPARE(field(sent, "resource"), kResource);
        QCOMPARE(field(sent, "client_id"), kClientId);
        QVERIFY(!hasField(sent, "scope"));
        QVERIFY(!hasField(sent, "code"));
        QCOMPARE(r->refreshToken, QStringLiteral("RT")); // rotated
        QCOMPARE(r->scope, QStringLiteral("mcp:read offline_access"));
    }

    void refreshUsesClientAuthentication()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) { return standardTokens(); });
        QVERIFY(refresh(server, client(server, AuthMethod::ClientSecretBasic), currentTokens()).ok());
        QCOMPARE(server.requests().first().header("Authorization"), kBasic);
    }

    void refreshWithoutNewRefreshTokenKeepsOld()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) {
            return tokenResponse({{"access_token", "new-at"}, {"token_type", "bearer"}, {"expires_in", 60}});
        });
        const auto r = refresh(server, client(server, AuthMethod::None), currentTokens());
        QVERIFY(r.ok());
        QCOMPARE(r->accessToken, QStringLiteral("new-at"));
        QCOMPARE(r->refreshToken, QStringLiteral("old-rt"));
    }

    void refreshWithoutRefreshTokenNeedsLogin()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        TokenSet current = currentTokens();
        current.refreshToken.clear();
        const auto r = refresh(server, client(server, AuthMethod::None), current);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::LoginRequired);
        QCOMPARE(lastCallbackCount, 1);
        QCOMPARE(server.requests().size(), 0);
    }

    void tokenErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Category>("category");
        QTest::addColumn<QString>("code");
        using C = Error::Category;
        QTest::newRow("invalid_grant")
            << 400 << toBytes({{"error", "invalid_grant"}}) << C::LoginRequired << "invalid_grant";
        QTest::newRow("invalid_client 400")
            << 400 << toBytes({{"error", "invalid_client"}}) << C::Protocol << "invalid_client";
        QTest::newRow("invalid_client 401")
            << 401 << toBytes({{"error", "invalid_client"}}) << C::Protocol << "invalid_client";
        QTest::newRow("unauthorized_client")
            << 400 << toBytes({{"error", "unauthorized_client"}}) << C::Protocol << "invalid_client";
        QTest::newRow("401 without body") << 401 << QByteArray() << C::Protocol << "invalid_client";
        QTest::newRow("invalid_scope")
            << 400 << toBytes({{"error", "invalid_scope"}}) << C::Protocol << "invalid_scope";
        QTest::newRow("400 not JSON") << 400 << QByteArray("bad") << C::Protocol << "token_request_failed";
        QTest::newRow("500") << 500 << toBytes({{"error", "server_error"}}) << C::Network
                             << "server_unavailable";
        QTest::newRow("503") << 503 << QByteArray() << C::Network << "server_unavailable";
        QTest::newRow("429") << 429 << QByteArray() << C::Network << "server_unavailable";
        QTest::newRow("200 not JSON") << 200 << QByteArray("<html/>") << C::Protocol << "invalid_json";
        QTest::newRow("200 no access_token")
            << 200 << toBytes({{"token_type", "Bearer"}}) << C::Protocol << "invalid_token_response";
        QTest::newRow("200 with OAuth error")
            << 200 << toBytes({{"error", "invalid_grant"}}) << C::LoginRequired << "invalid_grant";
        QTest::newRow("200 mac token") << 200 << toBytes({{"access_token", "x"}, {"token_type", "mac"}})
                                       << C::Protocol << "unsupported_token_type";
    }
    void tokenErrors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Category, category);
        QFETCH(QString, code);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"),
                     [=](const TestRequest &) { return TestResponse::json(body, status); });
        for (const bool isRefresh : {false, true}) {
            const auto r = isRefresh ? refresh(server, client(server, AuthMethod::None), currentTokens())
                                     : exchange(server, client(server, AuthMethod::None));
            QVERIFY(!r.ok());
            QCOMPARE(lastCallbackCount, 1);
            QCOMPARE(r.error().category, category);
            QCOMPARE(r.error().code, code);
        }
    }

    void invalidGrantMessageTellsToSignIn()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) {
            return tokenResponse({{"error", "invalid_grant"}}, 400);
        });
        const auto r = refresh(server, client(server, AuthMethod::None), currentTokens());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message, QStringLiteral("the sign-in has expired or was revoked; sign in again"));
    }

    void timeoutIsNetwork()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const auto r = exchange(server, client(server, AuthMethod::None), 300);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Network);
        QCOMPARE(r.error().code, QStringLiteral("timeout"));
        QCOMPARE(lastCallbackCount, 1);
    }

    void connectionRefusedIsNetwork()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close(); // nothing listens there any more
        AuthServerMetadata as;
        as.tokenEndpoint = QUrl(QStringLiteral("http://127.0.0.1:%1/token").arg(port));
        ClientRegistration c;
        c.clientId = kClientId;
        const auto r = wait<TokenSet>([&](TokenClient &t, QObject *ctx, TokenClient::TokenCallback done) {
            t.refresh(as, c, currentTokens(), kResource, ctx, std::move(done));
        });
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Network);
        QVERIFY(r.error().isRetryable());
    }

    void refusesPlainHttpTokenEndpoint()
    {
        AuthServerMetadata as;
        as.tokenEndpoint = QUrl(QStringLiteral("http://as.example.com/token"));
        ClientRegistration c;
        c.clientId = kClientId;
        const auto r = wait<TokenSet>([&](TokenClient &t, QObject *ctx, TokenClient::TokenCallback done) {
            t.exchangeCode(as, c, kCode, kVerifier, kRedirect, kResource, {}, ctx, std::move(done));
        });
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
    }

    void missingSecretIsConfigError()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        ClientRegistration c = client(server, AuthMethod::ClientSecretBasic);
        c.clientSecret.clear();
        const auto r = exchange(server, c);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Config);
        QCOMPARE(r.error().code, QStringLiteral("missing_client_secret"));
        QCOMPARE(server.requests().size(), 0);
    }

    void revokeSendsTokenHintAndClientAuth_data()
    {
        QTest::addColumn<AuthMethod>("method");
        QTest::newRow("none") << AuthMethod::None;
        QTest::newRow("client_secret_basic") << AuthMethod::ClientSecretBasic;
        QTest::newRow("client_secret_post") << AuthMethod::ClientSecretPost;
    }
    void revokeSendsTokenHintAndClientAuth()
    {
        QFETCH(AuthMethod, method);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/revoke"),
                     [](const TestRequest &) { return TestResponse::text("", 200); });
        const auto r = revoke(metadata(server), client(server, method), QStringLiteral("rt+to/revoke"));
        QVERIFY(r.ok());
        QCOMPARE(r.value(), true);
        QCOMPARE(lastCallbackCount, 1);
        QCOMPARE(server.requests().size(), 1);
        const TestRequest &sent = server.requests().first();
        QCOMPARE(sent.path, QStringLiteral("/revoke"));
        QCOMPARE(field(sent, "token"), QStringLiteral("rt+to/revoke"));
        QCOMPARE(field(sent, "token_type_hint"), QStringLiteral("refresh_token"));
        QCOMPARE(sent.header("Authorization"),
                 method == AuthMethod::ClientSecretBasic ? kBasic : QByteArray());
        QCOMPARE(hasField(sent, "client_id"), method != AuthMethod::ClientSecretBasic);
        QCOMPARE(field(sent, "client_secret"), method == AuthMethod::ClientSecretPost ? kSecret : QString());
    }

    void revokeWithoutEndpointSendsNothing()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        AuthServerMetadata as = metadata(server);
        as.revocationEndpoint = QUrl();
        const auto r = revoke(as, client(server, AuthMethod::None), QStringLiteral("rt"));
        QVERIFY(r.ok());
        QCOMPARE(r.value(), false);
        QCOMPARE(lastCallbackCount, 1);
        QCOMPARE(server.requests().size(), 0);
    }

    void revokeErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Category>("category");
        QTest::addColumn<QString>("code");
        QTest::newRow("503") << 503 << QByteArray() << Error::Category::Network << "server_unavailable";
        QTest::newRow("unsupported_token_type") << 400 << toBytes({{"error", "unsupported_token_type"}})
                                                << Error::Category::Protocol << "unsupported_token_type";
        QTest::newRow("401 no body") << 401 << QByteArray() << Error::Category::Protocol
                                     << "revocation_failed";
    }
    void revokeErrors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Category, category);
        QFETCH(QString, code);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/revoke"),
                     [=](const TestRequest &) { return TestResponse::json(body, status); });
        const auto r = revoke(metadata(server), client(server, AuthMethod::None), QStringLiteral("rt"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, category);
        QCOMPARE(r.error().code, code);
    }

    void basicAuthHeader_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<QString>("secret");
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("plain") << "id"
                               << "secret" << QByteArray("Basic aWQ6c2VjcmV0");
        QTest::newRow("reserved") << kClientId << kSecret << kBasic;
        // base64("%C3%A9%7E:a*"): UTF-8 then percent-encoded; "~" encoded, "*" not (Appendix B).
        QTest::newRow("utf8 tilde star")
            << QString::fromUtf8("é~") << "a*" << QByteArray("Basic JUMzJUE5JTdFOmEq");
    }
    void basicAuthHeader()
    {
        QFETCH(QString, id);
        QFETCH(QString, secret);
        QFETCH(QByteArray, header);
        QCOMPARE(TokenClient::basicAuthHeader(id, secret), header);
    }

    void chooseAuthMethod_data()
    {
        QTest::addColumn<QString>("secret");
        QTest::addColumn<bool>("hasList");
        QTest::addColumn<QStringList>("serverMethods");
        QTest::addColumn<int>("expected"); // -1: nullopt
        const QString basic = QStringLiteral("client_secret_basic");
        const QString post = QStringLiteral("client_secret_post");
        const QString none = QStringLiteral("none");
        QTest::newRow("no secret") << "" << true << QStringList{basic} << int(AuthMethod::None);
        QTest::newRow("secret, no list")
            << "s" << false << QStringList() << int(AuthMethod::ClientSecretBasic);
        QTest::newRow("secret, basic")
            << "s" << true << QStringList{none, basic} << int(AuthMethod::ClientSecretBasic);
        QTest::newRow("secret, both")
            << "s" << true << QStringList{post, basic} << int(AuthMethod::ClientSecretBasic);
        QTest::newRow("secret, post only")
            << "s" << true << QStringList{post} << int(AuthMethod::ClientSecretPost);
        QTest::newRow("secret, jwt only")
            << "s" << true << QStringList{QStringLiteral("private_key_jwt")} << -1;
    }
    void chooseAuthMethod()
    {
        QFETCH(QString, secret);
        QFETCH(bool, hasList);
        QFETCH(QStringList, serverMethods);
        QFETCH(int, expected);
        ClientRegistration c;
        c.clientId = kClientId;
        c.clientSecret = secret;
        const auto chosen = TokenClient::chooseAuthMethod(c, hasList ? std::optional(serverMethods)
                                                                     : std::optional<QStringList>());
        QCOMPARE(chosen ? int(*chosen) : -1, expected);
    }

    void secretsNeverReachLogsOrMessages()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        // A careless server that echoes what it was sent.
        server.route(QStringLiteral("/token"), [](const TestRequest &req) {
            const QString echo = QStringLiteral("bad request: ") + QString::fromUtf8(req.body);
            return tokenResponse({{"error", "invalid_request"}, {"error_description", echo.toStdString()}},
                                 400);
        });
        server.route(QStringLiteral("/revoke"), [](const TestRequest &req) {
            return tokenResponse(
                {{"error", "invalid_request"},
                 {"error_description",
                  "bad token " + req.form().queryItemValue(QStringLiteral("token")).toStdString()}},
                400);
        });
        QStringList messages;
        QStringList logs;
        {
            LogCapture capture;
            const ClientRegistration post = client(server, AuthMethod::ClientSecretPost);
            const QString code = QStringLiteral("CODEabcdef123456");
            const AuthServerMetadata as = metadata(server);
            auto r1 = wait<TokenSet>([&](TokenClient &t, QObject *ctx, TokenClient::TokenCallback done) {
                t.exchangeCode(as, post, code, kVerifier, kRedirect, kResource, {}, ctx, std::move(done));
            });
            QVERIFY(!r1.ok());
            messages << r1.error().message;
            auto r2 = refresh(server, post, currentTokens());
            QVERIFY(!r2.ok());
            messages << r2.error().message;
            auto r3 = revoke(as, post, QStringLiteral("REVOKEME-123456"));
            QVERIFY(!r3.ok());
            messages << r3.error().message;
            logs = capture.captured;
        }
        QVERIFY(!logs.isEmpty()); // the categories did log something
        const QString all =
            messages.join(QLatin1Char('\n')) + QLatin1Char('\n') + logs.join(QLatin1Char('\n'));
        for (const QString &secret : {QStringLiteral("CODEabcdef123456"), kVerifier, QStringLiteral("old-rt"),
                                      QStringLiteral("REVOKEME-123456"), QStringLiteral("s%2Be%26c")}) {
            QVERIFY2(!all.contains(secret), qPrintable(QStringLiteral("leaked: ") + secret));
        }
        QVERIFY2(messages.first().contains(QStringLiteral("[redacted]")), qPrintable(messages.first()));
    }
};

QTEST_GUILESS_MAIN(TestTokenClient)
#include "TestTokenClient.moc"
