#include "TestHttpServer.h"
#include "TransportRecorder.h"
#include "proxy/LegacySseTransport.h"

#include <QNetworkAccessManager>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

Json body(const TestRequest &req)
{
    return Json::parse(req.body.constBegin(), req.body.constEnd(), nullptr, false);
}

Json request(int id, const char *method)
{
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", Json::object()}};
}

QByteArray sseMessage(const Json &message)
{
    return "event: message\ndata: " + toBytes(message) + "\n\n";
}

using Recorder = TransportRecorder;

} // namespace

class TestLegacySseTransport : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    std::unique_ptr<TestHttpServer> server;
    std::unique_ptr<LegacySseTransport> transport;
    std::unique_ptr<Recorder> rec;

    void makeTransport()
    {
        transport = std::make_unique<LegacySseTransport>(&nam, server->url(QStringLiteral("/sse")),
                                                         McpHttp::Headers{{"X-Team", "blue"}});
        transport->setTimeouts(5000, 5000);
        rec = std::make_unique<Recorder>(transport.get());
    }
    // A 2024-11-05 server: GET /sse announces /messages?sessionId=abc, POSTs get 202 and their
    // answers go out on the stream.
    void serveLegacy(const QByteArray &endpoint = "/messages?sessionId=abc")
    {
        server->route(QStringLiteral("/sse"), [endpoint](const TestRequest &) {
            return TestResponse::sse({{0, "event: endpoint\ndata: " + endpoint + "\n\n"}},
                                     TestResponse::StreamEnd::KeepOpen);
        });
        server->route(QStringLiteral("/messages"), [this](const TestRequest &req) {
            const Json msg = body(req);
            if (msg.contains("id"))
                server->writeToStream(
                    0, sseMessage(Json{{"jsonrpc", "2.0"}, {"id", msg["id"]}, {"result", Json::object()}}));
            return TestResponse::text("Accepted", 202);
        });
    }

