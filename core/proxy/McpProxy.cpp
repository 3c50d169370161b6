#include "proxy/McpProxy.h"

#include "broker/AgentClient.h"
#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"
#include "proxy/LegacyHostBridge.h"
#include "proxy/ModernWire.h"
#include "proxy/ProxySignIn.h"

#include <QDateTime>
#include <QPointer>

namespace mcpauth {

namespace {

constexpr qsizetype kMaxTracked = 4096;

} // namespace

McpProxy::McpProxy(AgentClient *agent, ProxyOptions options, TransportFactory factory, QObject *parent)
    : QObject(parent), m_agent(agent), m_options(std::move(options)), m_factory(std::move(factory))
{
    for (const auto &h : std::as_const(m_options.headers))
        if (h.first.compare("authorization", Qt::CaseInsensitive) == 0)
            m_staticAuthorization = true;
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, &McpProxy::closeNow);
    m_closeTimer.setSingleShot(true);
    connect(&m_closeTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcProxy) << "the transport did not close in time; ending anyway";
        finish(0);
    });
}

void McpProxy::start()
{
    if (m_state != State::Idle)
        return;
    if (!m_options.hasServerConfig())
        return fetchInitialToken();
    // The agent keeps the client options per server and uses them at the next sign-in.
    m_state = State::Configuring;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("server/configure"), m_options.serverConfigureParams(),
                  [self](Result<Json> r) {
                      if (!self || self->m_state != State::Configuring)
                          return;
                      if (!r)
                          qCWarning(lcProxy).noquote()
                              << "the agent did not take the client options:" << r.error().message;
                      self->fetchInitialToken();
                  });
}

Json McpProxy::tokenParams() const
{
    return Json{{"resource", toStd(m_options.serverUrl.toString())}, {"minValidSeconds", 60}};
}

void McpProxy::fetchInitialToken()
{
    if (m_staticAuthorization) {
        qCDebug(lcProxy) << "the user's Authorization header is used; no token from the agent";
        return afterToken();
    }
    m_state = State::Starting;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(), [self](Result<Json> r) {
        if (!self || self->m_state != State::Starting)
            return;
        if (r) {
            self->applyToken(r.value());
        } else if (ProxySignIn::needsSignIn(r.error())) {
            // Maybe the server needs no sign-in at all: try without a token, sign in on 401.
            qCDebug(lcProxy) << "no token yet; trying without one";
        } else {
            qCWarning(lcProxy).noquote() << "no token from the agent:" << r.error().message;
        }
        self->afterToken();
    });
}

void McpProxy::openTransport(TransportKind kind)
{
    adopt(m_factory(kind), kind);
}

void McpProxy::adopt(McpTransport *transport, TransportKind kind)
{
    m_kind = kind;
    m_transport = transport;
    m_transport->setParent(this);
    connect(m_transport, &McpTransport::messageReceived, this, &McpProxy::onServerMessage);
    connect(m_transport, &McpTransport::authorizationRequired, this, &McpProxy::onAuthorizationRequired);
    connect(m_transport, &McpTransport::sendFailed, this, &McpProxy::onSendFailed);
    connect(m_transport, &McpTransport::closed, this, &McpProxy::onTransportClosed);
    m_transport->setAccessToken(m_token);
    m_transport->start();
}

void McpProxy::flushQueue()
{
    // A send may report back synchronously and start a sign-in: what is left then waits again.
    while (m_state == State::Ready && !m_queue.isEmpty()) {
        const Json message = m_queue.takeFirst();
        if (!route(message))
            sendToServer(message);
    }
    maybeCloseAfterHost();
}

void McpProxy::sendToServer(const Json &message)
{
    if (m_tracked.size() > kMaxTracked) {
        // Notifications are tracked by content and never answered: drop those entries first.
        for (auto it = m_tracked.begin(); it != m_tracked.end();)
            it = it.key().startsWith("msg:") ? m_tracked.erase(it) : std::next(it);
    }
    m_tracked[JsonRpc::key(message)].sentGeneration = m_generation;
    m_transport->send(message);
}

