#include "ProxyFixture.h"

#include <QDateTime>

using namespace mcpauth;
using namespace mcpauth::test;

/// McpProxy at the 2025-11-25 wire: tokens, sign-ins, step-up, fallbacks, closing. The era
/// detection and the cache of its verdicts are in TestMcpProxyEras.
class TestMcpProxy : public ProxyFixture
{
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(setUp()); }
    void cleanup() { tearDown(); }

    void firstRequestCarriesTheAgentsToken()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        QVERIFY(startProxy());
        const auto gets = m_agent->callsOf(QStringLiteral("token/get"));
        QCOMPARE(gets.size(), 1);
        QCOMPARE(str(gets.first().params, "resource"), QStringLiteral("http://127.0.0.1:9/mcp"));
        QCOMPARE(gets.first().params.value("minValidSeconds", 0), 60);
        QCOMPARE(m_agent->callsOf(QStringLiteral("server/configure")).size(), 0);
        QCOMPARE(transport()->kind, TransportKind::StreamableHttp);
        QCOMPARE(transport()->starts, 1);

        m_proxy->fromHost(request(1, "initialize"));
        QCOMPARE(transport()->sent.size(), 1);
        QCOMPARE(transport()->sent.first().token, QStringLiteral("tok-A"));
        transport()->reply(1, Json{{"protocolVersion", "2025-11-25"}});
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["id"], 1);
        QCOMPARE(str(lastHostMessage()["result"], "protocolVersion"), QStringLiteral("2025-11-25"));
    }

    void expiringTokenIsRefreshedBeforeSending()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        m_agent->expiresAt = QDateTime::currentSecsSinceEpoch() - 1; // expired by the time it is used
        QVERIFY(startProxy());
        m_agent->token = QStringLiteral("tok-B");
        m_agent->expiresAt = QDateTime::currentSecsSinceEpoch() + 3600;
        m_proxy->fromHost(request(1, "tools/list"));
        QTRY_COMPARE(transport()->sent.size(), 1);
        QCOMPARE(transport()->sent.first().token, QStringLiteral("tok-B"));
        QCOMPARE(m_agent->callsOf(QStringLiteral("token/get")).size(), 2);
        // A fresh token is used as is: no further agent round trip.
        m_proxy->fromHost(request(2, "tools/list"));
        QCOMPARE(transport()->sent.size(), 2);
        QCOMPARE(m_agent->callsOf(QStringLiteral("token/get")).size(), 2);
    }

    void withoutTokenTriesThenSignsInOn401()
    {
        QVERIFY(startProxy());
        const Json msg = request(1, "tools/list");
        m_proxy->fromHost(msg);
        QCOMPARE(transport()->sent.size(), 1);
        QVERIFY(transport()->sent.first().token.isEmpty());

        transport()->refuse(msg, 401, QStringLiteral("mcp:basic"));
        QTRY_COMPARE(transport()->sent.size(), 2);
        QCOMPARE(transport()->sent.at(1).token, QStringLiteral("tok-1"));
        QCOMPARE_JSON(transport()->sent.at(1).message, msg);
        const auto loginCalls = m_agent->callsOf(QStringLiteral("login/start"));
        QCOMPARE(loginCalls.size(), 1);
        const Json &p = loginCalls.first().params;
        QCOMPARE(str(p, "resource"), QStringLiteral("http://127.0.0.1:9/mcp"));
        QCOMPARE(str(p["challenge"], "scope"), QStringLiteral("mcp:basic"));
        QVERIFY(!str(p["challenge"], "resourceMetadata").isEmpty());
        QVERIFY(!p.contains("force")); // no tokens yet: concurrent proxies join one sign-in

        transport()->reply(1, Json{{"tools", Json::array()}});
        QCOMPARE(m_toHost->size(), 1);
        QVERIFY(lastHostMessage().contains("result"));
    }

    void on401UsesARefreshedTokenWithoutSignIn()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        QVERIFY(startProxy());
        const Json msg = request(2, "tools/list");
        m_proxy->fromHost(msg);
        m_agent->token = QStringLiteral("tok-B"); // the agent refreshed meanwhile
        transport()->refuse(msg, 401);
        QTRY_COMPARE(transport()->sent.size(), 2);
        QCOMPARE(transport()->sent.at(1).token, QStringLiteral("tok-B"));
        QCOMPARE(logins(), 0);
    }

    void second401IsACleanError()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        QVERIFY(startProxy());
        const Json msg = request(7, "tools/list");
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 401);
        QTRY_COMPARE(transport()->sent.size(), 2);
        QCOMPARE(transport()->sent.at(1).token, QStringLiteral("tok-1"));
        QCOMPARE(logins(), 1);
        QCOMPARE(m_agent->callsOf(QStringLiteral("login/start")).first().params.value("force", false), true);

        transport()->refuse(msg, 401);
        QTRY_COMPARE(m_toHost->size(), 1);
        const Json err = lastHostMessage();
        QCOMPARE_JSON(err["id"], 7);
        QCOMPARE(err["error"].value("code", 0), -32001);
        QCOMPARE(str(err["error"], "message"), QStringLiteral("the server rejected the sign-in"));
        QCOMPARE(logins(), 1);

        m_proxy->fromHost(request(8, "ping")); // still serving
        QCOMPARE(transport()->sent.size(), 3);
        QCOMPARE(transport()->sent.last().token, QStringLiteral("tok-1"));
    }

    void stepUpRequestsTheUnionScope_data()
    {
        QTest::addColumn<QString>("error");
        QTest::newRow("insufficient_scope") << QStringLiteral("insufficient_scope");
        QTest::newRow("scope without error code") << QString();
    }
    void stepUpRequestsTheUnionScope()
    {
        QFETCH(QString, error);
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        m_agent->scope = QStringLiteral("mcp:basic mcp:read");
        QVERIFY(startProxy());
        const Json msg = request(3, "tools/call", Json{{"name", "write"}});
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 403, QStringLiteral("mcp:basic mcp:write"), error);
        QTRY_COMPARE(transport()->sent.size(), 2);
        QCOMPARE(transport()->sent.at(1).token, QStringLiteral("tok-1"));
        const Json p = m_agent->callsOf(QStringLiteral("login/start")).first().params;
        QCOMPARE(str(p, "scope"), QStringLiteral("mcp:basic mcp:read mcp:write"));
        QCOMPARE(p.value("force", false), true);
        QCOMPARE(str(p["challenge"], "scope"), QStringLiteral("mcp:basic mcp:write"));
    }

    void forbiddenWithoutScopeIsAnError()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        QVERIFY(startProxy());
        const Json msg = request(4, "tools/call", Json{{"name", "x"}});
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 403);
        QTRY_COMPARE(m_toHost->size(), 1);
        QCOMPARE(lastHostMessage()["error"].value("code", 0), -32001);
        QCOMPARE(logins(), 0);
    }

    void stepUpStopsAfterThreeAuthorizations()
    {
        QVERIFY(startProxy());
        const Json msg = request(1, "tools/list");
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 401, QStringLiteral("mcp:admin"));
        QTRY_COMPARE(transport()->sent.size(), 2);
        transport()->refuse(msg, 403, QStringLiteral("mcp:admin"), QStringLiteral("insufficient_scope"));
        QTRY_COMPARE(transport()->sent.size(), 3);
        transport()->refuse(msg, 403, QStringLiteral("mcp:admin"), QStringLiteral("insufficient_scope"));
        QTRY_COMPARE(transport()->sent.size(), 4);
        transport()->refuse(msg, 403, QStringLiteral("mcp:admin"), QStringLiteral("insufficient_scope"));
        QTRY_COMPARE(m_toHost->size(), 1);
        QCOMPARE(logins(), McpProxy::maxAuthorizations);
        QCOMPARE(transport()->sent.size(), 4);
        QCOMPARE(str(lastHostMessage()["error"], "message"),
                 QStringLiteral("insufficient scope after 3 attempts"));
        QCOMPARE(lastHostMessage()["error"].value("code", 0), -32001);
    }

    void refusedSignInAnswersTheHostAndServesLaterRequests()
    {
        m_agent->loginError = Error{Error::Category::Protocol, QStringLiteral("access_denied"),
                                    QStringLiteral("the user refused")};
        QVERIFY(startProxy());
        const Json msg = request(1, "tools/list");
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 401);
        QTRY_COMPARE(m_toHost->size(), 1);
        const Json err = lastHostMessage();
        QCOMPARE_JSON(err["id"], 1);
        QCOMPARE(err["error"].value("code", 0), -32001);
        QVERIFY(str(err["error"], "message").contains(QLatin1String("the user refused")));
        QCOMPARE(str(err["error"]["data"], "code"), QStringLiteral("access_denied"));

        m_proxy->fromHost(request(2, "ping"));
        QCOMPARE(transport()->sent.size(), 2);
        QCOMPARE_JSON(transport()->sent.last().message["id"], 2);
    }

    void timedOutSignInIsCancelled()
    {
        m_agent->loginDelayMs = 5000;
        QVERIFY(startProxy({QStringLiteral("--auth-timeout"), QStringLiteral("1")}));
        const Json msg = request(1, "tools/list");
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 401);
        QTRY_COMPARE_WITH_TIMEOUT(m_toHost->size(), 1, 4000);
        QCOMPARE(lastHostMessage()["error"].value("code", 0), -32007);
        QCOMPARE(m_proxy->state(), McpProxy::State::Ready);
    }

    void messagesDuringSignInWaitAndKeepTheirOrder()
    {
        m_agent->loginDelayMs = 200;
        QVERIFY(startProxy());
        const Json first = request(1, "tools/list");
        m_proxy->fromHost(first);
        transport()->refuse(first, 401);
        QTRY_COMPARE(m_proxy->state(), McpProxy::State::Authorizing);
        const Json note = Json{{"jsonrpc", "2.0"}, {"method", "notifications/progress"}};
        m_proxy->fromHost(note);
        m_proxy->fromHost(request(2, "ping"));
        m_proxy->fromHost(request(3, "tools/call", Json{{"name", "a"}}));
        QCOMPARE(transport()->sent.size(), 1); // nothing goes out with a stale token
        QTRY_COMPARE(transport()->sent.size(), 5);
        QCOMPARE_JSON(transport()->sent.at(1).message, first);
        QCOMPARE_JSON(transport()->sent.at(2).message, note);
        QCOMPARE_JSON(transport()->sent.at(3).message["id"], 2);
        QCOMPARE_JSON(transport()->sent.at(4).message["id"], 3);
        for (qsizetype i = 1; i < 5; ++i)
            QCOMPARE(transport()->sent.at(i).token, QStringLiteral("tok-1"));
    }

    void concurrentRefusalsShareOneSignIn()
    {
        m_agent->loginDelayMs = 100;
        QVERIFY(startProxy());
        const Json a = request(1, "tools/list");
        const Json b = request(2, "prompts/list");
        m_proxy->fromHost(a);
        m_proxy->fromHost(b);
        transport()->refuse(a, 401);
        transport()->refuse(b, 401);
        QTRY_COMPARE(transport()->sent.size(), 4);
        QCOMPARE(logins(), 1);
        QCOMPARE(transport()->sent.at(2).token, QStringLiteral("tok-1"));
        QCOMPARE(transport()->sent.at(3).token, QStringLiteral("tok-1"));
    }

    void sendFailedAnswersWithTheRequestsId()
    {
        QVERIFY(startProxy());
        const Json msg = request("abc", "tools/call", Json{{"name", "slow"}});
        m_proxy->fromHost(msg);
        Q_EMIT transport()->sendFailed(msg, Error::network(QStringLiteral("http_500"),
                                                           QStringLiteral("HTTP 500 Internal Server Error")));
        QCOMPARE(m_toHost->size(), 1);
        const Json err = lastHostMessage();
        QCOMPARE_JSON(err["id"], "abc");
        QCOMPARE(err["error"].value("code", 0), -32603);
        QVERIFY(str(err["error"], "message").contains(QLatin1String("HTTP 500")));
        // A failed notification is only logged.
        Q_EMIT transport()->sendFailed(Json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                                       Error::network(QStringLiteral("x"), QStringLiteral("x")));
        QCOMPARE(m_toHost->size(), 1);
        m_proxy->fromHost(request(2, "ping"));
        QCOMPARE_JSON(transport()->sent.last().message["id"], 2);
    }

    void fallsBackToLegacySseOnce()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-A");
        QVERIFY(startProxy());
        const Json msg = request(1, "initialize");
        m_proxy->fromHost(msg);
        const Error unsupported =
            Error::protocol(QStringLiteral("transport_unsupported"), QStringLiteral("HTTP 405"));
        Q_EMIT transport()->sendFailed(msg, unsupported);
        QCOMPARE(m_transports.size(), 2);
        QVERIFY(m_transports.first().isNull() || m_transports.first()->kind == TransportKind::StreamableHttp);
        QCOMPARE(transport()->kind, TransportKind::LegacySse);
        QCOMPARE(transport()->starts, 1);
        QCOMPARE(transport()->token, QStringLiteral("tok-A"));
        QCOMPARE(transport()->sent.size(), 1);
        QCOMPARE_JSON(transport()->sent.first().message, msg);
        QCOMPARE(m_toHost->size(), 0);

        Q_EMIT transport()->sendFailed(msg, unsupported); // no second switch
        QCOMPARE(m_transports.size(), 2);
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["id"], 1);
    }

    void httpOnlyDoesNotFallBack()
    {
        QVERIFY(startProxy({QStringLiteral("--transport"), QStringLiteral("http-only")}));
        const Json msg = request(1, "initialize");
        m_proxy->fromHost(msg);
        Q_EMIT transport()->sendFailed(
            msg, Error::protocol(QStringLiteral("transport_unsupported"), QStringLiteral("HTTP 404")));
        QCOMPARE(m_transports.size(), 1);
        QCOMPARE(m_toHost->size(), 1);
    }

    void sseFirstStartsWithLegacyAndFallsBackToStreamable()
    {
        QVERIFY(startProxy({QStringLiteral("--transport"), QStringLiteral("sse-first")}));
        QCOMPARE(transport()->kind, TransportKind::LegacySse);
        const Json msg = request(1, "initialize");
        m_proxy->fromHost(msg);
        Q_EMIT transport()->sendFailed(
            msg, Error::protocol(QStringLiteral("transport_unsupported"), QStringLiteral("HTTP 404")));
        QCOMPARE(m_transports.size(), 2);
        QCOMPARE(transport()->kind, TransportKind::StreamableHttp);
        QCOMPARE(transport()->sent.size(), 1);
    }

    void ignoredToolsAreHiddenAndRefused()
    {
        QVERIFY(startProxy({QStringLiteral("--ignore-tool"), QStringLiteral("delete*"),
                            QStringLiteral("--ignore-tool"), QStringLiteral("Admin")}));
        m_proxy->fromHost(request(1, "tools/call", Json{{"name", "DELETE_repo"}}));
        QCOMPARE(transport()->sent.size(), 0);
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["id"], 1);
        QCOMPARE(str(lastHostMessage()["error"], "message"),
                 QStringLiteral("Tool \"DELETE_repo\" is not available"));

        m_proxy->fromHost(request(2, "tools/list"));
        Json tools = Json::array();
        for (const char *name : {"read", "delete_file", "admin", "administer"})
            tools.push_back(Json{{"name", name}});
        transport()->reply(2, Json{{"tools", tools}, {"nextCursor", "c"}});
        const Json listed = lastHostMessage()["result"];
        QCOMPARE(listed["tools"].size(), size_t(2));
        QCOMPARE(str(listed["tools"][0], "name"), QStringLiteral("read"));
        QCOMPARE(str(listed["tools"][1], "name"), QStringLiteral("administer"));
        QCOMPARE(str(listed, "nextCursor"), QStringLiteral("c"));

        m_proxy->fromHost(request(3, "tools/call", Json{{"name", "read"}}));
        QCOMPARE(transport()->sent.size(), 2);
    }

    void clientOptionsReachTheAgentFirst()
    {
        QVERIFY(
            startProxy({QStringLiteral("--static-oauth-client-info"),
                        QStringLiteral("{\"client_id\":\"c1\",\"client_secret\":\"s1\"}"),
                        QStringLiteral("--static-oauth-client-metadata"),
                        QStringLiteral("{\"scope\":\"a b\"}"), QStringLiteral("--client-metadata-url"),
                        QStringLiteral("https://app.example/cimd.json"), QStringLiteral("--authorize-param"),
                        QStringLiteral("audience=api"), QStringLiteral("--resource"),
                        QStringLiteral("https://r.example/"), QStringLiteral("--allow-http")}));
        QVERIFY(m_agent->calls.size() >= 2);
        QCOMPARE(m_agent->calls.at(0).method, QStringLiteral("server/configure"));
        QCOMPARE(m_agent->calls.at(1).method, QStringLiteral("token/get"));
        const Json p = m_agent->calls.at(0).params;
        QCOMPARE(str(p, "resource"), QStringLiteral("http://127.0.0.1:9/mcp"));
        QCOMPARE(str(p["clientInfo"], "client_id"), QStringLiteral("c1"));
        QCOMPARE(str(p["clientInfo"], "client_secret"), QStringLiteral("s1"));
        QCOMPARE(str(p["clientMetadata"], "scope"), QStringLiteral("a b"));
        QCOMPARE(str(p, "clientMetadataUrl"), QStringLiteral("https://app.example/cimd.json"));
        QCOMPARE(str(p["authorizeParams"], "audience"), QStringLiteral("api"));
        QCOMPARE(str(p, "resourceOverride"), QStringLiteral("https://r.example/"));
        QVERIFY(!p.contains("allowHttp")); // the proxy's own link only (security.md §7)
    }

    void configureFailureDoesNotStopTheProxy()
    {
        m_agent->configureError = Error::config(QStringLiteral("invalid_params"), QStringLiteral("bad"));
        QVERIFY(startProxy(
            {QStringLiteral("--client-metadata-url"), QStringLiteral("https://app.example/c.json")}));
        m_proxy->fromHost(request(1, "ping"));
        QCOMPARE(transport()->sent.size(), 1);
    }

    void hostClosedClosesTheTransport()
    {
        QVERIFY(startProxy());
        QSignalSpy finished(m_proxy.get(), &McpProxy::finished);
        m_proxy->hostClosed();
        QCOMPARE(transport()->closes, 1);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(0).toInt(), 0);
        QCOMPARE(m_proxy->state(), McpProxy::State::Closed);
    }

    void hostClosedWaitsForTheLastAnswer()
    {
        QVERIFY(startProxy());
        QSignalSpy finished(m_proxy.get(), &McpProxy::finished);
        m_proxy->fromHost(request(1, "tools/list"));
        m_proxy->hostClosed();
        QCOMPARE(transport()->closes, 0);
        transport()->reply(1, Json{{"tools", Json::array()}});
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE(transport()->closes, 1);
        QCOMPARE(finished.size(), 1);
    }

    void serverEndingTheSessionFailsWhatIsPending()
    {
        QVERIFY(startProxy());
        QSignalSpy finished(m_proxy.get(), &McpProxy::finished);
        m_proxy->fromHost(request(5, "tools/list"));
        Q_EMIT transport()->closed();
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["id"], 5);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(0).toInt(), 1);
    }

    void staticAuthorizationHeaderSkipsTheAgent()
    {
        QVERIFY(startProxy({QStringLiteral("--header"), QStringLiteral("Authorization: Bearer user-given")}));
        QCOMPARE(m_agent->callsOf(QStringLiteral("token/get")).size(), 0);
        const Json msg = request(1, "ping");
        m_proxy->fromHost(msg);
        transport()->refuse(msg, 401);
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE(lastHostMessage()["error"].value("code", 0), -32001);
        QCOMPARE(logins(), 0);
    }
};

QTEST_GUILESS_MAIN(TestMcpProxy)
#include "TestMcpProxy.moc"
