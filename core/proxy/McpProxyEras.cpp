#include "proxy/McpProxy.h"

#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"
#include "proxy/LegacyHostBridge.h"
#include "proxy/ModernWire.h"

// McpProxy, part two: which era each side speaks and where a host message goes
// (mcp-2026-07-28.md §2.3). Part one (McpProxy.cpp) relays, authorizes and closes.

namespace mcpauth {

void McpProxy::afterToken()
{
    const bool sse = m_options.transport == ProxyOptions::TransportMode::SseFirst ||
                     m_options.transport == ProxyOptions::TransportMode::SseOnly;
    if (m_options.protocol == ProxyOptions::ProtocolMode::Legacy || sse) {
        // --protocol legacy, or an HTTP+SSE server: no probe, 2025-11-25 as always.
        m_serverEra = ServerEra::Legacy;
        openTransport(sse ? TransportKind::LegacySse : TransportKind::StreamableHttp);
        m_state = State::Ready;
        return flushQueue();
    }
    if (m_options.protocol == ProxyOptions::ProtocolMode::Auto && !m_reprobed) {
        // Checklist B.10: a server that spoke only 2025-11-25 last time gets initialize straight away.
        const std::optional<EraCache::Entry> cached = m_eraCache.lookup(m_options.serverUrl);
        if (cached && cached->era == EraCache::Era::Legacy) {
            qCDebug(lcProxy).noquote()
                << "the MCP server spoke" << cached->version << "when last seen; no probe";
            m_serverEra = ServerEra::Legacy;
            m_eraFromCache = true;
            openTransport(TransportKind::StreamableHttp);
            m_state = State::Ready;
            return flushQueue();
        }
    }
    probe();
}

// Checklist B.10: the 2025 verdict stops holding when the server answers the host's initialize
// with an error only a modern server sends (or, for a verdict from the cache, with no transport at
// all). Only with --protocol auto (legacy means 2025-11-25 and nothing else). Once per launch: forget the
// verdict, probe again, and send the initialize where the new verdict says. True when that happened.
bool McpProxy::reprobeIfEraChanged(const Json &message, bool modernSign)
{
    if (m_options.protocol != ProxyOptions::ProtocolMode::Auto || m_serverEra != ServerEra::Legacy ||
        m_reprobed || !m_transport || m_initialize.is_null() || !modernSign ||
        JsonRpc::key(message) != JsonRpc::key(m_initialize))
        return false;
    qCInfo(lcProxy) << "the MCP server no longer answers as a 2025-11-25 server; asking it again";
    m_reprobed = true;
    m_eraFromCache = false;
    m_eraCache.forget(m_options.serverUrl);
    McpTransport *old = std::exchange(m_transport, nullptr);
    old->disconnect(this);
    old->deleteLater();
    m_serverEra = ServerEra::Unknown;
    m_hostEra = HostEra::Unknown;
    m_queue.prepend(std::exchange(m_initialize, Json()));
    if (m_state == State::Ready)
        flushQueue();
    return true;
}

// Checklist B.8: which era the server speaks, asked with a modern server/discover.
void McpProxy::probe()
{
    m_state = State::Probing;
    if (!m_modern) {
        m_modern = m_factory(TransportKind::Stateless);
        m_modern->setParent(this);
        m_modern->start();
    }
    m_modern->setAccessToken(m_token);
    m_tracked[JsonRpc::key(Json())].sentGeneration = m_generation; // the probe is the null message
    if (m_probe)
        m_probe->deleteLater();
    m_probe = new EraProbe(m_modern, Json::object(),
                           Json{{"name", "mcp-auth-proxy"}, {"version", MCPAUTH_VERSION}}, this);
    connect(m_probe, &EraProbe::finished, this, &McpProxy::onProbed);
    m_probe->start();
}

void McpProxy::onProbed(const EraProbe::Outcome &outcome)
{
    if (m_state != State::Probing)
        return;
    m_probe->deleteLater();
    m_probe = nullptr;
    m_state = State::Ready;
    switch (outcome.verdict) {
    case EraProbe::Verdict::Modern:
        qCInfo(lcProxy).noquote() << "the MCP server speaks" << outcome.version;
        m_tracked.remove(JsonRpc::key(Json()));
        m_serverEra = ServerEra::Modern;
        m_discover = outcome.discover;
        m_eraCache.remember(m_options.serverUrl, EraCache::Era::Modern, outcome.version);
        break;
    case EraProbe::Verdict::Legacy:
        if (m_options.protocol == ProxyOptions::ProtocolMode::Modern) {
            m_serverEra = ServerEra::Unknown;
            const Error error =
                Error::protocol(QStringLiteral("version_unsupported"),
                                QStringLiteral("the MCP server does not speak MCP %1 (--protocol modern)")
                                    .arg(ModernWire::version));
            failQueued(transportError, QStringLiteral("MCP server: %1").arg(error.message), error);
            break;
        }
        qCInfo(lcProxy) << "the MCP server speaks 2025-11-25 or older";
        m_serverEra = ServerEra::Legacy;
        m_eraCache.remember(m_options.serverUrl, EraCache::Era::Legacy, ModernWire::legacyVersions.first());
        m_modern->deleteLater();
        m_modern = nullptr;
        openTransport(TransportKind::StreamableHttp);
        break;
    case EraProbe::Verdict::AuthorizationRequired:
        // Never an era verdict: sign in when the host asks for something real, then probe again.
        m_serverEra = ServerEra::NeedsSignIn;
        m_probeStatus = outcome.httpStatus;
        m_probeChallenge = outcome.challenge;
        break;
    case EraProbe::Verdict::Failed:
        // 5xx, timeouts: no verdict; what waits fails with the reason, the next message probes again.
        qCWarning(lcProxy).noquote() << "could not tell the MCP server's protocol era:"
                                     << outcome.error.message;
        m_serverEra = ServerEra::Unknown;
        failQueued(transportError, QStringLiteral("MCP server: %1").arg(outcome.error.message),
                   outcome.error);
        break;
    }
    flushQueue();
}

void McpProxy::answerHost(const Json &response)
{
    forget(JsonRpc::key(response));
    Q_EMIT toHost(response);
}

// Where a host message goes once the server's era is known (mcp-2026-07-28.md §2.3). True when
// it was answered here or waits; false when it goes to m_transport.
bool McpProxy::route(const Json &message)
{
    const QString method = JsonRpc::method(message);
    const bool request = JsonRpc::isRequest(message);
    const bool isProbe = request && method == QLatin1String("server/discover");
    const QString revision = request ? ModernWire::requestVersion(message) : QString();
    switch (m_serverEra) {
    case ServerEra::Unknown:
        m_queue.prepend(message);
        probe();
        return true;
    case ServerEra::NeedsSignIn:
        if (isProbe && m_hostEra == HostEra::Unknown) {
            // Checklist A.4: a probe-only launch (SDK v2's sibling process) never opens a browser.
            answerHost(
                JsonRpc::errorResponse(message["id"], authError,
                                       QStringLiteral("sign-in to %1 required (run: mcp-auth login %1)")
                                           .arg(m_options.serverUrl.toString())));
            return true;
        }
        m_queue.prepend(message);
        onAuthorizationRequired(Json(), m_probeStatus, m_probeChallenge);
        return true;
    case ServerEra::Legacy:
        if (isProbe && m_hostEra == HostEra::Unknown) {
            // Checklist A.3: a non-modern error, so a dual-era host falls back to initialize.
            answerHost(JsonRpc::errorResponse(message["id"], RpcError::MethodNotFound,
                                              QStringLiteral("Method not found")));
            return true;
        }
        if (ModernWire::isModern(revision)) {
            answerHost(JsonRpc::errorResponse(
                message["id"], ModernWire::unsupportedVersion,
                QStringLiteral("the MCP server speaks 2025-11-25, not %1").arg(revision.left(32)),
                ModernWire::unsupportedVersionError(revision, {ModernWire::legacyVersions.first()})["data"]));
            return true;
        }
        if (method == QLatin1String("initialize")) {
            m_hostEra = HostEra::Legacy;
            if (!m_reprobed)
                m_initialize = message; // until its answer shows the verdict holds
        }
        return false;
    case ServerEra::Modern:
        break;
    }
    if (isProbe && !m_transport) {
        // Checklist A.3: the server's DiscoverResult, with the versions both of us speak.
        Json result = m_discover.is_object() ? m_discover : Json{{"capabilities", Json::object()}};
        result["supportedVersions"] = Json::array({toStd(ModernWire::version)});
        answerHost(JsonRpc::resultResponse(message["id"], result));
        return true;
    }
    if (!revision.isEmpty() && !ModernWire::isImplemented(revision)) {
        // Checklist C.18: refused here, without contacting the server.
        const Json error = ModernWire::unsupportedVersionError(revision, {ModernWire::version});
        answerHost(JsonRpc::errorResponse(message["id"], ModernWire::unsupportedVersion,
                                          fromStd(error["message"].get<std::string>()), error["data"]));
        return true;
    }
    if (!m_transport) {
        if (!revision.isEmpty()) {
            m_hostEra = HostEra::Modern;
            adopt(std::exchange(m_modern, nullptr), TransportKind::Stateless);
        } else if (request) {
            // initialize (or a 2025 host that skipped it): the bridge speaks for it.
            m_hostEra = HostEra::Legacy;
            adopt(new LegacyHostBridge(std::exchange(m_modern, nullptr), m_discover),
                  TransportKind::Stateless);
        } else {
            return true; // a notification before anything: nothing to tell a stateless server
        }
    }
    return false;
}

} // namespace mcpauth
