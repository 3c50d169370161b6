#include "TestHttpServer.h"
#include "net/HttpClient.h"
#include "net/UrlPolicy.h"

#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

class TestHttpClient : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    std::optional<Result<HttpResponse>> run(const HttpRequest &req, HttpClient::Options options = {})
    {
        HttpClient client(&nam, options);
        std::optional<Result<HttpResponse>> out;
        client.send(req, this, [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        if (!out)
            out.emplace(Error::internal(QStringLiteral("test: no callback within 10 s")));
        return out;
    }

private Q_SLOTS:
    void returnsNon2xxAsResponse()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/x"), [](const TestRequest &) {
            return TestResponse::text("nope", 401).withHeader("WWW-Authenticate", "Bearer realm=\"a\"");
        });
        auto r = run(HttpRequest::get(server.url(QStringLiteral("/x"))));
        QVERIFY(r->ok());
        QCOMPARE(r->value().status, 401);
        QCOMPARE(r->value().header("www-authenticate"), QByteArray("Bearer realm=\"a\""));
    }

    void capsResponseSize()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler(
            [](const TestRequest &) { return TestResponse::json(QByteArray(10 * 1024 * 1024, 'a')); });
        auto r = run(HttpRequest::get(server.url()));
        QVERIFY(!r->ok());
        QCOMPARE(r->error().code, QStringLiteral("response_too_large"));
    }

    void timesOutOnSilentServer()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &) {
            TestResponse resp;
            resp.behaviour = TestResponse::Behaviour::NeverAnswer;
            return resp;
        });
        HttpClient::Options options;
        options.timeoutMs = 500;
        auto r = run(HttpRequest::get(server.url()), options);
        QVERIFY(!r->ok());
        QCOMPARE(r->error().code, QStringLiteral("timeout"));
        QCOMPARE(r->error().category, Error::Category::Network);
    }

    void stopsRedirectLoop()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler([](const TestRequest &req) {
            return TestResponse::redirect(req.path == QLatin1String("/a") ? "/b" : "/a");
        });
        auto r = run(HttpRequest::get(server.url(QStringLiteral("/a"))));
        QVERIFY(!r->ok());
        QCOMPARE(r->error().code, QStringLiteral("redirect_loop"));
        QVERIFY(server.requests().size() <= 7);
    }

    void refusesPlainHttpToRemoteHost()
    {
        auto r = run(HttpRequest::get(QUrl(QStringLiteral("http://auth.example.com/.well-known/x"))));
        QVERIFY(!r->ok());
        QCOMPARE(r->error().category, Error::Category::Security);
        QCOMPARE(r->error().code, QStringLiteral("insecure_url"));
    }

    void refusesRedirectToPlainHttpRemote()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.setHandler(
            [](const TestRequest &) { return TestResponse::redirect("http://evil.example.com/x"); });
        auto r = run(HttpRequest::get(server.url()));
        QVERIFY(!r->ok());
        QCOMPARE(r->error().code, QStringLiteral("insecure_redirect"));
    }

    void secureEndpointPolicy_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("secure");
        QTest::newRow("https") << "https://as.example.com/token" << true;
        QTest::newRow("http-remote") << "http://as.example.com/token" << false;
        QTest::newRow("http-127") << "http://127.0.0.1:8080/token" << true;
        QTest::newRow("http-127.5") << "http://127.0.0.5/token" << true;
        QTest::newRow("http-localhost") << "http://localhost:9/token" << true;
        QTest::newRow("http-v6") << "http://[::1]:9/token" << true;
        QTest::newRow("http-10") << "http://10.0.0.1/token" << false;
        QTest::newRow("ftp") << "ftp://127.0.0.1/token" << false;
        QTest::newRow("relative") << "/token" << false;
    }
    void secureEndpointPolicy()
    {
        QFETCH(QString, url);
        QFETCH(bool, secure);
        QCOMPARE(isSecureEndpoint(QUrl(url)), secure);
    }
};

QTEST_GUILESS_MAIN(TestHttpClient)
#include "TestHttpClient.moc"
