#include "FakeAuthServer.h"
#include "FakeBrowser.h"
#include "LocalLineClient.h"
#include "SameUserIdentity.h"
#include "broker/AgentService.h"
#include "broker/BrokerServer.h"
#include "broker/PeerIdentity.h"
#include "engine/AuthEngine.h"
#include "storage/MemorySecretStore.h"
#include "storage/StateFile.h"

#include <QDir>
#include <QNetworkAccessManager>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

using SameUser = test::SameUserIdentity;

/// A gate the test decides for: it records what it was asked and holds the decision until told.
class RecordingGate : public AccessGate
{
public:
    QList<AccessRequest> asked;
    QList<Answer> waiting;
    std::optional<Status> answerNow; ///< decide at once with this; unset: wait for decide()

    void check(const AccessRequest &request, QObject *, Answer done) override
    {
        asked << request;
        if (answerNow)
            return done(*answerNow);
        waiting << std::move(done);
    }
    /// What allowsNow() answers (the hot path's question); every call is recorded in `quick`.
    bool standing = false;
    QList<AccessRequest> quick;
    bool allowsNow(const AccessRequest &request) override
    {
        quick << request;
        return standing;
    }
    void decide(const Status &decision)
    {
        for (const Answer &d : std::exchange(waiting, {}))
            d(decision);
    }
};

} // namespace

/// The agent's socket API for issue 3: `server/configure` and `login/start`'s challenge/force,
/// parsed strictly (-32602 for anything malformed) and handed to the engine.
class TestAgentService : public QObject
{
    Q_OBJECT

    struct Fixture
    {
        QTemporaryDir dir{QDir::tempPath() + QStringLiteral("/mcpas-XXXXXX")};
        FakeAuthServer server;
        FakeBrowser browser;
        ManualClock clock{1'700'000'000};
        QNetworkAccessManager nam;
        HttpClient http{&nam};
        MemorySecretStore store;
        StateFile stateFile{dir.filePath(QStringLiteral("state.json"))};
        AuthEngine engine{http, clock, store, stateFile, browser, AuthEngine::Options{}};
        SameUser identity;
        BrokerServer broker{identity};
        AgentService service{engine, broker};
        LocalLineClient client;
        int nextId = 1;

        Fixture()
        {
            QVERIFY(server.listen());
            bool started = false;
            engine.start(&engine, [&](Status st) { started = st.ok(); });
            QTRY_VERIFY(started);
            const QString path = dir.path() + QStringLiteral("/run/agent.sock");
            QVERIFY(broker.listen(path).ok());
            QVERIFY(client.connectTo(path));
        }
        Json call(const char *method, Json params, int timeoutMs = 10000)
        {
            const int id = nextId++;
            client.send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
            const qsizetype before = client.lines.size();
            if (!client.waitForLines(before + 1, timeoutMs))
                return Json{{"error", {{"code", 0}, {"message", "no answer"}}}};
            return client.last();
        }
        std::string mcp() const { return toStd(server.mcpUrl().toString()); }
    };

private Q_SLOTS:
    // Issue 6.7: agent/status tells the keychain as it is now, not as it was when the agent started.
    void statusReportsAKeychainThatWentAway()
    {
        Fixture f;
        f.service.setKeychainStatus(true, QString());
        Json reply = f.call("agent/status", Json::object());
        QVERIFY2(reply.contains("result"), reply.dump().c_str());
        QCOMPARE(reply["result"]["keychain"]["available"].get<bool>(), true);

        f.store.setFailing(true);
        QTest::qWait(2100); // past the moment a check is reused for
        reply = f.call("agent/status", Json::object());
        QVERIFY2(reply.contains("result"), reply.dump().c_str());
        QCOMPARE(reply["result"]["keychain"]["available"].get<bool>(), false);
        QVERIFY(!reply["result"]["keychain"].value("detail", std::string()).empty());

        f.store.setFailing(false);
        QTest::qWait(2100);
        reply = f.call("agent/status", Json::object());
        QCOMPARE(reply["result"]["keychain"]["available"].get<bool>(), true);
    }

