#include "proxy/McpProxy.h"

#include "broker/AgentClient.h"
#include "broker/RpcErrors.h"
#include "common/Log.h"
#include "proxy/JsonRpc.h"
#include "proxy/LegacyHostBridge.h"
#include "proxy/ModernWire.h"

#include <QDateTime>
#include <QPointer>
#include <QRegularExpression>

namespace mcpauth {

namespace {

// Error codes the host sees. -32001 matches the agent's "sign-in required" family.
constexpr int kAuthError = RpcError::LoginRequired;
constexpr int kTransportError = RpcError::InternalError;
constexpr qsizetype kMaxTracked = 4096;

bool isRequest(const Json &m)
{
    return JsonRpc::isRequest(m);
}

bool isResponse(const Json &m)
{
    return JsonRpc::isResponse(m);
}

// Requests and responses are matched by id; anything else by its whole text.
QByteArray keyOf(const Json &m)
{
    if (isRequest(m) || isResponse(m))
        return QByteArrayLiteral("id:") + toBytes(m["id"]);
    return QByteArrayLiteral("msg:") + toBytes(m);
}

QString methodOf(const Json &m)
{
    return jsonString(m, "method");
}

// 2026-07-28 (SEP-2350): the new request is the union of what was held and what was challenged,
// in order, without duplicates.
QString unionScopes(const QString &held, const QString &challenged)
{
    static const QRegularExpression ws(QStringLiteral("\\s+"));
    QStringList out;
    const QStringList all = held.split(ws, Qt::SkipEmptyParts) + challenged.split(ws, Qt::SkipEmptyParts);
    for (const QString &s : all)
        if (!out.contains(s))
            out << s;
    return out.join(QLatin1Char(' '));
}

Json challengeJson(const BearerChallenge &c)
{
    Json j = Json::object();
    if (!c.resourceMetadata.isEmpty())
        j["resourceMetadata"] = toStd(c.resourceMetadata.toString());
    if (!c.scope.isEmpty())
        j["scope"] = toStd(c.scope);
    if (!c.error.isEmpty())
        j["error"] = toStd(c.error);
    return j;
}

bool isSignInNeeded(const Error &e)
{
    return e.category == Error::Category::LoginRequired || e.code == QLatin1String("login_required") ||
           e.code == QLatin1String("insufficient_scope");
}

} // namespace

McpProxy::McpProxy(AgentClient *agent, ProxyOptions options, TransportFactory factory, QObject *parent)
    : QObject(parent), m_agent(agent), m_options(std::move(options)), m_factory(std::move(factory))
{
    for (const auto &h : std::as_const(m_options.headers))
        if (h.first.compare("authorization", Qt::CaseInsensitive) == 0)
            m_staticAuthorization = true;
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        endAuthorization(Error::cancelled(
            QStringLiteral("the sign-in did not finish within %1 s").arg(m_options.authTimeoutSeconds)));
    });
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
        } else if (isSignInNeeded(r.error())) {
            // Maybe the server needs no sign-in at all: try without a token, sign in on 401.
            qCDebug(lcProxy) << "no token yet; trying without one";
        } else {
            qCWarning(lcProxy).noquote() << "no token from the agent:" << r.error().message;
        }
        self->afterToken();
    });
}

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
    probe();
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
    m_tracked[keyOf(Json())].sentGeneration = m_generation; // the probe is the null message
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
        m_tracked.remove(keyOf(Json()));
        m_serverEra = ServerEra::Modern;
        m_discover = outcome.discover;
        break;
    case EraProbe::Verdict::Legacy:
        if (m_options.protocol == ProxyOptions::ProtocolMode::Modern) {
            m_serverEra = ServerEra::Unknown;
            m_probeError =
                Error::protocol(QStringLiteral("version_unsupported"),
                                QStringLiteral("the MCP server does not speak MCP %1 (--protocol modern)")
                                    .arg(ModernWire::version));
            failQueued(m_probeError);
            break;
        }
        qCInfo(lcProxy) << "the MCP server speaks 2025-11-25 or older";
        m_serverEra = ServerEra::Legacy;
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
        m_probeError = outcome.error;
        failQueued(outcome.error);
        break;
    }
    flushQueue();
}

