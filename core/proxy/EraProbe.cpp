#include "proxy/EraProbe.h"

#include "common/JsonRpc.h"
#include "common/Log.h"
#include "proxy/McpTransport.h"
#include "proxy/ModernWire.h"

namespace mcpauth {

EraProbe::EraProbe(McpTransport *transport, Json capabilities, Json clientInfo, QObject *parent)
    : QObject(parent), m_transport(transport), m_capabilities(std::move(capabilities)),
      m_clientInfo(std::move(clientInfo))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        Outcome o;
        o.error = Error::network(QStringLiteral("timeout"),
                                 QStringLiteral("the MCP server did not answer server/discover in time"));
        finish(o);
    });
    connect(transport, &McpTransport::messageReceived, this, [this](const Json &m) {
        if (m_state == State::Done || !JsonRpc::isResponse(m) || m["id"] != Json(toStd(m_id)))
            return;
        const bool retried = m_state == State::Retrying;
        if (std::optional<Outcome> o = classify(m, retried))
            return finish(*o);
        m_state = State::Retrying;
        qCDebug(lcProxy) << "the server asked for another version; probing once more";
        send();
    });
    connect(transport, &McpTransport::authorizationRequired, this,
            [this](const Json &m, int status, const BearerChallenge &challenge) {
                if (m_state == State::Done || !m.is_object() || m.value("id", Json()) != Json(toStd(m_id)))
                    return;
                Outcome o;
                o.verdict = Verdict::AuthorizationRequired;
                o.httpStatus = status;
                o.challenge = challenge;
                finish(o);
            });
    connect(transport, &McpTransport::sendFailed, this, [this](const Json &m, const Error &error) {
        if (m_state == State::Done || !m.is_object() || m.value("id", Json()) != Json(toStd(m_id)))
            return;
        Outcome o;
        // §2.1: another 4xx without a modern body means a legacy server; network trouble, 5xx and
        // malformed answers say nothing about the era.
        const bool legacy =
            error.code == QLatin1String("transport_unsupported") || error.code == QLatin1String("http_error");
        o.verdict = legacy ? Verdict::Legacy : Verdict::Failed;
        o.error = error;
        finish(o);
    });
}

void EraProbe::start()
{
    if (m_state != State::Idle)
        return;
    m_state = State::Probing;
    m_timer.start(timeoutMs);
    send();
}

void EraProbe::send()
{
    if (!m_transport)
        return;
    m_id = QStringLiteral("mcp-auth-discover-%1").arg(++m_serial);
    const Json request{
        {"jsonrpc", "2.0"}, {"id", toStd(m_id)}, {"method", "server/discover"}, {"params", Json::object()}};
    m_transport->send(ModernWire::stamp(request, m_capabilities, m_clientInfo, QString()));
}

std::optional<EraProbe::Outcome> EraProbe::classify(const Json &response, bool retried)
{
    Outcome o;
    if (response.contains("result") && response["result"].is_object()) {
        const Json &result = response["result"];
        const std::optional<QStringList> versions = jsonStringList(result, "supportedVersions");
        for (const QString &v : versions.value_or(QStringList{}))
            if (ModernWire::isImplemented(v)) {
                o.verdict = Verdict::Modern;
                o.version = v;
                o.discover = result;
                return o;
            }
        // A DiscoverResult without a version in common: we can only speak the legacy era to it.
        o.verdict = Verdict::Legacy;
        return o;
    }
    const Json error = response.value("error", Json::object());
    const qint64 code = jsonInt(error, "code").value_or(0);
    if (code == ModernWire::unsupportedVersion) {
        const ModernWire::Supported s = ModernWire::supported(error);
        if (s.mutual) {
            if (retried) {
                o.error = Error::protocol(
                    QStringLiteral("version_negotiation_failed"),
                    QStringLiteral("the MCP server rejected protocol version %1 twice").arg(*s.mutual));
                return o;
            }
            return std::nullopt; // the corrective probe
        }
        if (!s.valid || s.legacyOnly) {
            o.verdict = Verdict::Legacy;
            return o;
        }
        o.error = Error::protocol(
            QStringLiteral("version_unsupported"),
            QStringLiteral("the MCP server speaks only protocol versions this proxy does not"));
        return o;
    }
    if (ModernWire::isModernError(error)) {
        o.verdict = Verdict::Modern;
        o.version = ModernWire::version;
        return o;
    }
    o.verdict = Verdict::Legacy;
    return o;
}

void EraProbe::cancel()
{
    Outcome o;
    o.error = Error::cancelled();
    finish(o);
}

void EraProbe::finish(Outcome outcome)
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_timer.stop();
    Q_EMIT finished(outcome);
}

} // namespace mcpauth

#include "moc_EraProbe.cpp"
