#include "TestHttpServer.h"
#include "TransportRecorder.h"
#include "proxy/StreamableHttpTransport.h"

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QTest>
#include <QTimer>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

Json body(const TestRequest &req)
{
    return Json::parse(req.body.constBegin(), req.body.constEnd(), nullptr, false);
}

QString method(const TestRequest &req)
{
    return jsonString(body(req), "method");
}

QByteArray result(const TestRequest &req, const Json &result)
{
    return toBytes(Json{{"jsonrpc", "2.0"}, {"id", body(req)["id"]}, {"result", result}});
}

QByteArray sseMessage(const Json &message, const QByteArray &id = {})
{
    QByteArray out = "event: message\n";
    if (!id.isEmpty())
        out += "id: " + id + "\n";
    return out + "data: " + toBytes(message) + "\n\n";
}

Json request(int id, const char *method, Json params = Json::object())
{
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

Json notification(const char *method)
{
    return Json{{"jsonrpc", "2.0"}, {"method", method}};
}

// A minimal Streamable HTTP MCP server: initialize assigns a session, notifications get 202, the GET
// stream is refused with 405, DELETE succeeds, other requests get `{}` as JSON. Tests override pieces.
TestResponse defaultServer(const TestRequest &req)
{
    if (req.method == "GET")
        return TestResponse::text("no stream", 405);
    if (req.method == "DELETE")
        return TestResponse::text("", 200);
    const Json msg = body(req);
    if (!msg.contains("id"))
        return TestResponse::text("", 202);
    if (method(req) == QLatin1String("initialize"))
        return TestResponse::json(result(req, {{"protocolVersion", "2025-11-25"},
                                               {"capabilities", Json::object()},
                                               {"serverInfo", {{"name", "test"}, {"version", "1"}}}}))
            .withHeader("Mcp-Session-Id", "sess-1");
    return TestResponse::json(result(req, Json::object()));
}

using Recorder = TransportRecorder;

} // namespace

class TestStreamableHttpTransport : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager nam;
    std::unique_ptr<TestHttpServer> server;
    std::unique_ptr<StreamableHttpTransport> transport;
    std::unique_ptr<Recorder> rec;

    void makeTransport(McpHttp::Headers headers = {})
    {
        transport = std::make_unique<StreamableHttpTransport>(&nam, server->url(QStringLiteral("/mcp")),
                                                              std::move(headers));
        StreamableHttpTransport::Options o;
        o.defaultRetryMs = 50;
        o.connectTimeoutMs = 5000;
        o.requestTimeoutMs = 5000;
        transport->setOptions(o);
        rec = std::make_unique<Recorder>(transport.get());
        transport->start();
    }
    // initialize + initialized, as a host does first.
    bool handshake()
    {
        transport->send(request(1, "initialize", {{"protocolVersion", "2025-11-25"}}));
        if (!QTest::qWaitFor([&] { return rec->hasResponse(1); }, 5000))
            return false;
        transport->send(notification("notifications/initialized"));
        return QTest::qWaitFor([&] { return server->count(QStringLiteral("/mcp")) >= 2; }, 5000);
    }
    QList<TestRequest> requestsWith(const QByteArray &httpMethod) const
    {
        QList<TestRequest> out;
        for (const auto &r : server->requests())
            if (r.method == httpMethod)
                out << r;
        return out;
    }

