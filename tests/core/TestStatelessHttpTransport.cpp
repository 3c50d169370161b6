#include "TestHttpServer.h"
#include "TransportRecorder.h"
#include "proxy/ModernWire.h"
#include "proxy/StatelessHttpTransport.h"

#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

Json body(const TestRequest &req)
{
    return Json::parse(req.body.constBegin(), req.body.constEnd(), nullptr, false);
}

Json modern(const Json &id, const char *method, Json params = Json::object())
{
    return ModernWire::stamp(
        Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}},
        Json::object(), Json{{"name", "host"}, {"version", "1"}}, QString());
}

QByteArray resultFor(const TestRequest &req, const Json &result)
{
    return toBytes(Json{{"jsonrpc", "2.0"}, {"id", body(req)["id"]}, {"result", result}});
}

QByteArray sseMessage(const Json &message)
{
    return "event: message\ndata: " + toBytes(message) + "\n\n";
}

} // namespace

// The 2026-07-28 stateless wire against an in-process server: headers from the body, errors
// relayed, SSE streams, cancellation by closing the stream, tool filtering and re-issue rules.
class TestStatelessHttpTransport : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    std::unique_ptr<TestHttpServer> server;
    std::unique_ptr<StatelessHttpTransport> transport;
    std::unique_ptr<TransportRecorder> rec;

