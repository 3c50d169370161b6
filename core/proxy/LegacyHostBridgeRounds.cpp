#include "proxy/LegacyHostBridge.h"

#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"

// LegacyHostBridge, part two: multi round-trip requests (mrtr.mdx). A leg the server answers with
// `input_required` becomes requests to the host; the host's answers go back with the exact
// `requestState` under a new id. Part one (LegacyHostBridge.cpp) translates the rest.

namespace mcpauth {

namespace {

// MRTR input request methods and the host capability each needs (mrtr.mdx).
const char *capabilityFor(const QString &method)
{
    if (method == QLatin1String("elicitation/create"))
        return "elicitation";
    if (method == QLatin1String("sampling/createMessage"))
        return "sampling";
    if (method == QLatin1String("roots/list"))
        return "roots";
    return nullptr;
}

} // namespace

void LegacyHostBridge::onLegResponse(const QString &wireId, Json response)
{
    auto it = m_legs.find(wireId);
    if (it == m_legs.end())
        return; // cancelled, or not ours
    if (response.contains("result") && response["result"].is_object()) {
        Json &result = response["result"];
        const QString type =
            result.contains("resultType") ? jsonString(result, "resultType") : QStringLiteral("complete");
        if (type == QLatin1String("input_required"))
            return askHost(wireId, result);
        if (type != QLatin1String("complete"))
            return failLeg(wireId, RpcError::InternalError,
                           QStringLiteral("the MCP server answered with an unknown resultType \"%1\"")
                               .arg(type.left(64)));
        result.erase("resultType"); // basic/index.mdx §ResultType: absent means complete
    }
    const Leg leg = m_legs.take(wireId);
    m_byHostId.remove(idKey(leg.hostMessage["id"]));
    response["id"] = leg.hostMessage["id"];
    Q_EMIT messageReceived(response);
}

void LegacyHostBridge::askHost(const QString &wireId, const Json &result)
{
    Leg &leg = m_legs[wireId];
    if (++leg.rounds > maxInputRounds)
        return failLeg(
            wireId, RpcError::InternalError,
            QStringLiteral("the MCP server asked for input more than %1 times").arg(maxInputRounds));
    leg.hasRequestState = result.contains("requestState") && result["requestState"].is_string();
    leg.requestState = leg.hasRequestState ? fromStd(result["requestState"].get<std::string>()) : QString();
    leg.answers = Json::object();
    const Json requests = result.value("inputRequests", Json::object());
    QList<Json> toHost;
    if (requests.is_object()) {
        for (auto r = requests.begin(); r != requests.end(); ++r) {
            const QString method = jsonString(*r, "method");
            const char *capability = capabilityFor(method);
            if (!capability)
                return failLeg(
                    wireId, RpcError::InternalError,
                    QStringLiteral("the MCP server asked for unknown input \"%1\"").arg(method.left(64)));
            if (!m_hostCapabilities.contains(capability))
                return failLeg(wireId, RpcError::InternalError,
                               QStringLiteral("the MCP server needs %1, which this MCP host does not offer")
                                   .arg(method));
            Json params = r->value("params", Json::object());
            if (method == QLatin1String("elicitation/create") &&
                jsonString(params, "mode") == QLatin1String("url")) {
                const Json elicitation = m_hostCapabilities[capability];
                if (!elicitation.is_object() || !elicitation.contains("url"))
                    return failLeg(
                        wireId, RpcError::InternalError,
                        QStringLiteral(
                            "the MCP server needs URL elicitation, which this MCP host does not offer"));
                params["elicitationId"] = toStd(mintId("elicitation-"));
            }
            const QString inputId = mintId("input-");
            m_inputs.insert(inputId, {wireId, fromStd(r.key())});
            leg.pending.insert(inputId);
            toHost << Json{
                {"jsonrpc", "2.0"}, {"id", toStd(inputId)}, {"method", toStd(method)}, {"params", params}};
        }
    }
    if (toHost.isEmpty())
        return retry(wireId);
    for (const Json &request : std::as_const(toHost))
        Q_EMIT messageReceived(request);
}

void LegacyHostBridge::onHostAnswer(const Json &response)
{
    const QString inputId = JsonRpc::stringId(response);
    const auto input = m_inputs.take(inputId);
    auto it = m_legs.find(input.first);
    if (input.first.isEmpty() || it == m_legs.end())
        return;
    it->pending.remove(inputId);
    if (response.contains("error")) {
        const Json error = response["error"];
        return failLeg(
            input.first, int(jsonInt(error, "code").value_or(RpcError::InternalError)),
            QStringLiteral("the MCP host declined: %1").arg(jsonString(error, "message").left(200)));
    }
    it->answers[toStd(input.second)] = response.value("result", Json::object());
    if (it->pending.isEmpty())
        retry(input.first);
}

void LegacyHostBridge::retry(const QString &wireId)
{
    Leg leg = m_legs.take(wireId);
    // mrtr.mdx: the original request again, a new id, the answers and the exact requestState.
    Json wire = stamp(leg.hostMessage);
    const QString newId = mintId("");
    wire["id"] = toStd(newId);
    if (!leg.answers.empty())
        wire["params"]["inputResponses"] = leg.answers;
    if (leg.hasRequestState)
        wire["params"]["requestState"] = toStd(leg.requestState);
    leg.wireMessage = wire;
    leg.pending.clear();
    m_byHostId.insert(idKey(leg.hostMessage["id"]), newId);
    m_legs.insert(newId, leg);
    m_inner->send(wire);
}

void LegacyHostBridge::failLeg(const QString &wireId, int code, const QString &text)
{
    const Leg leg = m_legs.take(wireId);
    for (const QString &input : leg.pending)
        m_inputs.remove(input);
    m_byHostId.remove(idKey(leg.hostMessage["id"]));
    qCWarning(lcProxy).noquote() << text;
    Q_EMIT messageReceived(JsonRpc::errorResponse(leg.hostMessage["id"], code, text));
}

} // namespace mcpauth