private Q_SLOTS:
    void init()
    {
        server = std::make_unique<TestHttpServer>();
        QVERIFY(server->listen());
        server->setHandler(defaultServer);
    }
    void cleanup()
    {
        transport.reset();
        rec.reset();
        server.reset();
    }

    void headersOnEveryRequest()
    {
        makeTransport({{"X-Team", "blue"}});
        transport->setAccessToken(QStringLiteral("tok-123"));
        QVERIFY(handshake());
        transport->send(request(2, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(2));
        QTRY_COMPARE(requestsWith("GET").size(), 1);

        const auto posts = requestsWith("POST");
        QCOMPARE(posts.size(), 3);
        for (const auto &r : posts) {
            QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
            QCOMPARE(r.header("Accept"), QByteArray("application/json, text/event-stream"));
            QCOMPARE(r.header("Authorization"), QByteArray("Bearer tok-123"));
            QCOMPARE(r.header("X-Team"), QByteArray("blue"));
        }
        // initialize goes without session and version; everything after carries both.
        QCOMPARE(posts[0].header("Mcp-Session-Id"), QByteArray());
        QCOMPARE(posts[0].header("MCP-Protocol-Version"), QByteArray());
        for (const auto &r : posts.mid(1) + requestsWith("GET")) {
            QCOMPARE(r.header("Mcp-Session-Id"), QByteArray("sess-1"));
            QCOMPARE(r.header("MCP-Protocol-Version"), QByteArray("2025-11-25"));
        }
        const TestRequest get = requestsWith("GET").first();
        QCOMPARE(get.header("Accept"), QByteArray("text/event-stream"));
        QCOMPARE(get.header("Authorization"), QByteArray("Bearer tok-123"));
        QCOMPARE(transport->sessionId(), QStringLiteral("sess-1"));
        QCOMPARE(transport->protocolVersion(), QStringLiteral("2025-11-25"));
        QVERIFY(rec->failures.isEmpty());
    }

    void noAuthorizationWithoutToken()
    {
        makeTransport();
        transport->send(request(1, "initialize"));
        QTRY_VERIFY(rec->hasResponse(1));
        QCOMPARE(server->requests().first().header("Authorization"), QByteArray());
    }

    void tokenChangeAppliesToNextRequest()
    {
        makeTransport();
        transport->setAccessToken(QStringLiteral("old"));
        QVERIFY(handshake());
        transport->setAccessToken(QStringLiteral("new"));
        transport->send(request(2, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(2));
        QCOMPARE(requestsWith("POST").last().header("Authorization"), QByteArray("Bearer new"));
    }

    void jsonBatchResponse()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            const Json note = {
                {"jsonrpc", "2.0"}, {"method", "notifications/message"}, {"params", {{"level", "info"}}}};
            return TestResponse::json("[" + toBytes(note) + "," + result(req, {{"ok", true}}) + "]");
        });
        transport->send(request(7, "tools/list"));
        QTRY_COMPARE(rec->messages.size(), 2);
        QCOMPARE(jsonString(rec->messages[0], "method"), QStringLiteral("notifications/message"));
        QVERIFY(rec->hasResponse(7));
        QVERIFY(rec->failures.isEmpty());
    }

    void sseResponseWithServerRequestFirst()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            const Json sampling = {{"jsonrpc", "2.0"}, {"id", "s1"}, {"method", "sampling/createMessage"}};
            const Json progress = {{"jsonrpc", "2.0"}, {"method", "notifications/progress"}};
            return TestResponse::sse(
                {{0, sseMessage(sampling)},
                 {20, ": keep-alive\n\n" + sseMessage(progress)},
                 {20, sseMessage(Json::parse(result(req, {{"content", Json::array()}})))}});
        });
        transport->send(request(3, "tools/call"));
        QTRY_COMPARE(rec->messages.size(), 3);
        QCOMPARE(jsonString(rec->messages[0], "method"), QStringLiteral("sampling/createMessage"));
        QCOMPARE(jsonString(rec->messages[1], "method"), QStringLiteral("notifications/progress"));
        QVERIFY(rec->hasResponse(3));
        QVERIFY(rec->failures.isEmpty());
    }

    void acceptedNotificationIsQuiet()
    {
        makeTransport();
        transport->send(notification("notifications/cancelled"));
        QTRY_COMPARE(server->requests().size(), 1);
        QTest::qWait(100);
        QVERIFY(rec->messages.isEmpty());
        QVERIFY(rec->failures.isEmpty());
        QCOMPARE(requestsWith("GET").size(), 0); // only notifications/initialized opens the GET stream
    }

    void unauthorizedGivesChallenge_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QString>("metadata");
        QTest::addColumn<QString>("scope");
        QTest::addColumn<QString>("error");
        QTest::newRow("401 with resource_metadata")
            << 401
            << QByteArray(
                   "Bearer resource_metadata=\"https://rs.example/.well-known/oauth-protected-resource\", "
                   "scope=\"a b\"")
            << QStringLiteral("https://rs.example/.well-known/oauth-protected-resource")
            << QStringLiteral("a b") << QString();
        QTest::newRow("403 insufficient_scope")
            << 403 << QByteArray("Bearer error=\"insufficient_scope\", scope=\"files:write\"") << QString()
            << QStringLiteral("files:write") << QStringLiteral("insufficient_scope");
        QTest::newRow("401 without header") << 401 << QByteArray() << QString() << QString() << QString();
    }
    void unauthorizedGivesChallenge()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, header);
        makeTransport();
        server->setHandler([&](const TestRequest &) {
            TestResponse r = TestResponse::json("{\"error\":\"invalid_token\"}", status);
            if (!header.isEmpty())
                r.withHeader("WWW-Authenticate", header);
            return r;
        });
        const Json msg = request(4, "tools/call");
        transport->send(msg);
        QTRY_COMPARE(rec->auth.size(), 1);
        const auto &[message, httpStatus, challenge] = rec->auth.first();
        QVERIFY(message == msg);
        QCOMPARE(httpStatus, status);
        QTEST(challenge.resourceMetadata.toString(), "metadata");
        QTEST(challenge.scope, "scope");
        QTEST(challenge.error, "error");
        QVERIFY(rec->failures.isEmpty());
        QVERIFY(rec->messages.isEmpty());
    }

    void serverErrorThenKeepsServing()
    {
        makeTransport();
        QVERIFY(handshake());
        int calls = 0;
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "POST" && ++calls == 1)
                return TestResponse::text("boom", 500);
            return defaultServer(req);
        });
        transport->send(request(5, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("server_error"));
        QVERIFY(rec->failures[0].first["id"] == Json(5));
        transport->send(request(6, "tools/call"));
        QTRY_VERIFY(rec->hasResponse(6));
        QCOMPARE(rec->failures.size(), 1);
    }

    // RFC 9110 §9.2.2: a POST is not idempotent, so a connection cut before any answer is an error
    // for that message, never a silent second delivery (Qt resends such requests on its own; the e2e
    // proxy test saw a tools/call run twice).
    void connectionCutBeforeAnswerIsNotResent()
    {
        makeTransport();
        QVERIFY(handshake());
        int cuts = 0;
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "POST" && method(req) == QLatin1String("tools/call") &&
                body(req)["id"] == Json(7)) {
                ++cuts;
                TestResponse r;
                r.behaviour = TestResponse::Behaviour::CloseImmediately;
                return r;
            }
            return defaultServer(req);
        });
        transport->send(request(7, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QVERIFY(rec->failures[0].first["id"] == Json(7));
        QCOMPARE(rec->failureCode(), QStringLiteral("connection_lost"));
        transport->send(request(8, "tools/call"));
        QTRY_VERIFY(rec->hasResponse(8));
        QCOMPARE(cuts, 1);
        QCOMPARE(rec->failures.size(), 1);
    }

    // POSTs follow no redirect by themselves (see above); same-origin 307/308 are followed by the
    // transport with the same body, others fail the message (the token stays at its origin).
    void postRedirects_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("location");
        QTest::addColumn<bool>("followed");
        QTest::newRow("307 same origin") << 307 << QStringLiteral("/mcp/") << true;
        QTest::newRow("308 same origin") << 308 << QStringLiteral("/mcp/") << true;
        QTest::newRow("307 other origin") << 307 << QStringLiteral("http://localhost:1/mcp") << false;
        QTest::newRow("302") << 302 << QStringLiteral("/mcp/") << false;
    }
    void postRedirects()
    {
        QFETCH(int, status);
        QFETCH(QString, location);
        QFETCH(bool, followed);
        makeTransport();
        QVERIFY(handshake());
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "POST" && req.path == QLatin1String("/mcp") && body(req)["id"] == Json(9))
                return TestResponse::redirect(location.toUtf8(), status);
            return defaultServer(req);
        });
        transport->send(request(9, "tools/call", {{"name", "x"}}));
        if (!followed) {
            QTRY_COMPARE(rec->failures.size(), 1);
            QCOMPARE(rec->failureCode(), QStringLiteral("http_error"));
            QCOMPARE(server->count(QStringLiteral("/mcp/")), 0);
            return;
        }
        QTRY_VERIFY(rec->hasResponse(9));
        QVERIFY(rec->failures.isEmpty());
        QCOMPARE(server->count(QStringLiteral("/mcp/")), 1);
        const TestRequest again = server->requests().last();
        QCOMPARE(again.path, QStringLiteral("/mcp/"));
        QVERIFY(body(again) == request(9, "tools/call", {{"name", "x"}}));
        QCOMPARE(again.header("Mcp-Session-Id"), QByteArray("sess-1"));
    }

    void malformedJsonThenKeepsServing_data()
    {
        QTest::addColumn<bool>("sse");
        QTest::newRow("json body") << false;
        QTest::newRow("sse data line") << true;
    }
    void malformedJsonThenKeepsServing()
    {
        QFETCH(bool, sse);
        makeTransport();
        int calls = 0;
        server->setHandler([&](const TestRequest &req) {
            if (++calls == 1)
                return sse ? TestResponse::sse({{0, "event: message\ndata: {\"jsonrpc\": 2.0, oops\n\n"}})
                           : TestResponse::json("{\"jsonrpc\": \"2.0\", \"id\": 1, oops");
            return defaultServer(req);
        });
        transport->send(request(1, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("malformed_response"));
        transport->send(request(2, "tools/call"));
        QTRY_VERIFY(rec->hasResponse(2));
        QCOMPARE(rec->failures.size(), 1);
        QVERIFY(!rec->hasResponse(1));
    }

    void okWithoutResponseIsMalformed()
    {
        makeTransport();
        server->setHandler([](const TestRequest &) { return TestResponse::text("", 200); });
        transport->send(request(1, "tools/list"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("malformed_response"));
    }

    void resumesDroppedStreamWithLastEventId()
    {
        makeTransport();
        QVERIFY(handshake());
        QElapsedTimer clock;
        qint64 droppedAt = -1, resumedAt = -1;
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "POST" && method(req) == QLatin1String("tools/call")) {
                const Json progress = {{"jsonrpc", "2.0"}, {"method", "notifications/progress"}};
                TestResponse r = TestResponse::sse(
                    {{0, "id: e1\nretry: 300\ndata: \n\n"}, {10, sseMessage(progress, "e2")}, {50, {}}},
                    TestResponse::StreamEnd::Abort);
                QTimer::singleShot(60, this, [&] { droppedAt = clock.elapsed(); });
                return r;
            }
            if (req.method == "GET" && req.header("Last-Event-ID") == "e2") {
                resumedAt = clock.elapsed();
                return TestResponse::sse(
                    {{0, sseMessage(Json{{"jsonrpc", "2.0"}, {"id", 9}, {"result", Json::object()}}, "e3")}});
            }
            return defaultServer(req);
        });
        clock.start();
        transport->send(request(9, "tools/call"));
        QTRY_VERIFY(rec->hasResponse(9));
        QVERIFY(rec->failures.isEmpty());
        QCOMPARE(rec->messages.size(), 3); // initialize result, progress, the tools/call response
        QVERIFY(droppedAt >= 0 && resumedAt >= 0);
        QVERIFY2(resumedAt - droppedAt >= 250,
                 qPrintable(QStringLiteral("resumed after %1 ms").arg(resumedAt - droppedAt)));
        const auto gets = requestsWith("GET");
        QVERIFY(std::any_of(gets.cbegin(), gets.cend(), [](const TestRequest &r) {
            return r.header("Last-Event-ID") == "e2" && r.header("Mcp-Session-Id") == "sess-1";
        }));
    }

    void droppedStreamWithoutIdsFails()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            if (req.method == "POST")
                return TestResponse::sse(
                    {{0, sseMessage(Json{{"jsonrpc", "2.0"}, {"method", "notifications/progress"}})},
                     {50, {}}},
                    TestResponse::StreamEnd::Abort);
            return defaultServer(req);
        });
        transport->send(request(1, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("stream_broken"));
        QCOMPARE(requestsWith("GET").size(), 0);
    }

    void cleanEndWithoutResponseFails()
    {
        makeTransport();
        server->setHandler([](const TestRequest &) { return TestResponse::sse({{0, ": nothing\n\n"}}); });
        transport->send(request(1, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("stream_broken"));
    }

    void resumeGivesUpAfterAttempts()
    {
        makeTransport();
        server->setHandler([](const TestRequest &) {
            return TestResponse::sse({{0, "id: x\nretry: 10\ndata: \n\n"}, {20, {}}},
                                     TestResponse::StreamEnd::Abort);
        });
        transport->send(request(1, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("stream_broken"));
        QCOMPARE(requestsWith("GET").size(), transport->options().maxResumeAttempts);
    }

    void getStream405Tolerated()
    {
        makeTransport();
        QVERIFY(handshake());
        QTRY_COMPARE(requestsWith("GET").size(), 1);
        transport->send(request(2, "tools/list"));
        QTRY_VERIFY(rec->hasResponse(2));
        QTest::qWait(200);
        QCOMPARE(requestsWith("GET").size(), 1); // no retry after 405
        QVERIFY(rec->failures.isEmpty());
        QVERIFY(!transport->isListening());
    }

    void serverInitiatedMessagesOverGet()
    {
        makeTransport();
        int gets = 0;
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "GET") {
                ++gets;
                if (gets == 1)
                    return TestResponse::sse(
                        {{0, "retry: 100\n\n" +
                                 sseMessage(notification("notifications/tools/list_changed"), "g1")}},
                        TestResponse::StreamEnd::KeepOpen);
                return TestResponse::sse({}, TestResponse::StreamEnd::KeepOpen);
            }
            return defaultServer(req);
        });
        QVERIFY(handshake());
        QTRY_COMPARE(rec->messages.size(), 2);
        QCOMPARE(jsonString(rec->messages[1], "method"), QStringLiteral("notifications/tools/list_changed"));
        QTRY_VERIFY(transport->isListening());
        QVERIFY(server->writeToStream(0, sseMessage(request(77, "roots/list"), "g2")));
        QTRY_COMPARE(rec->messages.size(), 3);
        QVERIFY(rec->messages[2]["id"] == Json(77));

        // The server ends the stream: the transport reconnects after `retry:` with the last id.
        server->endStream(0);
        QTRY_COMPARE(requestsWith("GET").size(), 2);
        QCOMPARE(requestsWith("GET").last().header("Last-Event-ID"), QByteArray("g2"));
        QVERIFY(rec->failures.isEmpty());
    }

    void listenReconnectHonoursRetry()
    {
        // The conformance suite's sse-retry scenario (SEP-1699): priming event with an id, `retry:`
        // and empty data, the stream closes after 100 ms; the next GET must come `retry` ms later
        // (50 ms early / 200 ms late tolerated there) and carry Last-Event-ID.
        makeTransport();
        QElapsedTimer clock;
        clock.start();
        QList<qint64> getTimes;
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "GET") {
                getTimes << clock.elapsed();
                return TestResponse::sse(
                    {{0, "id: ev-" + QByteArray::number(getTimes.size()) + "\nretry: 400\ndata: \n\n"},
                     {100, {}}});
            }
            return defaultServer(req);
        });
        QVERIFY(handshake());
        QTRY_COMPARE(getTimes.size(), 2);
        const qint64 gap = getTimes[1] - getTimes[0];
        QVERIFY2(gap >= 450 && gap <= 700, qPrintable(QStringLiteral("second GET after %1 ms").arg(gap)));
        QCOMPARE(requestsWith("GET")[1].header("Last-Event-ID"), QByteArray("ev-1"));
        QVERIFY(rec->failures.isEmpty());
        QCOMPARE(rec->messages.size(), 1); // the priming events are not messages
    }

    void getStreamUnauthorizedWaitsForToken()
    {
        makeTransport();
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "GET")
                return req.header("Authorization") == "Bearer fresh"
                           ? TestResponse::sse({}, TestResponse::StreamEnd::KeepOpen)
                           : TestResponse::text("", 401).withHeader("WWW-Authenticate",
                                                                    "Bearer error=\"invalid_token\"");
            return defaultServer(req);
        });
        QVERIFY(handshake());
        QTRY_COMPARE(rec->auth.size(), 1);
        QVERIFY(std::get<0>(rec->auth.first()).is_null());
        QCOMPARE(std::get<1>(rec->auth.first()), 401);
        transport->setAccessToken(QStringLiteral("fresh"));
        QTRY_VERIFY(transport->isListening());
        QCOMPARE(requestsWith("GET").size(), 2);
    }

    void concurrentRequests()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            const bool slow = body(req)["id"] == Json(1);
            return TestResponse::sse(
                {{slow ? 300 : 0, sseMessage(Json::parse(result(req, Json::object())))}});
        });
        transport->send(request(1, "tools/call"));
        transport->send(request(2, "tools/call"));
        QTRY_COMPARE(rec->messages.size(), 2);
        QVERIFY(rec->messages[0]["id"] == Json(2)); // the fast one did not wait for the slow one
        QVERIFY(rec->messages[1]["id"] == Json(1));
    }

    void deleteOnClose_data()
    {
        QTest::addColumn<int>("deleteStatus");
        QTest::newRow("200") << 200;
        QTest::newRow("405 ignored") << 405;
    }
    void deleteOnClose()
    {
        QFETCH(int, deleteStatus);
        makeTransport();
        transport->setAccessToken(QStringLiteral("tok"));
        server->setHandler([&](const TestRequest &req) {
            if (req.method == "DELETE")
                return TestResponse::text("", deleteStatus);
            return defaultServer(req);
        });
        QVERIFY(handshake());
        transport->close();
        QTRY_COMPARE(rec->closed, 1);
        const auto deletes = requestsWith("DELETE");
        QCOMPARE(deletes.size(), 1);
        QCOMPARE(deletes[0].header("Mcp-Session-Id"), QByteArray("sess-1"));
        QCOMPARE(deletes[0].header("Authorization"), QByteArray("Bearer tok"));
        transport->close();
        QTest::qWait(50);
        QCOMPARE(rec->closed, 1);
        transport->send(request(9, "tools/list")); // after close: failed, not sent
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("cancelled"));
        QCOMPARE(requestsWith("POST").size(), 2);
    }

    void closeWithoutSessionSendsNoDelete()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            if (req.method == "POST" && !body(req).contains("id"))
                return TestResponse::text("", 202);
            return TestResponse::json(
                result(req, {{"protocolVersion", "2025-11-25"}})); // stateless: no session
        });
        QVERIFY(handshake());
        transport->close();
        QTRY_COMPARE(rec->closed, 1);
        QCOMPARE(requestsWith("DELETE").size(), 0);
    }

    void closeAbortsOpenStreams()
    {
        makeTransport();
        server->setHandler([](const TestRequest &req) {
            if (req.method == "POST" && method(req) == QLatin1String("tools/call"))
                return TestResponse::sse({}, TestResponse::StreamEnd::KeepOpen);
            return defaultServer(req);
        });
        QVERIFY(handshake());
        transport->send(request(5, "tools/call"));
        QTRY_COMPARE(server->openStreamCount(), 1);
        transport->close();
        QTRY_COMPARE(rec->closed, 1);
        QTRY_COMPARE(server->openStreamCount(), 0);
        QVERIFY(rec->failures.isEmpty()); // shutting down is not a failure to report
    }

    void firstPostUnsupported_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("404") << 404;
        QTest::newRow("405") << 405;
        QTest::newRow("400") << 400;
    }
    void firstPostUnsupported()
    {
        QFETCH(int, status);
        makeTransport();
        server->setHandler([&](const TestRequest &) { return TestResponse::text("nope", status); });
        transport->send(request(1, "initialize"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("transport_unsupported"));
    }

    void sessionExpired()
    {
        makeTransport();
        QVERIFY(handshake());
        server->setHandler([](const TestRequest &req) {
            if (!req.header("Mcp-Session-Id").isEmpty())
                return TestResponse::text("unknown session", 404);
            return defaultServer(req);
        });
        transport->send(request(2, "tools/list"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("session_expired"));
        QCOMPARE(transport->sessionId(), QString());
        // The proxy starts over: the new initialize goes without the old session.
        transport->send(request(3, "initialize"));
        QTRY_VERIFY(rec->hasResponse(3));
        QCOMPARE(requestsWith("POST").last().header("Mcp-Session-Id"), QByteArray());
        QCOMPARE(transport->sessionId(), QStringLiteral("sess-1"));
    }

    void unreachableServer()
    {
        makeTransport();
        server.reset(); // nothing listens on that port any more
        transport->send(request(1, "initialize"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failures[0].second.category, Error::Category::Network);
    }

    void slowJsonAnswerTimesOut()
    {
        makeTransport();
        StreamableHttpTransport::Options o = transport->options();
        o.requestTimeoutMs = 200;
        transport->setOptions(o);
        server->setHandler([](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        transport->send(request(1, "tools/call"));
        QTRY_COMPARE(rec->failures.size(), 1);
        QCOMPARE(rec->failureCode(), QStringLiteral("timeout"));
    }
};

QTEST_GUILESS_MAIN(TestStreamableHttpTransport)
#include "TestStreamableHttpTransport.moc"