private Q_SLOTS:
    void init()
    {
        server = std::make_unique<TestHttpServer>();
        QVERIFY(server->listen());
    }
    void cleanup()
    {
        transport.reset();
        rec.reset();
        server.reset();
    }

    void postsToAnnouncedEndpoint()
    {
        serveLegacy();
        makeTransport();
        transport->setAccessToken(QStringLiteral("tok"));
        transport->start();
        // Sent before the endpoint is known: waits for it.
        transport->send(request(1, "initialize"));
        QTRY_VERIFY(rec->messages.size() == 1);
        QVERIFY(rec->messages[0]["id"] == Json(1));
        QCOMPARE(transport->state(), LegacySseTransport::State::Open);
        QCOMPARE(transport->messageEndpoint(), server->url(QStringLiteral("/messages?sessionId=abc")));

        transport->send(request(2, "tools/list"));
        QTRY_COMPARE(rec->messages.size(), 2);
        const auto &reqs = server->requests();
        QCOMPARE(reqs.size(), 3);
        QCOMPARE(reqs[0].method, QByteArray("GET"));
        QCOMPARE(reqs[0].header("Accept"), QByteArray("text/event-stream"));
        for (const auto &r : reqs) {
            QCOMPARE(r.header("Authorization"), QByteArray("Bearer tok"));
            QCOMPARE(r.header("X-Team"), QByteArray("blue"));
        }
        QCOMPARE(reqs[1].method, QByteArray("POST"));
        QCOMPARE(reqs[1].path, QStringLiteral("/messages"));
        QCOMPARE(reqs[1].query.queryItemValue(QStringLiteral("sessionId")), QStringLiteral("abc"));
        QCOMPARE(reqs[1].header("Content-Type"), QByteArray("application/json"));
        QVERIFY(body(reqs[2]) == request(2, "tools/list"));
        QVERIFY(rec->failures.isEmpty());
    }

    void serverMessagesOnStream()
    {
        serveLegacy();
        makeTransport();
        transport->start();
        QTRY_COMPARE(transport->state(), LegacySseTransport::State::Open);
        QVERIFY(server->writeToStream(
            0, sseMessage(Json{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}})));
        QVERIFY(server->writeToStream(0, ": ping\n\nevent: other\ndata: ignored\n\n"));
        QVERIFY(server->writeToStream(
            0, sseMessage(Json{{"jsonrpc", "2.0"}, {"id", "r1"}, {"method", "roots/list"}})));
        QTRY_COMPARE(rec->messages.size(), 2);
        QCOMPARE(jsonString(rec->messages[0], "method"), QStringLiteral("notifications/tools/list_changed"));
        QCOMPARE(jsonString(rec->messages[1], "method"), QStringLiteral("roots/list"));
    }

    void absoluteSameOriginEndpoint()
    {
        serveLegacy(server->url(QStringLiteral("/other/post")).toEncoded());
        server->route(QStringLiteral("/other/post"),
                      [](const TestRequest &) { return TestResponse::text("", 202); });
        makeTransport();
        transport->start();
        QTRY_COMPARE(transport->state(), LegacySseTransport::State::Open);
        QCOMPARE(transport->messageEndpoint().path(), QStringLiteral("/other/post"));
    }

    void crossOriginEndpointRefused_data()
    {
        QTest::addColumn<QByteArray>("endpoint");
        QTest::newRow("other host") << QByteArray("https://evil.example/messages");
        QTest::newRow("other port") << QByteArray("http://127.0.0.1:1/messages");
        QTest::newRow("protocol-relative") << QByteArray("//evil.example/messages");
    }
    void crossOriginEndpointRefused()
    {
        QFETCH(QByteArray, endpoint);
        serveLegacy(endpoint);
        makeTransport();
        transport->start();
        transport->send(request(1, "initialize"));
        QTRY_COMPARE(rec->closed, 1);
        QCOMPARE(rec->failures.size(), 1);
        QVERIFY(rec->failures[0].first == request(1, "initialize"));
        QCOMPARE(rec->failures[0].second.code, QStringLiteral("cross_origin_endpoint"));
        QCOMPARE(rec->failures[0].second.category, Error::Category::Security);
        QCOMPARE(server->count(QStringLiteral("/messages")), 0); // nothing was posted anywhere
        QTRY_COMPARE(server->openStreamCount(), 0);
    }

    void unauthorizedStream()
    {
        int gets = 0;
        server->route(QStringLiteral("/sse"), [&](const TestRequest &req) {
            ++gets;
            if (req.header("Authorization") != "Bearer good")
                return TestResponse::text("", 401).withHeader(
                    "WWW-Authenticate",
                    "Bearer resource_metadata=\"https://rs.example/.well-known/oauth-protected-resource\"");
            return TestResponse::sse({{0, "event: endpoint\ndata: /messages\n\n"}},
                                     TestResponse::StreamEnd::KeepOpen);
        });
        makeTransport();
        transport->start();
        QTRY_COMPARE(rec->auth.size(), 1);
        QVERIFY(std::get<0>(rec->auth[0]).is_null());
        QCOMPARE(std::get<1>(rec->auth[0]), 401);
        QCOMPARE(std::get<2>(rec->auth[0]).resourceMetadata.toString(),
                 QStringLiteral("https://rs.example/.well-known/oauth-protected-resource"));
        QCOMPARE(transport->state(), LegacySseTransport::State::NeedsToken);
        QCOMPARE(rec->closed, 0);
        transport->setAccessToken(QStringLiteral("good"));
        QTRY_COMPARE(transport->state(), LegacySseTransport::State::Open);
        QCOMPARE(gets, 2);
    }

    void unauthorizedPost()
    {
        serveLegacy();
        server->route(QStringLiteral("/messages"), [](const TestRequest &) {
            return TestResponse::text("", 403).withHeader(
                "WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"admin\"");
        });
        makeTransport();
        transport->start();
        const Json msg = request(3, "tools/call");
        transport->send(msg);
        QTRY_COMPARE(rec->auth.size(), 1);
        QVERIFY(std::get<0>(rec->auth[0]) == msg);
        QCOMPARE(std::get<1>(rec->auth[0]), 403);
        QCOMPARE(std::get<2>(rec->auth[0]).scope, QStringLiteral("admin"));
        QCOMPARE(std::get<2>(rec->auth[0]).error, QStringLiteral("insufficient_scope"));
    }

    void postServerError()
    {
        serveLegacy();
        server->route(QStringLiteral("/messages"),
                      [](const TestRequest &) { return TestResponse::text("x", 500); });
        makeTransport();
        transport->start();
        transport->send(request(1, "tools/list"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failures[0].second.code, QStringLiteral("server_error"));
        QCOMPARE(rec->closed, 0);
    }

    void streamEndFailsOwedRequestsAndCloses()
    {
        serveLegacy();
        server->route(QStringLiteral("/messages"),
                      [](const TestRequest &) { return TestResponse::text("", 202); });
        makeTransport();
        transport->start();
        transport->send(request(1, "tools/call")); // accepted, never answered
        QTRY_COMPARE(server->count(QStringLiteral("/messages")), 1);
        QTest::qWait(50);
        server->endStream(0);
        QTRY_COMPARE(rec->closed, 1);
        QCOMPARE(rec->failures.size(), 1);
        QVERIFY(rec->failures[0].first["id"] == Json(1));
        QCOMPARE(rec->failures[0].second.code, QStringLiteral("stream_broken"));
    }

    void notLegacyServer()
    {
        server->route(QStringLiteral("/sse"),
                      [](const TestRequest &) { return TestResponse::text("no", 405); });
        makeTransport();
        transport->start();
        QTRY_COMPARE(rec->closed, 1);
        QCOMPARE(rec->failures.size(), 1);
        QVERIFY(rec->failures[0].first.is_null());
        QCOMPARE(rec->failures[0].second.code, QStringLiteral("transport_unsupported"));
    }

    void closeStopsStream()
    {
        serveLegacy();
        makeTransport();
        transport->start();
        QTRY_COMPARE(server->openStreamCount(), 1);
        transport->close();
        QTRY_COMPARE(rec->closed, 1);
        QTRY_COMPARE(server->openStreamCount(), 0);
        QVERIFY(rec->failures.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestLegacySseTransport)
#include "TestLegacySseTransport.moc"
