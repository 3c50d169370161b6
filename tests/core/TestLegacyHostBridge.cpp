#include "FakeTransport.h"
#include "JsonRpcTest.h"
#include "proxy/LegacyHostBridge.h"

#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

Json discover()
{
    return Json{{"supportedVersions", {"2026-07-28"}},
                {"capabilities", {{"tools", {{"listChanged", true}}}, {"resources", {{"subscribe", true}}}}},
                {"instructions", "be nice"},
                {"_meta", {{"io.modelcontextprotocol/serverInfo", {{"name", "srv"}, {"version", "2"}}}}}};
}

} // namespace

// A 2025-11-25 host through the bridge to a 2026-07-28 server (checklist E.26-29).
class TestLegacyHostBridge : public QObject
{
    Q_OBJECT
private:
    FakeTransport *inner = nullptr;
    std::unique_ptr<LegacyHostBridge> bridge;
    std::unique_ptr<QSignalSpy> toHost;

    Json host(qsizetype i) const { return toHost->at(i).at(0).value<Json>(); }
    Json last() const { return host(toHost->size() - 1); }
    void initialize(const Json &capabilities = {{"elicitation", Json::object()}})
    {
        bridge->send(request(0, "initialize",
                             {{"protocolVersion", "2025-06-18"},
                              {"capabilities", capabilities},
                              {"clientInfo", {{"name", "host"}, {"version", "1"}}}}));
        QTRY_COMPARE(toHost->size(), 1);
        bridge->send(Json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    }

private Q_SLOTS:
    void init()
    {
        inner = new FakeTransport(TransportKind::Stateless);
        bridge = std::make_unique<LegacyHostBridge>(inner, discover());
        toHost = std::make_unique<QSignalSpy>(bridge.get(), &McpTransport::messageReceived);
        bridge->start();
    }
    void cleanup()
    {
        toHost.reset();
        bridge.reset();
    }

    void answersInitializeFromTheDiscoverResult()
    {
        initialize();
        const Json result = host(0)["result"];
        QCOMPARE_JSON(result["protocolVersion"], "2025-06-18"); // the host's, as we know it
        QCOMPARE_JSON(result["serverInfo"]["name"], "srv");
        QCOMPARE_JSON(result["instructions"], "be nice");
        QVERIFY(result["capabilities"]["tools"]["listChanged"] == true);
        // initialized opens the listen for what the server advertises; nothing else went upstream.
        QCOMPARE(inner->sent.size(), 1);
        const Json listen = inner->sent[0].message;
        QCOMPARE(jsonString(listen, "method"), QStringLiteral("subscriptions/listen"));
        QCOMPARE_JSON(listen["params"]["notifications"], Json({{"toolsListChanged", true}}));
    }

    void answersPingAndSetLevelLocally()
    {
        initialize();
        bridge->send(request(1, "ping"));
        bridge->send(request(2, "logging/setLevel", {{"level", "debug"}}));
        QTRY_COMPARE(toHost->size(), 3);
        QCOMPARE_JSON(host(1)["result"], Json::object());
        bridge->send(request(3, "tools/list"));
        const Json sent = inner->sent.last().message;
        QCOMPARE_JSON(sent["params"]["_meta"]["io.modelcontextprotocol/logLevel"], "debug");
        QCOMPARE_JSON(sent["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]["name"], "host");
    }

    void mapsIdsAndStripsResultType()
    {
        initialize();
        bridge->send(request("h1", "tools/call", {{"name", "t"}}));
        const Json sent = inner->sent.last().message;
        QVERIFY(sent["id"] != Json("h1"));
        inner->reply(sent["id"], Json{{"resultType", "complete"}, {"content", Json::array()}});
        QCOMPARE_JSON(last()["id"], "h1");
        QVERIFY(!last()["result"].contains("resultType"));
        bridge->send(request("h2", "tools/call", {{"name", "t"}}));
        inner->reply(inner->sent.last().message["id"], Json{{"resultType", "someday"}});
        QCOMPARE_JSON(last()["id"], "h2");
        QCOMPARE_JSON(last()["error"]["code"], -32603); // unknown resultType
    }

    void turnsInputRequiredIntoHostRequests()
    {
        initialize();
        bridge->send(request(5, "tools/call", {{"name", "ask"}}));
        const Json first = inner->sent.last().message;
        inner->reply(
            first["id"],
            Json{{"resultType", "input_required"},
                 {"inputRequests",
                  {{"name", {{"method", "elicitation/create"}, {"params", {{"message", "Your name?"}}}}}}},
                 {"requestState", "opaque\u00e9 state"}});
        const Json ask = last();
        QCOMPARE(jsonString(ask, "method"), QStringLiteral("elicitation/create"));
        QCOMPARE_JSON(ask["params"]["message"], "Your name?");
        bridge->send(Json{{"jsonrpc", "2.0"},
                          {"id", ask["id"]},
                          {"result", {{"action", "accept"}, {"content", {{"n", "Ada"}}}}}});
        const Json retry = inner->sent.last().message;
        QVERIFY(retry["id"] != first["id"]);                                  // mrtr.mdx: a new id
        QCOMPARE_JSON(retry["params"]["requestState"], "opaque\u00e9 state"); // byte-exact
        QCOMPARE_JSON(retry["params"]["inputResponses"]["name"]["content"]["n"], "Ada");
        QCOMPARE_JSON(retry["params"]["name"], "ask");
        inner->reply(retry["id"], Json{{"content", {{{"type", "text"}, {"text", "hi Ada"}}}}});
        QCOMPARE_JSON(last()["id"], 5);
        QCOMPARE_JSON(last()["result"]["content"][0]["text"], "hi Ada");
    }

    void inputTheHostCannotGiveIsAnError()
    {
        initialize(Json::object()); // no elicitation, no sampling
        bridge->send(request(6, "tools/call", {{"name", "ask"}}));
        inner->reply(inner->sent.last().message["id"],
                     Json{{"resultType", "input_required"},
                          {"inputRequests",
                           {{"s", {{"method", "sampling/createMessage"}, {"params", Json::object()}}}}}});
        QCOMPARE_JSON(last()["id"], 6);
        QCOMPARE_JSON(last()["error"]["code"], -32603);
    }

    void roundsAreCapped()
    {
        initialize();
        bridge->send(request(7, "tools/call", {{"name", "loop"}}));
        for (int round = 0; round <= LegacyHostBridge::maxInputRounds; ++round) {
            inner->reply(inner->sent.last().message["id"],
                         Json{{"resultType", "input_required"},
                              {"inputRequests",
                               {{"k", {{"method", "elicitation/create"}, {"params", Json::object()}}}}}});
            if (last().contains("error"))
                break;
            bridge->send(Json{{"jsonrpc", "2.0"}, {"id", last()["id"]}, {"result", {{"action", "decline"}}}});
        }
        QCOMPARE_JSON(last()["id"], 7);
        QCOMPARE_JSON(last()["error"]["code"], -32603);
    }

    void forwardsNotificationsWithoutSubscriptionIds()
    {
        initialize();
        const Json listenId = inner->sent[0].message["id"];
        Q_EMIT inner->messageReceived(
            Json{{"jsonrpc", "2.0"},
                 {"method", "notifications/subscriptions/acknowledged"},
                 {"params", {{"_meta", {{"io.modelcontextprotocol/subscriptionId", listenId}}}}}});
        Q_EMIT inner->messageReceived(
            Json{{"jsonrpc", "2.0"},
                 {"method", "notifications/tools/list_changed"},
                 {"params", {{"_meta", {{"io.modelcontextprotocol/subscriptionId", listenId}}}}}});
        QCOMPARE(toHost->size(), 2); // the acknowledgement is swallowed
        QCOMPARE(jsonString(last(), "method"), QStringLiteral("notifications/tools/list_changed"));
        QVERIFY(!last()["params"].contains("_meta"));
        // subscribe reshapes the listen: the old one is closed, a new one carries the URI.
        bridge->send(request(8, "resources/subscribe", {{"uri", "file:///a"}}));
        const Json cancel = inner->sent[inner->sent.size() - 2].message;
        QCOMPARE(jsonString(cancel, "method"), QStringLiteral("notifications/cancelled"));
        QCOMPARE_JSON(cancel["params"]["requestId"], listenId);
        QCOMPARE_JSON(inner->sent.last().message["params"]["notifications"]["resourceSubscriptions"],
                      Json::array({"file:///a"}));
    }

    void cancellationGoesToTheLiveLeg()
    {
        initialize();
        bridge->send(request(9, "tools/call", {{"name", "slow"}}));
        const Json leg = inner->sent.last().message;
        bridge->send(
            Json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 9}}}});
        const Json cancel = inner->sent.last().message;
        QCOMPARE(jsonString(cancel, "method"), QStringLiteral("notifications/cancelled"));
        QCOMPARE_JSON(cancel["params"]["requestId"], leg["id"]);
        const qsizetype before = toHost->size();
        inner->reply(leg["id"], Json{{"content", Json::array()}});
        QCOMPARE(toHost->size(), before); // nothing more for a cancelled request
    }

    void aSignInResendsTheLegAsItWas()
    {
        initialize();
        QSignalSpy auth(bridge.get(), &McpTransport::authorizationRequired);
        const Json hostRequest = request(10, "tools/list");
        bridge->send(hostRequest);
        const Json leg = inner->sent.last().message;
        inner->refuse(leg, 401);
        QCOMPARE(auth.size(), 1);
        QVERIFY(auth[0][0].value<Json>() == hostRequest); // the proxy knows the host's message
        bridge->send(hostRequest);
        QVERIFY(inner->sent.last().message == leg);
    }
};

QTEST_GUILESS_MAIN(TestLegacyHostBridge)
#include "TestLegacyHostBridge.moc"
