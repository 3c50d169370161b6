#pragma once

#include "FakeAgent.h"
#include "FakeTransport.h"
#include "JsonRpcTest.h"
#include "broker/AgentClient.h"
#include "proxy/McpProxy.h"

#include <QDir>
#include <QPointer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace mcpauth::test {

/// What the McpProxy tests share: a FakeAgent on a private socket, an AgentClient to it, the proxy
/// under test with FakeTransports the test drives, and a spy on what the host receives. A test
/// class derives from it and calls setUp()/tearDown() from its init()/cleanup() slots.
class ProxyFixture : public QObject
{
protected:
    std::unique_ptr<QTemporaryDir> m_tmp;
    std::unique_ptr<FakeAgent> m_agent;
    std::unique_ptr<AgentClient> m_client;
    std::unique_ptr<McpProxy> m_proxy;
    std::unique_ptr<QSignalSpy> m_toHost;
    QList<QPointer<FakeTransport>> m_transports;
    EraCache m_eraCache; ///< given to the proxy at start; none unless a test sets one

    /// False (and a warning) when the fixture could not be set up.
    bool setUp()
    {
        m_tmp = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/mcpp-XXXXXX"));
        m_agent = std::make_unique<FakeAgent>();
        m_transports.clear();
        m_eraCache = EraCache();
        return m_tmp->isValid() && m_agent->listen(m_tmp->path() + QStringLiteral("/run/agent.sock"));
    }
    void tearDown()
    {
        m_toHost.reset();
        m_proxy.reset();
        m_client.reset();
        m_agent.reset();
        m_tmp.reset();
    }

    /// Starts a proxy for `args` (server URL first) against the fake agent and waits for `until`.
    bool startProxy(QStringList args = {}, McpProxy::State until = McpProxy::State::Ready)
    {
        // The 2025-11-25 behaviour unless a test asks for era detection.
        if (!args.contains(QStringLiteral("--protocol")))
            args << QStringLiteral("--protocol") << QStringLiteral("legacy");
        args.prepend(serverUrl().toString());
        Result<ProxyOptions> options = ProxyOptions::parse(args, {});
        if (!options)
            return false;
        m_client = std::make_unique<AgentClient>(m_agent->server.socketPath(), m_agent->identity);
        bool connected = false;
        m_client->connectOnly(3000, [&](Status st) { connected = st.ok(); });
        if (!QTest::qWaitFor([&] { return connected; }, 3000))
            return false;
        m_proxy = std::make_unique<McpProxy>(m_client.get(), options.value(), [this](TransportKind kind) {
            auto *t = new FakeTransport(kind);
            m_transports << t;
            return t;
        });
        m_proxy->setEraCache(m_eraCache);
        m_toHost = std::make_unique<QSignalSpy>(m_proxy.get(), &McpProxy::toHost);
        m_proxy->start();
        return QTest::qWaitFor([&] { return m_proxy->state() == until; }, 3000);
    }
    /// Starts with era detection and answers the server/discover probe with `answer` (a result
    /// or an error object, as the JSON-RPC response's member `kind`).
    bool startProbed(const char *kind, const Json &answer)
    {
        if (!startProxy({QStringLiteral("--protocol"), QStringLiteral("auto")}, McpProxy::State::Probing))
            return false;
        FakeTransport *probe = m_transports.first();
        if (probe->kind != TransportKind::Stateless || probe->sent.size() != 1)
            return false;
        Q_EMIT probe->messageReceived(
            Json{{"jsonrpc", "2.0"}, {"id", probe->sent[0].message["id"]}, {kind, answer}});
        return m_proxy->state() == McpProxy::State::Ready;
    }

    static QUrl serverUrl() { return QUrl(QStringLiteral("http://127.0.0.1:9/mcp")); }
    static QString str(const Json &j, const char *key) { return jsonString(j, key); }
    static Json discoverResult()
    {
        return Json{{"resultType", "complete"},
                    {"supportedVersions", {"2026-07-28"}},
                    {"capabilities", {{"tools", {{"listChanged", true}}}}},
                    {"_meta", {{"io.modelcontextprotocol/serverInfo", {{"name", "srv"}, {"version", "2"}}}}}};
    }
    static Json modernRequest(const Json &id, const char *method, const char *version = "2026-07-28")
    {
        return request(id, method,
                       {{"_meta",
                         {{"io.modelcontextprotocol/protocolVersion", version},
                          {"io.modelcontextprotocol/clientCapabilities", Json::object()}}}});
    }
    FakeTransport *transport() const { return m_transports.last(); }
    Json hostMessage(qsizetype i) const { return m_toHost->at(i).at(0).value<Json>(); }
    Json lastHostMessage() const { return hostMessage(m_toHost->size() - 1); }
    int logins() const { return int(m_agent->callsOf(QStringLiteral("login/start")).size()); }
};

} // namespace mcpauth::test