void McpProxy::fromHost(const Json &message)
{
    if (m_state == State::Closing || m_state == State::Closed) {
        if (JsonRpc::isRequest(message))
            Q_EMIT toHost(
                Json{{"jsonrpc", "2.0"},
                     {"id", message["id"]},
                     {"error", {{"code", transportError}, {"message", "the proxy is shutting down"}}}});
        return;
    }
    if (JsonRpc::isRequest(message)) {
        const QString method = JsonRpc::method(message);
        const Json params = message.value("params", Json::object());
        // mcp-remote --ignore-tool: the tool does not exist as far as the host is concerned.
        if (method == QLatin1String("tools/call") && m_options.isToolIgnored(jsonString(params, "name"))) {
            Q_EMIT toHost(Json{
                {"jsonrpc", "2.0"},
                {"id", message["id"]},
                {"error",
                 {{"code", RpcError::InternalError},
                  {"message",
                   toStd(QStringLiteral("Tool \"%1\" is not available").arg(jsonString(params, "name")))}}}});
            return;
        }
        const QByteArray key = JsonRpc::key(message);
        m_outstanding.insert(key, message["id"]);
        if (method == QLatin1String("tools/list"))
            m_toolsList.insert(key);
    }
    if (m_state == State::Ready && tokenNearExpiry()) {
        m_queue.append(message);
        return refreshAhead();
    }
    if (JsonRpc::method(message) == QLatin1String("notifications/cancelled")) {
        // The host gives up on the request: nothing more is owed for it.
        const Json params = JsonRpc::params(message);
        if (params.contains("requestId"))
            forget(QByteArrayLiteral("id:") + toBytes(params["requestId"]));
    }
    if (m_state == State::Ready) {
        if (!route(message))
            sendToServer(message);
    } else {
        m_queue.append(message);
    }
}

void McpProxy::onServerMessage(const Json &message)
{
    Json out = message;
    if (JsonRpc::isResponse(message)) {
        const QByteArray key = JsonRpc::key(message);
        if (!m_initialize.is_null() && key == JsonRpc::key(m_initialize)) {
            if (reprobeIfEraChanged(message,
                                    message.contains("error") && ModernWire::isModernError(message["error"])))
                return;
            m_initialize = Json(); // answered as a 2025 server answers: the verdict holds
        }
        const bool wasToolsList = m_toolsList.contains(key);
        forget(key);
        if (wasToolsList && out.contains("result") && out["result"].is_object() &&
            out["result"].contains("tools") && out["result"]["tools"].is_array() &&
            !m_options.ignoredTools.isEmpty()) {
            Json kept = Json::array();
            for (const Json &tool : out["result"]["tools"])
                if (!m_options.isToolIgnored(jsonString(tool, "name")))
                    kept.push_back(tool);
            out["result"]["tools"] = kept;
        }
    }
    Q_EMIT toHost(out);
    maybeCloseAfterHost();
}

void McpProxy::onSendFailed(const Json &message, const Error &error)
{
    const bool canFallBack = !m_fellBack && m_kind != TransportKind::Stateless &&
                             error.code == QLatin1String("transport_unsupported") &&
                             ((m_options.transport == ProxyOptions::TransportMode::HttpFirst &&
                               m_kind == TransportKind::StreamableHttp) ||
                              (m_options.transport == ProxyOptions::TransportMode::SseFirst &&
                               m_kind == TransportKind::LegacySse));
    if (canFallBack && m_state != State::Closing && m_state != State::Closed) {
        // mcp-remote --transport http-first / sse-first: switch once, then stay.
        m_fellBack = true;
        const TransportKind other = m_kind == TransportKind::StreamableHttp ? TransportKind::LegacySse
                                                                            : TransportKind::StreamableHttp;
        qCInfo(lcProxy) << "the server does not speak this transport; falling back to"
                        << (other == TransportKind::LegacySse ? "HTTP+SSE" : "Streamable HTTP");
        McpTransport *old = m_transport;
        old->disconnect(this);
        old->deleteLater();
        openTransport(other);
        if (!message.is_null())
            sendToServer(message);
        return;
    }
    const bool unsupported = error.code == QLatin1String("transport_unsupported");
    if (reprobeIfEraChanged(message, unsupported && m_eraFromCache))
        return;
    if (unsupported && m_kind == TransportKind::Stateless) {
        // The server stopped answering 2026-07-28 requests (rolled back?): the next launch probes again.
        qCWarning(lcProxy) << "the MCP server no longer answers MCP" << ModernWire::version << "requests";
        m_eraCache.forget(m_options.serverUrl);
    }
    if (JsonRpc::isRequest(message))
        qCWarning(lcProxy).noquote()
            << QStringLiteral("%1 failed: %2").arg(JsonRpc::method(message), error.message);
    failMessage(message, transportError, QStringLiteral("MCP server: %1").arg(error.message), error);
}