private Q_SLOTS:
    void init()
    {
        server = std::make_unique<TestHttpServer>();
        QVERIFY(server->listen());
        transport = std::make_unique<StatelessHttpTransport>(&nam, server->url(QStringLiteral("/mcp")),
                                                             McpHttp::Headers{{"X-Extra", "1"}});
        transport->setAccessToken(QStringLiteral("tok"));
        rec = std::make_unique<TransportRecorder>(transport.get());
    }
    void cleanup()
    {
        rec.reset();
        transport.reset();
        server.reset();
    }

    void sendsTheHeadersTheBodyImplies()
    {
        server->setHandler([](const TestRequest &req) {
            const QString method = jsonString(body(req), "method");
            if (method == QLatin1String("tools/list"))
                return TestResponse::json(resultFor(
                    req,
                    {{"tools",
                      {{{"name", "weather"},
                        {"inputSchema",
                         {{"type", "object"},
                          {"properties", {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}}}}}}},
                       {{"name", "broken"},
                        {"inputSchema",
                         {{"type", "object"},
                          {"properties", {{"r", {{"type", "object"}, {"x-mcp-header", "R"}}}}}}}}}}}));
            return TestResponse::json(resultFor(req, {{"content", Json::array()}}));
        });
        transport->send(modern(1, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(1));
        // http-invalid-tool-headers: the tool with an invalid declaration never reaches the host.
        QCOMPARE(rec->messages[0]["result"]["tools"].size(), size_t(1));
        transport->send(
            modern("c", "tools/call", {{"name", "weather"}, {"arguments", {{"region", "eu-west"}}}}));
        QTRY_VERIFY(rec->hasResponse("c"));
        const TestRequest &call = server->requests().last();
        QCOMPARE(call.header("MCP-Protocol-Version"), QByteArray("2026-07-28"));
        QCOMPARE(call.header("Mcp-Method"), QByteArray("tools/call"));
        QCOMPARE(call.header("Mcp-Name"), QByteArray("weather"));
        QCOMPARE(call.header("Mcp-Param-Region"), QByteArray("eu-west"));
        QCOMPARE(call.header("Authorization"), QByteArray("Bearer tok"));
        QCOMPARE(call.header("X-Extra"), QByteArray("1"));
        QCOMPARE(call.header("Content-Type"), QByteArray("application/json"));
        QVERIFY(call.header("Accept").contains("text/event-stream"));
        QCOMPARE(call.header("Mcp-Session-Id"), QByteArray()); // no sessions on this wire
        QCOMPARE(transport->inFlight(), 0);
    }

    void relaysTheServersJsonRpcErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::newRow("400 -32022") << 400 << -32022;
        QTest::newRow("400 -32602") << 400 << -32602;
        QTest::newRow("404 -32601") << 404 << -32601;
        QTest::newRow("500 -32603") << 500 << -32603;
    }
    void relaysTheServersJsonRpcErrors()
    {
        QFETCH(int, status);
        QFETCH(int, code);
        server->setHandler([status, code](const TestRequest &) {
            // The server's own error, id null as a validation layer sends it before reading the id.
            return TestResponse::json(
                toBytes(
                    Json{{"jsonrpc", "2.0"},
                         {"id", nullptr},
                         {"error", {{"code", code}, {"message", "from the server"}, {"data", {{"k", 1}}}}}}),
                status);
        });
        transport->send(modern(5, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(5));
        QVERIFY(rec->messages[0]["error"]["code"] == Json(code));
        QVERIFY(rec->messages[0]["error"]["message"] == Json("from the server"));
        QVERIFY(rec->messages[0]["error"]["data"]["k"] == Json(1));
        QVERIFY(rec->failures.isEmpty());
    }

    void aBareStatusIsNotThisWire()
    {
        server->setHandler([](const TestRequest &) { return TestResponse::text("Bad Request", 400); });
        transport->send(modern(1, "server/discover"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("transport_unsupported"));
        server->setHandler([](const TestRequest &) { return TestResponse::text("down", 503); });
        transport->send(modern(2, "server/discover"));
        QTRY_COMPARE(rec->failures.size(), 2);
        QCOMPARE(rec->failureCode(1), QStringLiteral("server_error"));
    }

    void unauthorizedGoesToTheProxy()
    {
        server->setHandler([](const TestRequest &) {
            return TestResponse::text("", 401).withHeader("WWW-Authenticate", "Bearer scope=\"a b\"");
        });
        transport->send(modern(1, "tools/list"));
        QTRY_COMPARE(rec->auth.size(), 1);
        QCOMPARE(std::get<1>(rec->auth[0]), 401);
        QCOMPARE(std::get<2>(rec->auth[0]).scope, QStringLiteral("a b"));
        QVERIFY(std::get<0>(rec->auth[0])["id"] == Json(1));
    }

    void streamsNotificationsThenTheResponse()
    {
        server->setHandler([](const TestRequest &req) {
            const Json id = body(req)["id"];
            return TestResponse::sse(
                {{0, ": keep-alive\n\n"},
                 {10, sseMessage({{"jsonrpc", "2.0"},
                                  {"method", "notifications/progress"},
                                  {"params", {{"progressToken", 1}, {"progress", 0.5}}}})},
                 {10, sseMessage({{"jsonrpc", "2.0"}, {"id", "srv"}, {"method", "sampling/createMessage"}})},
                 {10, sseMessage({{"jsonrpc", "2.0"}, {"id", id}, {"result", {{"ok", true}}}})}},
                TestResponse::StreamEnd::KeepOpen);
        });
        transport->send(modern(9, "tools/call", {{"name", "t"}}));
        QTRY_VERIFY(rec->hasResponse(9));
        QCOMPARE(rec->messages.size(), 2); // the server's request on a response stream is dropped
        QCOMPARE(jsonString(rec->messages[0], "method"), QStringLiteral("notifications/progress"));
        // The response came: the stream is closed by us, not left to the server.
        QTRY_COMPARE(server->openStreamCount(), 0);
        QCOMPARE(transport->inFlight(), 0);
    }

    void cancellationClosesTheStream()
    {
        server->setHandler([](const TestRequest &) {
            return TestResponse::sse({{0, ": working\n\n"}}, TestResponse::StreamEnd::KeepOpen);
        });
        transport->send(modern(3, "tools/call", {{"name", "slow"}}));
        QTRY_COMPARE(server->openStreamCount(), 1);
        transport->send(
            Json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 3}}}});
        QTRY_COMPARE(server->openStreamCount(), 0);
        QCOMPARE(server->requests().size(), 1); // the notification is never POSTed
        QCOMPARE(transport->inFlight(), 0);
        QTest::qWait(50);
        QVERIFY(rec->messages.isEmpty());
        QVERIFY(rec->failures.isEmpty());
    }

    void aBrokenStreamReissuesReadOnlyRequestsOnly()
    {
        int posts = 0;
        server->setHandler([&posts](const TestRequest &req) {
            ++posts;
            if (posts == 1 || jsonString(body(req), "method") == QLatin1String("tools/call"))
                return TestResponse::sse({{0, ": x\n\n"}}, TestResponse::StreamEnd::Close);
            return TestResponse::json(resultFor(req, {{"tools", Json::array()}}));
        });
        transport->send(modern(1, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(1)); // re-issued under a new id, answered under the host's
        QCOMPARE(posts, 2);
        QVERIFY(body(server->requests()[1])["id"] != Json(1));
        transport->send(modern(2, "tools/call", {{"name", "t"}}));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("stream_broken"));
        QCOMPARE(posts, 3); // a tools/call is never sent twice
    }

    void aClosedConnectionResendsReadOnlyRequestsOnly()
    {
        int posts = 0;
        server->setHandler([&posts](const TestRequest &req) {
            TestResponse r = TestResponse::json(resultFor(req, {{"tools", Json::array()}}));
            if (++posts % 2 == 1)
                r.behaviour = TestResponse::Behaviour::CloseImmediately; // closed before any answer
            return r;
        });
        transport->send(modern(1, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(1));
        QCOMPARE(posts, 2);
        transport->send(modern(2, "tools/call", {{"name", "t"}}));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("connection_lost"));
        QCOMPARE(posts, 3); // never twice
    }

    void headerMismatchRefreshesTheToolsOnce()
    {
        int calls = 0;
        server->setHandler([&calls](const TestRequest &req) {
            const QString method = jsonString(body(req), "method");
            if (method == QLatin1String("tools/list"))
                return TestResponse::json(resultFor(
                    req, {{"tools",
                           {{{"name", "t"},
                             {"inputSchema",
                              {{"type", "object"},
                               {"properties", {{"r", {{"type", "string"}, {"x-mcp-header", "R"}}}}}}}}}}}));
            if (++calls == 1)
                return TestResponse::json(toBytes(Json{{"jsonrpc", "2.0"},
                                                       {"id", body(req)["id"]},
                                                       {"error", {{"code", -32020}, {"message", "m"}}}}),
                                          400);
            return TestResponse::json(resultFor(req, {{"seen", req.header("Mcp-Param-R").toStdString()}}));
        });
        transport->send(modern(4, "tools/call", {{"name", "t"}, {"arguments", {{"r", "x"}}}}));
        QTRY_VERIFY(rec->hasResponse(4));
        QCOMPARE(rec->messages.size(), 1); // our own tools/list is not the host's
        QVERIFY(rec->messages[0]["result"]["seen"] == Json("x"));
        QCOMPARE(calls, 2);
    }

    void closeSendsNothing()
    {
        QSignalSpy closed(transport.get(), &McpTransport::closed);
        transport->start();
        transport->close();
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(server->requests().size(), 0); // no DELETE
    }
};

QTEST_GUILESS_MAIN(TestStatelessHttpTransport)
#include "TestStatelessHttpTransport.moc"