    // Issue 8.1: one gate in front of every method that acts for a server, and only those.
    void everyServerMethodGoesThroughTheGate()
    {
        Fixture f;
        f.identity.pid = 4242; // what the kernel said at accept
        f.identity.processChain = {QStringLiteral("/usr/bin/host-app")};
        f.client.socket.abort(); // connect again: identity is taken once, at accept
        QVERIFY(f.client.connectTo(f.dir.path() + QStringLiteral("/run/agent.sock")));
        auto gate = std::make_shared<RecordingGate>();
        gate->answerNow = okStatus();
        f.service.setGate(gate);
        QVERIFY(f.call("agent/status", Json::object()).contains("result"));
        QVERIFY(f.call("servers/list", Json::object()).contains("result"));
        QCOMPARE(gate->asked.size(), 0);
        QVERIFY(f.call("server/configure", Json{{"resource", f.mcp()}}).contains("result"));
        f.call("token/get", Json{{"resource", f.mcp()}, {"scope", "mcp:tools"}});
        f.call("logout", Json{{"resource", f.mcp()}});
        QCOMPARE(gate->asked.size(), 3);
        QCOMPARE(gate->asked[0].method, QStringLiteral("server/configure"));
        QCOMPARE(gate->asked[1].method, QStringLiteral("token/get"));
        QCOMPARE(gate->asked[1].scope, QStringLiteral("mcp:tools"));
        QCOMPARE(gate->asked[1].resource, f.server.mcpUrl());
        QCOMPARE(gate->asked[1].caller.pid, qint64(4242)); // the connection's peer, not anything sent
        QCOMPARE(gate->asked[1].caller.processChain, QStringList{QStringLiteral("/usr/bin/host-app")});
        // Malformed params are refused before the gate (and so before any user is asked).
        QCOMPARE(
            f.call("login/start", Json{{"resource", f.mcp()}, {"force", "yes"}})["error"].value("code", 0),
            -32602);
        QCOMPARE(f.call("token/get", Json{{"resource", "not a url"}})["error"].value("code", 0), -32602);
        QCOMPARE(f.call("token/get", Json{{"resource", f.mcp()}, {"minValidSeconds", "soon"}})["error"].value(
                     "code", 0),
                 -32602);
        QCOMPARE(gate->asked.size(), 3);
    }

    void aRefusalReachesTheCallerAndTheEngineNever()
    {
        Fixture f;
        auto gate = std::make_shared<RecordingGate>();
        f.service.setGate(gate);
        const int id = f.nextId++;
        f.client.send(Json{
            {"jsonrpc", "2.0"}, {"id", id}, {"method", "login/start"}, {"params", {{"resource", f.mcp()}}}});
        QTRY_COMPARE(gate->asked.size(), 1);
        QTest::qWait(50);
        QCOMPARE(f.client.lines.size(), 0); // the request waits for the decision
        QCOMPARE(f.browser.launches, 0);
        gate->decide(Error::security(QStringLiteral("approval_denied"), QStringLiteral("the user said no")));
        QVERIFY(f.client.waitForLines(1, 3000));
        const Json reply = f.client.last();
        QCOMPARE(reply.value("id", 0), id);
        QCOMPARE(reply["error"].value("code", 0), -32002);
        QCOMPARE(jsonString(reply["error"]["data"], "code"), QStringLiteral("approval_denied"));
        QCOMPARE(f.browser.launches, 0);
        QCOMPARE(f.server.tokenRequests.size(), 0);
    }

    // Issue 8.2: a connection whose opener exited (the socket handed on, or the pid reused) gets
    // nothing: a clear reason, and the connection closes.
    void aConnectionWhoseOpenerExitedGetsNothing()
    {
        Fixture f;
        auto opener = std::make_shared<FakeProcess>();
        f.identity.connector = opener;
        f.client.socket.abort();
        QVERIFY(f.client.connectTo(f.dir.path() + QStringLiteral("/run/agent.sock")));
        QVERIFY(f.call("agent/status", Json::object()).contains("result"));
        opener->running = false;
        const Json reply = f.call("token/get", Json{{"resource", f.mcp()}});
        QCOMPARE(reply["error"].value("code", 0), -32002);
        QCOMPARE(jsonString(reply["error"]["data"], "reason"), QStringLiteral("identity"));
        QVERIFY(jsonString(reply["error"], "message").contains(QStringLiteral("exited")));
        QTRY_COMPARE(f.client.socket.state(), QLocalSocket::UnconnectedState);
        QCOMPARE(f.server.tokenRequests.size(), 0);
    }