void McpProxy::failQueued(const Error &error)
{
    const QList<Json> queued = std::exchange(m_queue, {});
    for (const Json &m : queued)
        failMessage(m, kTransportError, QStringLiteral("MCP server: %1").arg(error.message), error);
}

void McpProxy::answerHost(const Json &response)
{
    forget(keyOf(response));
    Q_EMIT toHost(response);
}

void McpProxy::adopt(McpTransport *transport)
{
    m_kind = TransportKind::Stateless;
    m_transport = transport;
    m_transport->setParent(this);
    connect(m_transport, &McpTransport::messageReceived, this, &McpProxy::onServerMessage);
    connect(m_transport, &McpTransport::authorizationRequired, this, &McpProxy::onAuthorizationRequired);
    connect(m_transport, &McpTransport::sendFailed, this, &McpProxy::onSendFailed);
    connect(m_transport, &McpTransport::closed, this, &McpProxy::onTransportClosed);
    m_transport->setAccessToken(m_token);
    m_transport->start();
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
    case ServerEra::Unreachable:
        m_queue.prepend(message);
        probe();
        return true;
    case ServerEra::NeedsSignIn:
        if (isProbe && m_hostEra == HostEra::Unknown) {
            // Checklist A.4: a probe-only launch (SDK v2's sibling process) never opens a browser.
            answerHost(
                JsonRpc::errorResponse(message["id"], kAuthError,
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
        if (method == QLatin1String("initialize"))
            m_hostEra = HostEra::Legacy;
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
            adopt(std::exchange(m_modern, nullptr));
        } else if (request) {
            // initialize (or a 2025 host that skipped it): the bridge speaks for it.
            m_hostEra = HostEra::Legacy;
            adopt(new LegacyHostBridge(std::exchange(m_modern, nullptr), m_discover));
        } else {
            return true; // a notification before anything: nothing to tell a stateless server
        }
    }
    return false;
}

void McpProxy::openTransport(TransportKind kind)
{
    m_kind = kind;
    m_transport = m_factory(kind);
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
    m_tracked[keyOf(message)].sentGeneration = m_generation;
    m_transport->send(message);
}

void McpProxy::fromHost(const Json &message)
{
    if (m_state == State::Closing || m_state == State::Closed) {
        if (isRequest(message))
            Q_EMIT toHost(
                Json{{"jsonrpc", "2.0"},
                     {"id", message["id"]},
                     {"error", {{"code", kTransportError}, {"message", "the proxy is shutting down"}}}});
        return;
    }
    if (isRequest(message)) {
        const QString method = methodOf(message);
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
        const QByteArray key = keyOf(message);
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

// The held token is about to expire: ask the agent for a fresh one before sending, rather than
// spending a round trip on the 401 the server would answer.
bool McpProxy::tokenNearExpiry() const
{
    if (m_token.isEmpty() || m_staticAuthorization || m_tokenExpiresAt <= 0)
        return false;
    const qint64 lifetime = m_tokenExpiresAt - m_tokenReceivedAt;
    const qint64 margin = std::min<qint64>(60, std::max<qint64>(lifetime / 2, 0));
    return QDateTime::currentSecsSinceEpoch() >= m_tokenExpiresAt - margin;
}

void McpProxy::refreshAhead()
{
    m_state = State::Refreshing;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(), [self](Result<Json> r) {
        if (!self || self->m_state != State::Refreshing)
            return;
        if (r)
            self->applyToken(r.value());
        else // the request goes out with the old token; a 401 then takes the usual path
            qCDebug(lcProxy).noquote() << "refresh ahead of expiry failed:" << r.error().message;
        self->m_state = State::Ready;
        self->flushQueue();
    });
}

void McpProxy::onServerMessage(const Json &message)
{
    Json out = message;
    if (isResponse(message)) {
        const QByteArray key = keyOf(message);
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

void McpProxy::onAuthorizationRequired(const Json &message, int httpStatus, const BearerChallenge &challenge)
{
    if (m_state == State::Closing || m_state == State::Closed)
        return failMessage(message, kAuthError, QStringLiteral("the proxy is shutting down"),
                           Error::cancelled());
    if (m_staticAuthorization)
        return failMessage(message, kAuthError,
                           QStringLiteral("the server refused the Authorization header given with --header "
                                          "(HTTP %1)")
                               .arg(httpStatus),
                           Error::loginRequired(QStringLiteral("static authorization refused")));
    Tracked &t = m_tracked[keyOf(message)];
    if (t.sentGeneration < m_generation) {
        // Sent with an older token than we hold now (another message's sign-in finished since).
        return message.is_null() ? probe() : sendToServer(message);
    }
    if (m_state == State::Authorizing) {
        m_waitingRetry.append(message);
        return;
    }
    if (httpStatus == 403) {
        // Spec 2025-11-25 "Scope challenge handling": 403 with error="insufficient_scope" and the
        // scope needed. Some servers send the scope without the error code: a scope is a challenge too.
        const bool stepUp = challenge.error == QLatin1String("insufficient_scope") ||
                            (challenge.error.isEmpty() && !challenge.scope.isEmpty());
        if (!stepUp)
            return failMessage(message, kAuthError,
                               QStringLiteral("the server refused the request (HTTP 403%1)")
                                   .arg(challenge.errorDescription.isEmpty()
                                            ? QString()
                                            : QStringLiteral(": ") + challenge.errorDescription.left(200)),
                               Error::protocol(QStringLiteral("forbidden"), QStringLiteral("HTTP 403")));
        if (t.authorizations >= maxAuthorizations)
            return failMessage(
                message, kAuthError,
                QStringLiteral("insufficient scope after %1 attempts").arg(t.authorizations),
                Error::protocol(QStringLiteral("insufficient_scope"), QStringLiteral("insufficient scope")));
        return beginAuthorization(message, AuthKind::StepUp, challenge);
    }
    // 401. Spec 2025-11-25 "Token handling": a 401 right after a completed sign-in is final.
    if (t.retried401)
        return failMessage(message, kAuthError, QStringLiteral("the server rejected the sign-in"),
                           Error::loginRequired(QStringLiteral("the server rejected the sign-in")));
    t.retried401 = true;
    beginAuthorization(message, AuthKind::Unauthorized, challenge);
}

void McpProxy::beginAuthorization(const Json &message, AuthKind kind, const BearerChallenge &challenge)
{
    m_state = State::Authorizing;
    m_authMessage = message;
    m_authKind = kind;
    const quint64 serial = ++m_authSerial;
    if (m_options.authTimeoutSeconds > 0)
        m_authTimer.start(m_options.authTimeoutSeconds * 1000);
    if (kind == AuthKind::StepUp) {
        const QString scope = unionScopes(m_scope, challenge.scope);
        qCInfo(lcProxy).noquote() << "step-up authorization for scope" << scope;
        return signIn(challenge, scope, true);
    }
    // 401: the agent may hold a fresher token already (refreshed, or another proxy signed in).
    const QString used = m_token;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(),
                  [self, serial, used, challenge](Result<Json> r) {
                      if (!self || serial != self->m_authSerial)
                          return;
                      if (r) {
                          const QString fresh = jsonString(r.value(), "accessToken");
                          if (!fresh.isEmpty() && fresh != used) {
                              self->applyToken(r.value());
                              return self->endAuthorization(okStatus());
                          }
                          // The server refuses the very token the agent holds: sign in again.
                          return self->signIn(challenge, QString(), true);
                      }
                      if (isSignInNeeded(r.error()))
                          return self->signIn(challenge, QString(), false);
                      self->endAuthorization(r.error());
                  });
}

void McpProxy::signIn(const BearerChallenge &challenge, const QString &scope, bool force)
{
    ++m_tracked[keyOf(m_authMessage)].authorizations;
    Json params = Json::object();
    params["resource"] = toStd(m_options.serverUrl.toString());
    if (challenge.present)
        params["challenge"] = challengeJson(challenge);
    if (!scope.isEmpty())
        params["scope"] = toStd(scope);
    if (force)
        params["force"] = true;
    qCInfo(lcProxy) << "signing in to" << m_options.serverUrl.toString();
    const quint64 serial = m_authSerial;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("login/start"), params, [self, serial](Result<Json> r) {
        if (!self || serial != self->m_authSerial)
            return;
        if (!r)
            return self->endAuthorization(r.error());
        self->m_agent->call(QStringLiteral("token/get"), self->tokenParams(), [self, serial](Result<Json> t) {
            if (!self || serial != self->m_authSerial)
                return;
            if (!t)
                return self->endAuthorization(t.error());
            self->applyToken(t.value());
            self->endAuthorization(okStatus());
        });
    });
}

void McpProxy::applyToken(const Json &tokenResult)
{
    const QString token = jsonString(tokenResult, "accessToken");
    m_scope = jsonString(tokenResult, "scope");
    m_tokenExpiresAt = jsonInt(tokenResult, "expiresAt").value_or(0);
    m_tokenReceivedAt = QDateTime::currentSecsSinceEpoch();
    if (token == m_token)
        return;
    m_token = token;
    ++m_generation;
    if (m_transport)
        m_transport->setAccessToken(m_token);
    if (m_modern)
        m_modern->setAccessToken(m_token);
}

void McpProxy::endAuthorization(const Status &outcome)
{
    if (m_state != State::Authorizing)
        return;
    m_authTimer.stop();
    ++m_authSerial; // late answers of this sign-in are ignored from now on
    m_state = State::Ready;
    const Json message = std::exchange(m_authMessage, Json());
    const QList<Json> waiting = std::exchange(m_waitingRetry, {});
    if (outcome && message.is_null()) {
        // Signed in for the era probe: probe again, then what waits goes out.
        m_queue = waiting + m_queue;
        return probe();
    }
    if (outcome) {
        sendToServer(message);
        for (const Json &m : waiting)
            sendToServer(m);
        return flushQueue();
    }
    const Error &e = outcome.error();
    qCWarning(lcProxy).noquote() << "sign-in failed:" << e.message;
    const QString text =
        QStringLiteral("sign-in to %1 did not complete: %2").arg(m_options.serverUrl.toString(), e.message);
    const int code = e.category == Error::Category::Cancelled ? int(RpcError::Cancelled) : kAuthError;
    failMessage(message, code, text, e);
    for (const Json &m : waiting)
        failMessage(m, code, text, e);
    if (m_authKind == AuthKind::Unauthorized) {
        // Requests that waited for this sign-in would only meet the same 401: they fail with it.
        // Notifications and responses still go out; later requests are served as usual.
        QList<Json> rest;
        for (const Json &m : std::as_const(m_queue)) {
            if (isRequest(m))
                failMessage(m, code, text, e);
            else
                rest << m;
        }
        m_queue = rest;
    }
    flushQueue();
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
    if (isRequest(message))
        qCWarning(lcProxy).noquote() << QStringLiteral("%1 failed: %2").arg(methodOf(message), error.message);
    failMessage(message, kTransportError, QStringLiteral("MCP server: %1").arg(error.message), error);
}

void McpProxy::onTransportClosed()
{
    if (m_state == State::Closing)
        return finish(0);
    qCWarning(lcProxy) << "the MCP server ended the session";
    const QList<Json> ids = m_outstanding.values();
    for (const Json &id : ids)
        failRequest(id, kTransportError, QStringLiteral("the MCP server ended the session"),
                    Error::network(QStringLiteral("session_ended"), QStringLiteral("session ended")));
    finish(1);
}

void McpProxy::failMessage(const Json &message, int code, const QString &text, const Error &cause)
{
    if (message.is_null()) {
        // The era probe's sign-in failed: what waited for it fails with it, and the next message
        // starts over (probe, then its own sign-in attempts).
        m_tracked.remove(keyOf(Json()));
        const QList<Json> queued = std::exchange(m_queue, {});
        for (const Json &m : queued)
            failMessage(m, code, text, cause);
        return;
    }
    if (!isRequest(message)) {
        if (!message.is_null())
            qCWarning(lcProxy).noquote()
                << "dropped a"
                << (methodOf(message).isEmpty() ? QStringLiteral("response") : methodOf(message))
                << "message:" << text;
        return;
    }
    failRequest(message["id"], code, text, cause);
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
    m_authTimer.stop();
    ++m_authSerial;
    m_state = State::Closing;
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
    m_authTimer.stop();
    Q_EMIT finished(exitCode);
}

} // namespace mcpauth
