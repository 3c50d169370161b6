#include "ProxyFixture.h"

#include <QDateTime>
#include <QFile>

using namespace mcpauth;
using namespace mcpauth::test;

/// McpProxy's era detection (mcp-2026-07-28.md §2.3, checklist A and B): the probe's verdicts,
/// the four host × server combinations, and the verdicts kept across launches (EraCache).
class TestMcpProxyEras : public ProxyFixture
{
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(setUp()); }
    void cleanup() { tearDown(); }

    void legacyServerAnswersTheHostsProbeWithMethodNotFound()
    {
        m_agent->signedIn = true;
        QVERIFY(startProbed("error", {{"code", -32601}, {"message", "Method not found"}}));
        QCOMPARE(m_proxy->serverEra(), McpProxy::ServerEra::Legacy);
        QCOMPARE(transport()->kind, TransportKind::StreamableHttp);
        m_proxy->fromHost(modernRequest("probe", "server/discover"));
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32601); // not -32022: the host falls back
        QCOMPARE(transport()->sent.size(), 0);
        m_proxy->fromHost(request(1, "initialize"));
        QCOMPARE(transport()->sent.size(), 1);
        QCOMPARE(m_proxy->hostEra(), McpProxy::HostEra::Legacy);
        // A modern request to a legacy server: a clear refusal, not silence.
        m_proxy->fromHost(modernRequest(2, "tools/list"));
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32022);
    }

    void modernServerBridgesALegacyHost()
    {
        m_agent->signedIn = true;
        QVERIFY(startProbed("result", discoverResult()));
        QCOMPARE(m_proxy->serverEra(), McpProxy::ServerEra::Modern);
        QCOMPARE(m_transports.size(), 1); // the probe's stateless transport serves the host
        m_proxy->fromHost(request(1, "initialize",
                                  {{"protocolVersion", "2025-11-25"},
                                   {"capabilities", {{"elicitation", Json::object()}}},
                                   {"clientInfo", {{"name", "host"}, {"version", "1"}}}}));
        QTRY_COMPARE(m_toHost->size(), 1);
        QCOMPARE(str(lastHostMessage()["result"], "protocolVersion"), QStringLiteral("2025-11-25"));
        QCOMPARE(str(lastHostMessage()["result"]["serverInfo"], "name"), QStringLiteral("srv"));
        QCOMPARE(m_proxy->hostEra(), McpProxy::HostEra::Legacy);
        m_proxy->fromHost(request(2, "tools/list"));
        FakeTransport *wire = m_transports.first();
        const Json sent = wire->sent.last().message;
        QCOMPARE(str(sent, "method"), QStringLiteral("tools/list"));
        QCOMPARE_JSON(sent["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
        QVERIFY(
            sent["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"].contains("elicitation"));
        wire->reply(sent["id"], Json{{"resultType", "complete"}, {"tools", Json::array()}});
        QCOMPARE_JSON(lastHostMessage()["id"], 2);
        QVERIFY(!lastHostMessage()["result"].contains("resultType"));
    }

    void modernServerForwardsAModernHost()
    {
        m_agent->signedIn = true;
        QVERIFY(startProbed("result", discoverResult()));
        m_proxy->fromHost(modernRequest("p", "server/discover"));
        QCOMPARE(m_toHost->size(), 1); // answered from the probe's DiscoverResult
        QCOMPARE_JSON(lastHostMessage()["result"]["supportedVersions"], Json::array({"2026-07-28"}));
        m_proxy->fromHost(modernRequest(7, "tools/list", "2027-01-01"));
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32022); // refused here, checklist C.18
        QCOMPARE_JSON(lastHostMessage()["error"]["data"]["supported"], Json::array({"2026-07-28"}));
        const Json list = modernRequest(8, "tools/list");
        m_proxy->fromHost(list);
        FakeTransport *wire = m_transports.first();
        QVERIFY(wire->sent.last().message == list); // as the host sent it
        QCOMPARE(m_proxy->hostEra(), McpProxy::HostEra::Modern);
    }

    void aProbeOnlyLaunchOpensNoBrowser()
    {
        QVERIFY(startProxy({QStringLiteral("--protocol"), QStringLiteral("auto")}, McpProxy::State::Probing));
        FakeTransport *probe = m_transports.first();
        probe->refuse(probe->sent[0].message, 401);
        QTRY_COMPARE(m_proxy->serverEra(), McpProxy::ServerEra::NeedsSignIn);
        m_proxy->fromHost(modernRequest("probe", "server/discover"));
        QTRY_COMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32001);
        QCOMPARE(logins(), 0);
        // A real request signs in, then probes again.
        m_proxy->fromHost(request(1, "initialize"));
        QTRY_COMPARE(logins(), 1);
        QTRY_COMPARE(probe->sent.size(), 2);
        QCOMPARE(str(probe->sent[1].message, "method"), QStringLiteral("server/discover"));
    }

    void aFailedProbeIsNoVerdict()
    {
        m_agent->signedIn = true;
        QVERIFY(startProxy({QStringLiteral("--protocol"), QStringLiteral("auto")}, McpProxy::State::Probing));
        FakeTransport *probe = m_transports.first();
        m_proxy->fromHost(request(1, "initialize"));
        Q_EMIT probe->sendFailed(probe->sent[0].message,
                                 Error::network(QStringLiteral("server_error"), QStringLiteral("HTTP 503")));
        QCOMPARE(m_proxy->serverEra(), McpProxy::ServerEra::Unknown);
        QCOMPARE_JSON(lastHostMessage()["id"], 1); // the waiting request fails with the reason
        QVERIFY(str(lastHostMessage()["error"], "message").contains(QStringLiteral("HTTP 503")));
        m_proxy->fromHost(request(2, "initialize"));
        QCOMPARE(probe->sent.size(), 2); // and the next one probes again
    }

    // --- verdicts kept across launches (checklist B.10) --------------------------------------------

    void probedVerdictsAreRemembered()
    {
        m_agent->signedIn = true;
        m_eraCache = EraCache(m_tmp->filePath(QStringLiteral("cache/eras.json")));
        QVERIFY(startProbed("result", discoverResult()));
        std::optional<EraCache::Entry> kept = m_eraCache.lookup(serverUrl());
        QVERIFY(kept);
        QCOMPARE(kept->era, EraCache::Era::Modern);
        QCOMPARE(kept->version, QStringLiteral("2026-07-28"));
        tearDown();
        QVERIFY(setUp());
        m_agent->signedIn = true;
        const QString path = m_tmp->filePath(QStringLiteral("cache/eras.json"));
        m_eraCache = EraCache(path);
        QVERIFY(startProbed("error", {{"code", -32601}, {"message", "Method not found"}}));
        kept = m_eraCache.lookup(serverUrl());
        QVERIFY(kept);
        QCOMPARE(kept->era, EraCache::Era::Legacy);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(!file.readAll().contains("127.0.0.1")); // the URL itself is never stored
    }

    void aCachedLegacyVerdictSkipsTheProbe()
    {
        m_agent->signedIn = true;
        m_eraCache = EraCache(m_tmp->filePath(QStringLiteral("eras.json")));
        m_eraCache.remember(serverUrl(), EraCache::Era::Legacy, QStringLiteral("2025-11-25"));
        QVERIFY(startProxy({QStringLiteral("--protocol"), QStringLiteral("auto")}));
        QCOMPARE(m_transports.size(), 1);
        QCOMPARE(transport()->kind, TransportKind::StreamableHttp); // no server/discover first
        QCOMPARE(m_proxy->serverEra(), McpProxy::ServerEra::Legacy);
        m_proxy->fromHost(request(1, "initialize"));
        QCOMPARE(transport()->sent.size(), 1);
        transport()->reply(1, Json{{"protocolVersion", "2025-11-25"}});
        QCOMPARE_JSON(lastHostMessage()["result"]["protocolVersion"], "2025-11-25");
        // --protocol modern never trusts a legacy verdict: it probes.
        tearDown();
        QVERIFY(setUp());
        m_agent->signedIn = true;
        m_eraCache = EraCache(m_tmp->filePath(QStringLiteral("eras.json")));
        m_eraCache.remember(serverUrl(), EraCache::Era::Legacy, QStringLiteral("2025-11-25"));
        QVERIFY(
            startProxy({QStringLiteral("--protocol"), QStringLiteral("modern")}, McpProxy::State::Probing));
        QCOMPARE(transport()->kind, TransportKind::Stateless);
    }

    void aCachedLegacyVerdictThatStopsHoldingIsProbedAgain()
    {
        m_agent->signedIn = true;
        m_eraCache = EraCache(m_tmp->filePath(QStringLiteral("eras.json")));
        m_eraCache.remember(serverUrl(), EraCache::Era::Legacy, QStringLiteral("2025-11-25"));
        QVERIFY(startProxy({QStringLiteral("--protocol"), QStringLiteral("auto")}));
        FakeTransport *session = transport();
        m_proxy->fromHost(request(1, "initialize",
                                  {{"protocolVersion", "2025-11-25"},
                                   {"capabilities", Json::object()},
                                   {"clientInfo", {{"name", "host"}, {"version", "1"}}}}));
        // The server moved to 2026-07-28 only and says so.
        Q_EMIT session->messageReceived(
            Json{{"jsonrpc", "2.0"},
                 {"id", 1},
                 {"error",
                  {{"code", -32022},
                   {"message", "Unsupported protocol version"},
                   {"data", {{"supported", {"2026-07-28"}}, {"requested", "2025-11-25"}}}}}});
        QCOMPARE(m_toHost->size(), 0); // the host does not see the stale verdict's error
        QCOMPARE(m_transports.size(), 2);
        FakeTransport *probe = transport();
        QCOMPARE(probe->kind, TransportKind::Stateless);
        QCOMPARE(probe->sent.size(), 1);
        QCOMPARE(str(probe->sent[0].message, "method"), QStringLiteral("server/discover"));
        probe->reply(probe->sent[0].message["id"], discoverResult());
        QTRY_COMPARE(m_toHost->size(), 1); // the bridge answers the same initialize
        QCOMPARE_JSON(lastHostMessage()["id"], 1);
        QCOMPARE(str(lastHostMessage()["result"]["serverInfo"], "name"), QStringLiteral("srv"));
        QCOMPARE(m_proxy->serverEra(), McpProxy::ServerEra::Modern);
        QCOMPARE(m_eraCache.lookup(serverUrl())->era, EraCache::Era::Modern);
    }

    void aLegacyVerdictFromThisLaunchIsProbedAgainOnlyOnce()
    {
        m_agent->signedIn = true;
        QVERIFY(startProbed("error", {{"code", -32601}, {"message", "Method not found"}}));
        const Json modernError = {{"code", -32022},
                                  {"message", "Unsupported protocol version"},
                                  {"data", {{"supported", {"2025-06-18"}}}}};
        m_proxy->fromHost(request(1, "initialize"));
        Q_EMIT transport()->messageReceived(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"error", modernError}});
        FakeTransport *probe = transport();
        QCOMPARE(probe->kind, TransportKind::Stateless);
        // Legacy again: the initialize goes to a new session transport, and its error now reaches the host.
        Q_EMIT probe->messageReceived(Json{{"jsonrpc", "2.0"},
                                           {"id", probe->sent[0].message["id"]},
                                           {"error", {{"code", -32601}, {"message", "Method not found"}}}});
        FakeTransport *session = transport();
        QCOMPARE(session->kind, TransportKind::StreamableHttp);
        QCOMPARE(session->sent.size(), 1);
        Q_EMIT session->messageReceived(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"error", modernError}});
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32022);
        QCOMPARE(m_transports.size(), 4); // probe, session, probe, session: no third probe
    }

    void protocolLegacyNeverProbesAgain()
    {
        // --protocol legacy: the server's modern error is the host's answer, nothing is probed.
        m_agent->signedIn = true;
        m_eraCache = EraCache(m_tmp->filePath(QStringLiteral("eras.json")));
        QVERIFY(startProxy({QStringLiteral("--protocol"), QStringLiteral("legacy")}));
        m_proxy->fromHost(request(1, "initialize"));
        Q_EMIT transport()->messageReceived(Json{
            {"jsonrpc", "2.0"},
            {"id", 1},
            {"error",
             {{"code", -32022}, {"message", "Unsupported"}, {"data", {{"supported", {"2026-07-28"}}}}}}});
        QCOMPARE(m_transports.size(), 1);
        QCOMPARE(m_toHost->size(), 1);
        QCOMPARE_JSON(lastHostMessage()["error"]["code"], -32022);
        QVERIFY(!m_eraCache.lookup(serverUrl()));
    }

    void aStaleOrUnreadableCacheIsAMiss()
    {
        const QString path = m_tmp->filePath(QStringLiteral("eras.json"));
        EraCache cache(path);
        QVERIFY(!cache.lookup(serverUrl()));
        cache.remember(serverUrl(), EraCache::Era::Legacy, QStringLiteral("2025-11-25"));
        QVERIFY(cache.lookup(serverUrl()));
        QCOMPARE(QFile(path).permissions() & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());
        QVERIFY(!cache.lookup(QUrl(QStringLiteral("http://127.0.0.1:9/other"))));
        cache.forget(serverUrl());
        QVERIFY(!cache.lookup(serverUrl()));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("{not json");
        }
        QVERIFY(!cache.lookup(serverUrl()));
        cache.remember(serverUrl(), EraCache::Era::Modern, QStringLiteral("2026-07-28"));
        QCOMPARE(cache.lookup(serverUrl())->era, EraCache::Era::Modern); // rewritten, not stuck
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            Json stored = Json::parse(file.readAll().toStdString());
            for (auto &entry : stored["endpoints"])
                entry["checkedAt"] = QDateTime::currentSecsSinceEpoch() - EraCache::maxAgeSeconds - 10;
            file.close();
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write(QByteArray::fromStdString(stored.dump()));
        }
        QVERIFY(!cache.lookup(serverUrl()));      // too old to trust
        QVERIFY(!EraCache().lookup(serverUrl())); // no path: remembers nothing
    }

    void theCacheKeepsAtMostMaxEntries()
    {
        EraCache cache(m_tmp->filePath(QStringLiteral("eras.json")));
        for (int i = 0; i < EraCache::maxEntries + 20; ++i)
            cache.remember(QUrl(QStringLiteral("http://127.0.0.1:9/s%1").arg(i)), EraCache::Era::Legacy,
                           QStringLiteral("2025-11-25"));
        QFile file(cache.path());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const Json stored = Json::parse(file.readAll().toStdString());
        QCOMPARE(int(stored["endpoints"].size()), EraCache::maxEntries);
        QVERIFY(cache.lookup(QUrl(QStringLiteral("http://127.0.0.1:9/s%1").arg(EraCache::maxEntries + 19))));
    }
};

QTEST_GUILESS_MAIN(TestMcpProxyEras)
#include "TestMcpProxyEras.moc"
