#include "proxy/LegacyHostBridge.h"

#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"
#include "proxy/ModernWire.h"

// LegacyHostBridge, part one: initialize, local answers, the legs to the server, list changes through
// subscriptions/listen. Part two (LegacyHostBridgeRounds.cpp): input_required rounds.

namespace mcpauth {

namespace {

constexpr int kListenRetryMs = 1000;
constexpr int kMaxListenRetryMs = 30'000;
constexpr int kMaxListenFailures = 8;
constexpr qsizetype kMaxSubscriptions = 256;

bool advertises(const Json &capabilities, const char *kind)
{
    return capabilities.is_object() && capabilities.contains(kind) && capabilities[kind].is_object() &&
           capabilities[kind].value("listChanged", false) == true;
}

} // namespace

LegacyHostBridge::LegacyHostBridge(McpTransport *inner, Json discover, QObject *parent)
    : McpTransport(parent), m_inner(inner), m_discover(std::move(discover))
{
    m_inner->setParent(this);
    m_listenTimer.setSingleShot(true);
    connect(&m_listenTimer, &QTimer::timeout, this, &LegacyHostBridge::openListen);
    connect(m_inner, &McpTransport::messageReceived, this, &LegacyHostBridge::fromServer);
    connect(m_inner, &McpTransport::authorizationRequired, this,
            [this](const Json &m, int status, const BearerChallenge &challenge) {
                const QString wireId = JsonRpc::stringId(m);
                if (!wireId.isEmpty() && wireId == m_listenId) {
                    m_listenId.clear();
                    m_listenNeedsToken = true; // setAccessToken() opens it again
                    return;
                }
                if (!wireId.isEmpty() && wireId == m_discoverId) {
                    // The proxy signs in and sends the initialize again, which asks again.
                    m_discoverId.clear();
                    const QList<Json> waiting = std::exchange(m_initializeWaiting, {});
                    if (!waiting.isEmpty())
                        Q_EMIT authorizationRequired(waiting.first(), status, challenge);
                    return;
                }
                auto it = m_legs.find(wireId);
                if (it == m_legs.end())
                    return;
                it->awaitingToken = true;
                Q_EMIT authorizationRequired(it->hostMessage, status, challenge);
            });
    connect(m_inner, &McpTransport::sendFailed, this, [this](const Json &m, const Error &error) {
        const QString wireId = JsonRpc::stringId(m);
        if (!wireId.isEmpty() && wireId == m_listenId) {
            m_listenId.clear();
            qCDebug(lcProxy).noquote() << "subscription stream failed:" << error.message;
            ++m_listenFailures;
            return scheduleListen();
        }
        if (!wireId.isEmpty() && wireId == m_discoverId) {
            m_discoverId.clear();
            for (const Json &init : std::exchange(m_initializeWaiting, {}))
                Q_EMIT sendFailed(init, error);
            return;
        }
        const auto it = m_legs.find(wireId);
        if (it == m_legs.end())
            return;
        const Json host = it->hostMessage;
        m_byHostId.remove(idKey(host["id"]));
        m_legs.erase(it);
        Q_EMIT sendFailed(host, error);
    });
    connect(m_inner, &McpTransport::closed, this, &McpTransport::closed);
}

void LegacyHostBridge::start()
{
    m_inner->start();
}

void LegacyHostBridge::setAccessToken(const QString &token)
{
    m_inner->setAccessToken(token);
    if (m_listenNeedsToken && !token.isEmpty()) {
        m_listenNeedsToken = false;
        openListen();
    }
}

void LegacyHostBridge::close()
{
    m_closed = true;
    m_listenTimer.stop();
    m_inner->close(); // closed() follows from it
}

void LegacyHostBridge::reply(const Json &message)
{
    // Queued, as a server's answer would be: the caller is still inside send().
    QMetaObject::invokeMethod(
        this, [this, message] { Q_EMIT messageReceived(message); }, Qt::QueuedConnection);
}

// Ids the bridge puts on the wire or sends the host: "mcp-auth-<kind><n>", never reused.
QString LegacyHostBridge::mintId(const char *kind)
{
    return QStringLiteral("mcp-auth-%1%2").arg(QLatin1String(kind)).arg(m_nextId++);
}

Json LegacyHostBridge::stamp(Json request) const
{
    return ModernWire::stamp(std::move(request), m_hostCapabilities, m_hostClientInfo, m_logLevel);
}

void LegacyHostBridge::send(const Json &message)
{
    if (m_closed)
        return;
    const QString method = JsonRpc::method(message);
    if (JsonRpc::isResponse(message))
        return onHostAnswer(message);
    if (JsonRpc::isNotification(message)) {
        if (method == QLatin1String("notifications/initialized")) {
            m_listenWanted = true;
            return openListen();
        }
        if (method == QLatin1String("notifications/cancelled")) {
            const Json params = JsonRpc::params(message);
            const QString wireId = m_byHostId.take(idKey(params.value("requestId", Json())));
            if (wireId.isEmpty())
                return;
            const Leg leg = m_legs.take(wireId);
            for (const QString &input : leg.pending)
                m_inputs.remove(input);
            // The stateless transport closes the leg's stream: the server's cancellation.
            m_inner->send(Json{{"jsonrpc", "2.0"},
                               {"method", "notifications/cancelled"},
                               {"params", {{"requestId", toStd(wireId)}}}});
        }
        return; // roots/list_changed and the rest have no 2026-07-28 counterpart
    }
    if (!JsonRpc::isRequest(message))
        return;
    const Json params = JsonRpc::params(message);
    if (method == QLatin1String("initialize"))
        return answerInitialize(message);
    if (method == QLatin1String("ping"))
        return reply(JsonRpc::resultResponse(message["id"], Json::object()));
    if (method == QLatin1String("logging/setLevel")) {
        m_logLevel = jsonString(params, "level").left(32);
        return reply(JsonRpc::resultResponse(message["id"], Json::object()));
    }
    if (method == QLatin1String("resources/subscribe") || method == QLatin1String("resources/unsubscribe")) {
        const QString uri = jsonString(params, "uri");
        if (method == QLatin1String("resources/unsubscribe"))
            m_resourceSubscriptions.remove(uri);
        else if (!uri.isEmpty() && m_resourceSubscriptions.size() < kMaxSubscriptions)
            m_resourceSubscriptions.insert(uri);
        if (m_listenWanted) {
            closeListen();
            openListen();
        }
        return reply(JsonRpc::resultResponse(message["id"], Json::object()));
    }
    // The proxy resends a leg after a sign-in: the same request as it went out.
    if (const QString wireId = m_byHostId.value(idKey(message["id"])); !wireId.isEmpty()) {
        auto it = m_legs.find(wireId);
        if (it != m_legs.end() && it->awaitingToken) {
            it->awaitingToken = false;
            m_inner->send(it->wireMessage);
            return;
        }
    }
    sendLeg(message);
}

QString LegacyHostBridge::sendLeg(const Json &hostMessage)
{
    if (m_legs.size() >= maxLegs) {
        reply(JsonRpc::errorResponse(hostMessage["id"], RpcError::InternalError,
                                     QStringLiteral("too many requests in flight")));
        return {};
    }
    const QString wireId = mintId("");
    Leg leg;
    leg.hostMessage = hostMessage;
    Json wire = stamp(hostMessage);
    wire["id"] = toStd(wireId);
    leg.wireMessage = wire;
    m_byHostId.insert(idKey(hostMessage["id"]), wireId);
    m_legs.insert(wireId, leg);
    m_inner->send(wire);
    return wireId;
}

void LegacyHostBridge::answerInitialize(const Json &request)
{
    const Json params = JsonRpc::params(request);
    m_hostCapabilities = params.value("capabilities", Json::object());
    if (!m_hostCapabilities.is_object())
        m_hostCapabilities = Json::object();
    m_hostClientInfo = params.value("clientInfo", Json());
    if (m_discover.is_null()) {
        // The probe learnt the era from an error: ask for the DiscoverResult now.
        m_initializeWaiting.append(request);
        if (m_discoverId.isEmpty()) {
            m_discoverId = mintId("discover-");
            m_inner->send(
                stamp(Json{{"jsonrpc", "2.0"}, {"id", toStd(m_discoverId)}, {"method", "server/discover"}}));
        }
        return;
    }
    const QString asked = jsonString(params, "protocolVersion");
    Json result = Json::object();
    // Checklist 26: the host's version when it is one we speak, else the newest legacy one.
    result["protocolVersion"] =
        toStd(ModernWire::legacyVersions.contains(asked) ? asked : ModernWire::legacyVersions.first());
    result["capabilities"] = m_discover.value("capabilities", Json::object());
    const Json meta = m_discover.value("_meta", Json::object());
    result["serverInfo"] = meta.is_object() && meta.contains(ModernWire::serverInfoKey)
                               ? meta[ModernWire::serverInfoKey]
                               : Json{{"name", "mcp-auth-proxy"}, {"version", MCPAUTH_VERSION}};
    if (m_discover.contains("instructions"))
        result["instructions"] = m_discover["instructions"];
    reply(JsonRpc::resultResponse(request["id"], result));
}

void LegacyHostBridge::fromServer(const Json &message)
{
    if (JsonRpc::isResponse(message)) {
        const QString wireId = JsonRpc::stringId(message);
        if (!wireId.isEmpty() && wireId == m_discoverId) {
            m_discoverId.clear();
            m_discover = message.value("result", Json::object());
            for (const Json &init : std::exchange(m_initializeWaiting, {}))
                answerInitialize(init);
            return;
        }
        if (!wireId.isEmpty() && wireId == m_listenId) {
            // subscriptions.mdx: the server ended the listen gracefully; listen again.
            m_listenId.clear();
            return scheduleListen();
        }
        return onLegResponse(wireId, message);
    }
    const QString method = JsonRpc::method(message);
    if (method == QLatin1String("notifications/subscriptions/acknowledged")) {
        m_listenFailures = 0;
        return;
    }
    if (method == QLatin1String("notifications/cancelled")) {
        const Json params = JsonRpc::params(message);
        if (params.value("requestId", Json()) == Json(toStd(m_listenId)) && !m_listenId.isEmpty()) {
            m_listenId.clear();
            ++m_listenFailures;
            scheduleListen();
        }
        return;
    }
    Json out = message;
    if (out.contains("params") && out["params"].is_object() && out["params"].contains("_meta") &&
        out["params"]["_meta"].is_object()) {
        // Checklist 29: a legacy host knows no subscription ids.
        out["params"]["_meta"].erase(ModernWire::subscriptionIdKey);
        if (out["params"]["_meta"].empty())
            out["params"].erase("_meta");
    }
    Q_EMIT messageReceived(out);
}

void LegacyHostBridge::openListen()
{
    if (m_closed || !m_listenWanted || !m_listenId.isEmpty() || m_listenFailures > kMaxListenFailures)
        return;
    const Json caps =
        m_discover.is_object() ? m_discover.value("capabilities", Json::object()) : Json::object();
    Json filter = Json::object();
    if (advertises(caps, "tools"))
        filter["toolsListChanged"] = true;
    if (advertises(caps, "prompts"))
        filter["promptsListChanged"] = true;
    if (advertises(caps, "resources"))
        filter["resourcesListChanged"] = true;
    if (!m_resourceSubscriptions.isEmpty()) {
        Json uris = Json::array();
        for (const QString &uri : std::as_const(m_resourceSubscriptions))
            uris.push_back(toStd(uri));
        filter["resourceSubscriptions"] = uris;
    }
    if (filter.empty())
        return; // nothing the server would tell
    m_listenId = mintId("listen-");
    m_inner->send(stamp(Json{{"jsonrpc", "2.0"},
                             {"id", toStd(m_listenId)},
                             {"method", "subscriptions/listen"},
                             {"params", {{"notifications", filter}}}}));
}

void LegacyHostBridge::closeListen()
{
    if (m_listenId.isEmpty())
        return;
    m_inner->send(Json{{"jsonrpc", "2.0"},
                       {"method", "notifications/cancelled"},
                       {"params", {{"requestId", toStd(std::exchange(m_listenId, QString()))}}}});
}

void LegacyHostBridge::scheduleListen()
{
    if (m_closed || m_listenFailures > kMaxListenFailures) {
        if (m_listenFailures > kMaxListenFailures)
            qCWarning(lcProxy) << "giving up the subscription stream; list changes will not be seen";
        return;
    }
    m_listenTimer.start(std::min(kMaxListenRetryMs, kListenRetryMs << std::min(m_listenFailures, 10)));
}

} // namespace mcpauth

#include "moc_LegacyHostBridge.cpp"