    // Issue 8.5: a repeated token/get is answered from the connection's hot answer: the gate is
    // asked every time (allowsNow), the engine is not. Whatever could change the answer (a gate
    // that wants to ask, the token no longer serving minValidSeconds, a sign-out) sends the
    // request down the full path again, which never hands out the old token.
    void aRepeatIsAnsweredHotUntilSomethingChanges()
    {
        Fixture f;
        auto gate = std::make_shared<RecordingGate>();
        gate->answerNow = okStatus();
        gate->standing = true;
        f.service.setGate(gate);
        QVERIFY(f.call("login/start", Json{{"resource", f.mcp()}}).contains("result"));
        const Json params{{"resource", f.mcp()}, {"minValidSeconds", 60}};
        const Json first = f.call("token/get", params);
        QVERIFY2(first.contains("result"), first.dump().c_str());
        const qsizetype checked = gate->asked.size();

        f.client.send(
            Json{{"jsonrpc", "2.0"}, {"id", "a-string-id"}, {"method", "token/get"}, {"params", params}});
        QVERIFY(f.client.waitForLines(f.client.lines.size() + 1, 3000));
        const Json again = f.client.last();
        QVERIFY2(again.value("id", std::string()) == "a-string-id", again.dump().c_str());
        QVERIFY(again["result"] == first["result"]);
        QCOMPARE(gate->asked.size(), checked); // not the full path...
        QCOMPARE(gate->quick.size(), 1);       // ...but the gate decided
        QCOMPARE(gate->quick[0].caller.pid, f.identity.pid);
        QCOMPARE(gate->quick[0].server, gate->asked.last().server);

        // Other params are another question: the full path.
        QVERIFY(f.call("token/get", Json{{"resource", f.mcp()}, {"minValidSeconds", 61}}).contains("result"));
        QCOMPARE(gate->asked.size(), checked + 1);

        // The gate would have to ask: the full path, where check() decides.
        gate->standing = false;
        QVERIFY(f.call("token/get", params)["result"] == first["result"]);
        QCOMPARE(gate->asked.size(), checked + 2);
        gate->standing = true;
        QVERIFY(f.call("token/get", params)["result"] == first["result"]);
        QCOMPARE(gate->asked.size(), checked + 2);

        // The token no longer serves 60 s: the engine refreshes, the caller gets the new token.
        f.clock.advance(3600 - 60 + 1);
        const Json refreshed = f.call("token/get", params);
        QVERIFY2(refreshed.contains("result"), refreshed.dump().c_str());
        QCOMPARE(f.server.refreshGrants, 1);
        QVERIFY(refreshed["result"]["accessToken"] != first["result"]["accessToken"]);
        QVERIFY(f.call("token/get", params)["result"] == refreshed["result"]);

        // Signed out: no token, hot or not.
        QVERIFY(f.call("logout", Json{{"resource", f.mcp()}}).contains("result"));
        const Json gone = f.call("token/get", params);
        QVERIFY2(gone.contains("error"), gone.dump().c_str());
        QCOMPARE(gone["error"].value("code", 0), -32001);
    }

    void configureInvalidParams_data()
    {
        QTest::addColumn<QByteArray>("params");
        QTest::newRow("no resource") << QByteArray("{\"clientInfo\":{\"client_id\":\"a\"}}");
        QTest::newRow("clientInfo not an object") << QByteArray("{\"resource\":\"R\",\"clientInfo\":\"a\"}");
        QTest::newRow("client_id missing")
            << QByteArray("{\"resource\":\"R\",\"clientInfo\":{\"client_secret\":\"s\"}}");
        QTest::newRow("basic without secret")
            << QByteArray("{\"resource\":\"R\",\"clientInfo\":{\"client_id\":\"a\",\"token_endpoint_auth_"
                          "method\":\"client_secret_basic\"}}");
        QTest::newRow("unknown auth method")
            << QByteArray("{\"resource\":\"R\",\"clientInfo\":{\"client_id\":\"a\",\"token_endpoint_auth_"
                          "method\":\"private_key_jwt\"}}");
        QTest::newRow("non-loopback redirect")
            << QByteArray("{\"resource\":\"R\",\"clientInfo\":{\"client_id\":\"a\",\"redirect_uris\":["
                          "\"https://x.example/cb\"]}}");
        QTest::newRow("cimd http") << QByteArray(
            "{\"resource\":\"R\",\"clientMetadataUrl\":\"http://x.example/c.json\"}");
        QTest::newRow("cimd without path")
            << QByteArray("{\"resource\":\"R\",\"clientMetadataUrl\":\"https://x.example/\"}");
        QTest::newRow("authorize param not a string")
            << QByteArray("{\"resource\":\"R\",\"authorizeParams\":{\"a\":1}}");
        QTest::newRow("resource override relative")
            << QByteArray("{\"resource\":\"R\",\"resourceOverride\":\"/api\"}");
        QTest::newRow("resource override with fragment")
            << QByteArray("{\"resource\":\"R\",\"resourceOverride\":\"https://a.example/#x\"}");
        QTest::newRow("allowHttp not a bool") << QByteArray("{\"resource\":\"R\",\"allowHttp\":\"yes\"}");
        QTest::newRow("metadata field wrong type")
            << QByteArray("{\"resource\":\"R\",\"clientMetadata\":{\"client_name\":3}}");
    }
    void configureInvalidParams()
    {
        QFETCH(QByteArray, params);
        Fixture f;
        Json p = Json::parse(params.toStdString());
        if (p.value("resource", "") == "R")
            p["resource"] = f.mcp();
        const Json reply = f.call("server/configure", p);
        QCOMPARE(reply["error"].value("code", 0), -32602);
        QVERIFY(f.engine.configuration(f.server.mcpUrl()).isEmpty());
    }