void McpProxy::onTransportClosed()
{
    if (m_state == State::Closing)
        return finish(0);
    qCWarning(lcProxy) << "the MCP server ended the session";
    const QList<Json> ids = m_outstanding.values();
    for (const Json &id : ids)
        failRequest(id, transportError, QStringLiteral("the MCP server ended the session"),
                    Error::network(QStringLiteral("session_ended"), QStringLiteral("session ended")));
    finish(1);
}

void McpProxy::failMessage(const Json &message, int code, const QString &text, const Error &cause)
{
    if (message.is_null()) {
        // The era probe's sign-in failed: what waited for it fails with it, and the next message
        // starts over (probe, then its own sign-in attempts).
        m_tracked.remove(JsonRpc::key(Json()));
        return failQueued(code, text, cause);
    }
    if (!JsonRpc::isRequest(message)) {
        if (!message.is_null())
            qCWarning(lcProxy).noquote() << "dropped a"
                                         << (JsonRpc::method(message).isEmpty() ? QStringLiteral("response")
                                                                                : JsonRpc::method(message))
                                         << "message:" << text;
        return;
    }
    failRequest(message["id"], code, text, cause);
}

void McpProxy::failQueued(int code, const QString &text, const Error &cause)
{
    const QList<Json> queued = std::exchange(m_queue, {});
    for (const Json &m : queued)
        failMessage(m, code, text, cause);
}

void McpProxy::failRequest(const Json &id, int code, const QString &text, const Error &cause)
{
    forget(QByteArrayLiteral("id:") + toBytes(id));
    Q_EMIT toHost(Json{{"jsonrpc", "2.0"},
                       {"id", id},
                       {"error", {{"code", code}, {"message", toStd(text)}, {"data", rpcErrorData(cause)}}}});
    maybeCloseAfterHost();
}

void McpProxy::forget(const QByteArray &key)
{
    m_outstanding.remove(key);
    m_toolsList.remove(key);
    m_tracked.remove(key);
}

void McpProxy::hostClosed()
{
    if (m_hostClosed)
        return;
    m_hostClosed = true;
    qCDebug(lcProxy) << "the host closed stdin";
    maybeCloseAfterHost();
    if (m_state != State::Closing && m_state != State::Closed)
        m_graceTimer.start(hostCloseGraceMs);
}

void McpProxy::maybeCloseAfterHost()
{
    if (m_hostClosed && m_outstanding.isEmpty() && m_queue.isEmpty() &&
        (m_state == State::Ready || m_state == State::Idle))
        closeNow();
}

void McpProxy::closeNow()
{
    if (m_state == State::Closing || m_state == State::Closed)
        return;
    m_graceTimer.stop();
    m_state = State::Closing;
    if (m_signIn)
        m_signIn->cancel(); // its answer finds the proxy no longer Authorizing
    if (!m_transport)
        return finish(0);
    m_closeTimer.start(closeTimeoutMs);
    m_transport->close(); // Streamable HTTP: DELETE the session; closed() follows
}

void McpProxy::finish(int exitCode)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_graceTimer.stop();
    m_closeTimer.stop();
    Q_EMIT finished(exitCode);
}

} // namespace mcpauth

#include "moc_McpProxy.cpp"
