#include "TestHttpServer.h"
#include "net/HttpClient.h"
#include "net/UrlPolicy.h"

#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <atomic>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

/// Streams a chunked (no Content-Length) 200 response of `total` bytes to each connection, one
/// 64 KiB chunk whenever the socket has drained, and counts what the OS accepted. Stops when the
/// client goes away. What the hostile e2e server does with its 10 MB document. Lives in a thread of
/// its own (see ThreadedStreamingServer), so it pushes data as fast as the client reads it, as a
/// real remote server would, while the client's event loop is busy.
class StreamingServer : public QObject
{
public:
    explicit StreamingServer(qint64 total) : m_total(total)
    {
        connect(m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server->nextPendingConnection()) {
                socket->setParent(this);
                auto request = std::make_shared<QByteArray>();
                auto sent = std::make_shared<qint64>(-1); // body bytes queued; -1: headers not sent yet
                connect(socket, &QTcpSocket::readyRead, this, [this, socket, request, sent] {
                    request->append(socket->readAll());
                    if (*sent < 0 && request->contains("\r\n\r\n")) {
                        socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
                        *sent = 0;
                    }
                });
                connect(socket, &QTcpSocket::bytesWritten, this, [this, socket, sent](qint64 n) {
                    m_written += n;
                    pump(socket, *sent);
                });
            }
        });
    }
    bool listen() { return m_server->listen(QHostAddress::LocalHost); }
    quint16 port() const { return m_server->serverPort(); }
    qint64 written() const { return m_written; }

private:
    // Queues the next chunk once the previous one reached the OS, so `written` follows the client.
    void pump(QTcpSocket *socket, qint64 &sent)
    {
        static const QByteArray chunk(64 * 1024, 'a');
        if (sent < 0 || socket->bytesToWrite() > 0 || socket->state() != QAbstractSocket::ConnectedState)
            return;
        if (sent >= m_total) {
            socket->write("0\r\n\r\n");
            socket->disconnectFromHost();
            sent = -2; // done; -2 < 0 stops further pumping
            return;
        }
        const QByteArray part = chunk.left(qsizetype(std::min<qint64>(chunk.size(), m_total - sent)));
        sent += part.size();
        socket->write(QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n");
    }

    QTcpServer *m_server = new QTcpServer(this);
    qint64 m_total;
    std::atomic<qint64> m_written = 0;
};

/// A StreamingServer running in its own thread for the lifetime of this object.
class ThreadedStreamingServer
{
public:
    explicit ThreadedStreamingServer(qint64 total) : m_server(new StreamingServer(total))
    {
        m_server->moveToThread(&m_thread);
        m_thread.start();
    }
    ~ThreadedStreamingServer()
    {
        QMetaObject::invokeMethod(
            m_server, [s = m_server] { delete s; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    bool listen()
    {
        bool ok = false;
        QMetaObject::invokeMethod(
            m_server, [&] { ok = m_server->listen(); }, Qt::BlockingQueuedConnection);
        m_port = m_server->port();
        return ok;
    }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/doc").arg(m_port)); }
    qint64 written() const { return m_server->written(); }

private:
    QThread m_thread;
    StreamingServer *m_server;
    quint16 m_port = 0;
};

} // namespace

class TestHttpClient : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    std::optional<Result<HttpResponse>> run(const HttpRequest &req, HttpClient::Options options = {})
    {
        HttpClient client(&nam, options);
        std::optional<Result<HttpResponse>> out;
        QObject context; // a late callback (after a test gave up) must not write into a dead `out`
        client.send(req, &context, [&](Result<HttpResponse> r) { out.emplace(std::move(r)); });
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

    // A streamed body without Content-Length is only known to be too large while it arrives: the
    // client must stop reading near the cap, not buffer whatever the server manages to push
    // before the abort (the e2e "10 MB response" scenario found the agent holding all of it).
    void capsStreamedResponseWithoutLength()
    {
        ThreadedStreamingServer server(256LL * 1024 * 1024);
        QVERIFY(server.listen());
        HttpClient::Options options;
        options.maxBodyBytes = 1024 * 1024;
        auto r = run(HttpRequest::get(server.url()), options);
        QVERIFY(!r->ok());
        QVERIFY2(r->error().code == QStringLiteral("response_too_large"), qPrintable(r->error().message));
        // 1 MiB read, plus what the kernel's socket buffers hold (about 4 MiB on Linux loopback).
        // Without back-pressure the client took 20 to 256 MiB here before the abort.
        QVERIFY2(server.written() < 12LL * 1024 * 1024,
                 qPrintable(QStringLiteral("the server got %1 bytes out").arg(server.written())));
    }

    void capIsExactForStreamedBodies_data()
    {
        QTest::addColumn<qint64>("size");
        QTest::addColumn<bool>("ok");
        constexpr qint64 cap = 200 * 1024;
        QTest::newRow("below") << cap - 1 << true;
        QTest::newRow("at") << cap << true;
        QTest::newRow("above") << cap + 1 << false;
        QTest::newRow("far-above") << 4 * cap << false;
    }
    void capIsExactForStreamedBodies()
    {
        QFETCH(qint64, size);
        QFETCH(bool, ok);
        ThreadedStreamingServer server(size);
        QVERIFY(server.listen());
        HttpClient::Options options;
        options.maxBodyBytes = 200 * 1024;
        auto r = run(HttpRequest::get(server.url()), options);
        QVERIFY2(r->ok() == ok, r->ok() ? "ok" : qPrintable(r->error().message));
        if (ok)
            QCOMPARE(r->value().body.size(), size);
        else
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

    // RFC 9110 §9.2.2: a POST is never sent again behind our back. For a refresh request that would
    // present a rotated refresh token twice, and the authorization server would revoke the grant.
    void postCutBeforeAnswerIsNotResent()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        server.route(QStringLiteral("/token"), [](const TestRequest &) {
            TestResponse resp;
            resp.behaviour = TestResponse::Behaviour::CloseImmediately;
            return resp;
        });
        auto r = run(HttpRequest::postForm(server.url(QStringLiteral("/token")), "grant_type=refresh_token"));
        QVERIFY(!r->ok());
        QCOMPARE(r->error().category, Error::Category::Network);
        QTest::qWait(200); // a resend would arrive right after the cut
        QCOMPARE(server.count(QStringLiteral("/token")), 1);
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