    void configureReplacesConfig()
    {
        Fixture f;
        Json reply =
            f.call("server/configure", Json{{"resource", f.mcp()},
                                            {"clientInfo", {{"client_id", "a"}, {"client_secret", "s-Zq"}}},
                                            {"authorizeParams", {{"k", "v"}}},
                                            {"allowHttp", true}});
        QVERIFY2(reply.contains("result"), reply.dump().c_str());
        QVERIFY(reply["result"] == Json::object());
        ServerConfig c = f.engine.configuration(f.server.mcpUrl());
        QVERIFY(c.staticClient);
        QCOMPARE(c.staticClient->clientSecret, QStringLiteral("s-Zq"));
        QCOMPARE(c.authorizeParams.size(), 1);
        // allowHttp is accepted (older proxies send it) and opens nothing: no field to set.
        QVERIFY(!c.toJson().contains("allowHttp"));

        reply = f.call("server/configure",
                       Json{{"resource", f.mcp()}, {"resourceOverride", "https://api.example"}});
        QVERIFY(reply.contains("result"));
        c = f.engine.configuration(f.server.mcpUrl());
        QVERIFY(!c.staticClient);
        QCOMPARE(c.resourceOverride, QStringLiteral("https://api.example"));
    }

    void loginStartInvalidParams_data()
    {
        QTest::addColumn<QByteArray>("extra");
        QTest::newRow("challenge not an object") << QByteArray("{\"challenge\":\"Bearer\"}");
        QTest::newRow("scope not a string") << QByteArray("{\"challenge\":{\"scope\":[\"a\"]}}");
        QTest::newRow("resourceMetadata not a URL")
            << QByteArray("{\"challenge\":{\"resourceMetadata\":\"nope\"}}");
        QTest::newRow("force not a bool") << QByteArray("{\"force\":\"true\"}");
    }
    void loginStartInvalidParams()
    {
        QFETCH(QByteArray, extra);
        Fixture f;
        Json p = Json::parse(extra.toStdString());
        p["resource"] = f.mcp();
        const Json reply = f.call("login/start", p);
        QCOMPARE(reply["error"].value("code", 0), -32602);
        QCOMPARE(f.browser.launches, 0);
    }

    void loginStartWithChallenge()
    {
        Fixture f;
        const std::string prm =
            toStd(f.server.issuer() + QStringLiteral("/.well-known/oauth-protected-resource/mcp"));
        const Json reply = f.call(
            "login/start",
            Json{{"resource", f.mcp()},
                 {"scope", "mcp:tools mcp:write"},
                 {"force", true},
                 {"challenge",
                  {{"resourceMetadata", prm}, {"scope", "mcp:write"}, {"error", "insufficient_scope"}}}});
        QVERIFY2(reply.contains("result"), reply.dump().c_str());
        QCOMPARE(f.server.mcpRequests, 0); // the challenge replaced the probe
        QCOMPARE(
            f.server.authorizeRequests.last().queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded),
            QStringLiteral("mcp:tools mcp:write offline_access"));
        QVERIFY(!reply["result"].contains("accessToken"));
    }
};

QTEST_GUILESS_MAIN(TestAgentService)
#include "TestAgentService.moc"
