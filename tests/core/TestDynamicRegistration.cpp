#include "TestHttpServer.h"
#include "common/Json.h"
#include "registration/DynamicRegistration.h"

#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

Q_DECLARE_METATYPE(mcpauth::ClientRegistration::AuthMethod)
Q_DECLARE_METATYPE(mcpauth::Error::Category)

namespace {
const QString kRedirect = QStringLiteral("http://127.0.0.1:5555/callback");
}

class TestDynamicRegistration : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    ManualClock clock{1'700'000'000};

    struct Outcome
    {
        int signalCount = 0;
        std::optional<Result<ClientRegistration>> result;
    };

    DynamicRegistration::Request request(const TestHttpServer &server) const
    {
        DynamicRegistration::Request r;
        r.registrationEndpoint = server.url(QStringLiteral("/register"));
        r.issuer = server.base();
        r.redirectUri = kRedirect;
        r.scope = QStringLiteral("mcp:read offline_access");
        return r;
    }

    Outcome run(const DynamicRegistration::Request &req, int timeoutMs = 5000,
                const std::function<void(DynamicRegistration &)> &afterStart = {})
    {
        HttpClient::Options options;
        options.timeoutMs = timeoutMs;
        DynamicRegistration flow(HttpClient(&nam, options), req, clock);
        QSignalSpy spy(&flow, &DynamicRegistration::finished);
        Outcome out;
        connect(&flow, &DynamicRegistration::finished, this,
                [&out](const Result<ClientRegistration> &r) { out.result.emplace(r); });
        flow.start();
        if (afterStart)
            afterStart(flow);
        (void)QTest::qWaitFor([&] { return out.result.has_value(); }, 10000);
        QTest::qWait(20); // a second emission would show up here
        out.signalCount = int(spy.count());
        if (!out.result)
            out.result.emplace(Error::internal(QStringLiteral("test: no result")));
        return out;
    }

