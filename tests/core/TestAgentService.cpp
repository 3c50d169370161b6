#include "FakeAuthServer.h"
#include "FakeBrowser.h"
#include "LocalLineClient.h"
#include "SameUserIdentity.h"
#include "broker/BrokerServer.h"
#include "broker/PeerIdentity.h"
#include "engine/AgentService.h"
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