    static TestResponse created(const Json &body) { return TestResponse::json(toBytes(body), 201); }

private Q_SLOTS:
    void sendsNativePublicClientMetadata()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"), [](const TestRequest &) {
            return created({{"client_id", "abc"}, {"token_endpoint_auth_method", "none"}});
        });
        const Outcome out = run(request(server));
        QVERIFY(out.result->ok());
        QCOMPARE(server.requests().size(), 1);
        const TestRequest &sent = server.requests().first();
        QCOMPARE(sent.method, QByteArray("POST"));
        QVERIFY(sent.header("Content-Type").startsWith("application/json"));

        const Json body = Json::parse(sent.body.toStdString());
        QCOMPARE(jsonString(body, "client_name"), QStringLiteral("MCP Auth Agent"));
        QCOMPARE(jsonStringList(body, "redirect_uris"), std::optional(QStringList{kRedirect}));
        QCOMPARE(jsonStringList(body, "grant_types"),
                 std::optional(
                     QStringList{QStringLiteral("authorization_code"), QStringLiteral("refresh_token")}));
        QCOMPARE(jsonStringList(body, "response_types"), std::optional(QStringList{QStringLiteral("code")}));
        QCOMPARE(jsonString(body, "token_endpoint_auth_method"), QStringLiteral("none"));
        QCOMPARE(jsonString(body, "application_type"), QStringLiteral("native"));
        QCOMPARE(jsonString(body, "scope"), QStringLiteral("mcp:read offline_access"));
        QCOMPARE(jsonString(body, "software_id"), QStringLiteral("mcp-auth-agent"));
        QCOMPARE(jsonString(body, "software_version"), QStringLiteral(MCPAUTH_VERSION));
        QVERIFY(!body.contains("client_uri"));
    }

    void omitsEmptyScope()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        DynamicRegistration::Request req = request(server);
        req.scope.clear();
        const Json body = Json::parse(DynamicRegistration::requestBody(req).toStdString());
        QVERIFY(!body.contains("scope"));
        QCOMPARE(jsonString(body, "application_type"), QStringLiteral("native"));
    }

    void fillsRegistration()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"), [](const TestRequest &) {
            return created({{"client_id", "abc"}, {"redirect_uris", Json::array({kRedirect.toStdString()})}});
        });
        const Outcome out = run(request(server));
        QCOMPARE(out.signalCount, 1);
        QVERIFY(out.result->ok());
        const ClientRegistration &reg = out.result->value();
        QCOMPARE(reg.clientId, QStringLiteral("abc"));
        QCOMPARE(reg.issuer, server.base());
        QCOMPARE(reg.source, ClientRegistration::Source::Dynamic);
        QCOMPARE(reg.registeredAt, clock.now());
        QCOMPARE(reg.redirectUri, kRedirect);
        QCOMPARE(reg.authMethod, ClientRegistration::AuthMethod::None);
        QVERIFY(reg.clientSecret.isEmpty());
    }

    void honoursReturnedAuthMethod_data()
    {
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<QStringList>("serverMethods"); // empty: the AS metadata has no list
        QTest::addColumn<ClientRegistration::AuthMethod>("method");
        QTest::addColumn<QString>("secret");
        QTest::addColumn<qint64>("secretExpiresAt");
        using M = ClientRegistration::AuthMethod;
        QTest::newRow("returned basic + secret")
            << toBytes({{"client_id", "c"},
                        {"client_secret", "s3cret"},
                        {"client_secret_expires_at", 1'900'000'000},
                        {"token_endpoint_auth_method", "client_secret_basic"}})
            << QStringList() << M::ClientSecretBasic << "s3cret" << qint64(1'900'000'000);
        QTest::newRow("returned post + secret")
            << toBytes({{"client_id", "c"},
                        {"client_secret", "s3cret"},
                        {"client_secret_expires_at", 0},
                        {"token_endpoint_auth_method", "client_secret_post"}})
            << QStringList() << M::ClientSecretPost << "s3cret" << qint64(0);
        QTest::newRow("returned none")
            << toBytes({{"client_id", "c"}, {"token_endpoint_auth_method", "none"}}) << QStringList()
            << M::None << "" << qint64(0);
        QTest::newRow("secret, no method -> basic")
            << toBytes({{"client_id", "c"}, {"client_secret", "s3cret"}}) << QStringList()
            << M::ClientSecretBasic << "s3cret" << qint64(0);
        QTest::newRow("secret, no method, server post only -> post")
            << toBytes({{"client_id", "c"}, {"client_secret", "s3cret"}})
            << QStringList{QStringLiteral("client_secret_post"), QStringLiteral("none")}
            << M::ClientSecretPost << "s3cret" << qint64(0);
        QTest::newRow("secret, no method, server both -> basic")
            << toBytes({{"client_id", "c"}, {"client_secret", "s3cret"}})
            << QStringList{QStringLiteral("client_secret_post"), QStringLiteral("client_secret_basic")}
            << M::ClientSecretBasic << "s3cret" << qint64(0);
        // A public client never uses a secret: one sent anyway is not kept (security.md §7).
        QTest::newRow("returned none + secret -> secret dropped")
            << toBytes({{"client_id", "c"},
                        {"client_secret", "unused"},
                        {"client_secret_expires_at", 1'900'000'000},
                        {"token_endpoint_auth_method", "none"}})
            << QStringList() << M::None << "" << qint64(0);
        QTest::newRow("no secret, no method -> none")
            << toBytes({{"client_id", "c"}}) << QStringList() << M::None << "" << qint64(0);
    }
    void honoursReturnedAuthMethod()
    {
        QFETCH(QByteArray, response);
        QFETCH(QStringList, serverMethods);
        QFETCH(ClientRegistration::AuthMethod, method);
        QFETCH(QString, secret);
        QFETCH(qint64, secretExpiresAt);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"),
                     [response](const TestRequest &) { return TestResponse::json(response, 201); });
        DynamicRegistration::Request req = request(server);
        if (!serverMethods.isEmpty())
            req.serverAuthMethods = serverMethods;
        const Outcome out = run(req);
        QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.result->error().message));
        QCOMPARE(out.result->value().authMethod, method);
        QCOMPARE(out.result->value().clientSecret, secret);
        QCOMPARE(out.result->value().clientSecretExpiresAt, secretExpiresAt);
    }

    void accepts200()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"), [](const TestRequest &) {
            return TestResponse::json(toBytes({{"client_id", "c"}}), 200);
        });
        QVERIFY(run(request(server)).result->ok());
    }

    void errors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Category>("category");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("messageContains");
        using C = Error::Category;
        QTest::newRow("no client_id")
            << 201 << toBytes({{"client_secret", "x"}}) << C::Protocol << "invalid_registration"
            << "registration response has no client_id";
        QTest::newRow("empty client_id")
            << 201 << toBytes({{"client_id", ""}}) << C::Protocol << "invalid_registration"
            << "no client_id";
        QTest::newRow("400 invalid_redirect_uri")
            << 400
            << toBytes({{"error", "invalid_redirect_uri"}, {"error_description", "loopback not allowed"}})
            << C::Protocol << "invalid_redirect_uri"
            << "loopback not allowed";
        QTest::newRow("400 invalid_client_metadata") << 400 << toBytes({{"error", "invalid_client_metadata"}})
                                                     << C::Protocol << "invalid_client_metadata"
                                                     << "refused";
        QTest::newRow("not JSON") << 201 << QByteArray("<html>hi</html>") << C::Protocol << "invalid_json"
                                  << "registration response";
        QTest::newRow("unknown method")
            << 201 << toBytes({{"client_id", "c"}, {"token_endpoint_auth_method", "private_key_jwt"}})
            << C::Protocol << "unsupported_auth_method"
            << "private_key_jwt";
        QTest::newRow("basic without secret")
            << 201 << toBytes({{"client_id", "c"}, {"token_endpoint_auth_method", "client_secret_basic"}})
            << C::Protocol << "invalid_registration"
            << "no client_secret";
        QTest::newRow("redirect changed")
            << 201
            << toBytes({{"client_id", "c"}, {"redirect_uris", Json::array({"https://evil.example.com/cb"})}})
            << C::Protocol << "redirect_rejected"
            << "redirect";
        QTest::newRow("500") << 500 << QByteArray("oops") << C::Protocol << "registration_failed"
                             << "HTTP 500";
        QTest::newRow("403 no body") << 403 << QByteArray() << C::Protocol << "registration_failed"
                                     << "HTTP 403";
    }
    void errors()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Category, category);
        QFETCH(QString, code);
        QFETCH(QString, messageContains);
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"),
                     [=](const TestRequest &) { return TestResponse::json(body, status); });
        const Outcome out = run(request(server));
        QCOMPARE(out.signalCount, 1);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().category, category);
        QCOMPARE(out.result->error().code, code);
        QVERIFY2(out.result->error().message.contains(messageContains),
                 qPrintable(out.result->error().message));
    }

    void errorDescriptionIsSanitised()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"), [](const TestRequest &) {
            return TestResponse::json(toBytes({{"error", "invalid_redirect_uri"},
                                               {"error_description", "bad\r\nINFO fake log line"}}),
                                      400);
        });
        const Outcome out = run(request(server));
        QVERIFY(!out.result->ok());
        QVERIFY(!out.result->error().message.contains(QLatin1Char('\n')));
        QVERIFY(!out.result->error().message.contains(QLatin1Char('\r')));
    }

    void networkTimeout()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const Outcome out = run(request(server), 300);
        QCOMPARE(out.signalCount, 1);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().category, Error::Category::Network);
        QCOMPARE(out.result->error().code, QStringLiteral("timeout"));
    }

    void connectionClosed()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::CloseImmediately;
            return r;
        });
        const Outcome out = run(request(server));
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().category, Error::Category::Network);
    }

    void refusesPlainHttpEndpoint()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        DynamicRegistration::Request req = request(server);
        req.registrationEndpoint = QUrl(QStringLiteral("http://as.example.com/register"));
        const Outcome out = run(req);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().category, Error::Category::Security);
    }

    void noEndpointIsConfigError()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        DynamicRegistration::Request req = request(server);
        req.registrationEndpoint = QUrl();
        const Outcome out = run(req);
        QCOMPARE(out.signalCount, 1);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().code, QStringLiteral("registration_unsupported"));
        QCOMPARE(server.requests().size(), 0);
    }

    void cancelEmitsOnce()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const Outcome out = run(request(server), 5000, [&](DynamicRegistration &flow) {
            QVERIFY(QTest::qWaitFor([&] { return server.requests().size() == 1; }, 5000));
            flow.cancel();
            QCOMPARE(flow.state(), DynamicRegistration::State::Finished);
            flow.cancel(); // a second cancel is a no-op
        });
        QCOMPARE(out.signalCount, 1);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.result->error().category, Error::Category::Cancelled);
    }

    void startTwiceSendsOnce()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/register"), [](const TestRequest &) {
            return created({{"client_id", "c"}});
        });
        const Outcome out = run(request(server), 5000, [](DynamicRegistration &flow) { flow.start(); });
        QVERIFY(out.result->ok());
        QCOMPARE(out.signalCount, 1);
        QCOMPARE(server.requests().size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestDynamicRegistration)
#include "TestDynamicRegistration.moc"
