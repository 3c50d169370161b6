#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/WwwAuthenticate.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

namespace mcpauth {

class McpTransport;

/// Finds out which era of MCP an HTTP server speaks (basic/versioning.mdx §Protocol Version
/// Negotiation; checklist B.8-9 of mcp-2026-07-28.md): a modern `server/discover` POST through a
/// stateless transport, and the answer classified.
///
///   - a DiscoverResult listing a version we implement: Modern, with the result;
///   - -32022 listing a version we implement: probe once more at it, then Modern or Failed;
///     listing only legacy versions, or no valid list: Legacy; only other modern ones: Failed;
///   - -32020 / -32021 (only a modern server sends them): Modern, without a DiscoverResult;
///   - 401 / 403: AuthorizationRequired (never an era verdict: sign in, then probe again);
///   - 5xx, timeouts, network errors, a 2xx that is not JSON-RPC: Failed (never an era verdict);
///   - any other JSON-RPC error, another 4xx, a body that is no modern error: Legacy.
///
///     Idle ──start()──> Probing ──(-32022, mutual)──> Retrying ──> Done (finished(), once)
///                          └─────────────── classified / cancel() ──────> Done
class EraProbe : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Probing, Retrying, Done };
    enum class Verdict { Modern, Legacy, AuthorizationRequired, Failed };

    struct Outcome
    {
        Verdict verdict = Verdict::Failed;
        QString version;    ///< Modern: the version to speak
        Json discover;      ///< Modern: the DiscoverResult (null when the server sent an error)
        int httpStatus = 0; ///< AuthorizationRequired: 401 or 403
        BearerChallenge challenge;
        Error error; ///< Failed: why
    };

    /// Probes through `transport` (a StatelessHttpTransport, not owned, that must outlive the
    /// probe); `capabilities` and `clientInfo` go into the request's `_meta`.
    EraProbe(McpTransport *transport, Json capabilities, Json clientInfo, QObject *parent = nullptr);

    /// Sends the probe. Call once.
    void start();
    /// Stops listening; finished() fires with Failed/cancelled.
    void cancel();
    /// Classifies a JSON-RPC answer to the probe (a result or an error): Modern, Legacy, Failed,
    /// or std::nullopt when the answer asks for a second probe. Pure; the rules above.
    static std::optional<Outcome> classify(const Json &response, bool retried);

    State state() const { return m_state; }
    /// Longest a probe may take (the host's own probe timeout is 10 s in SDK v2 and mcp-remote).
    static constexpr int timeoutMs = 8000;

Q_SIGNALS:
    /// Fires once, with the verdict.
    void finished(const mcpauth::EraProbe::Outcome &outcome);

private:
    void send();
    void finish(Outcome outcome);

    QPointer<McpTransport> m_transport;
    Json m_capabilities;
    Json m_clientInfo;
    State m_state = State::Idle;
    QString m_id;
    int m_serial = 0;
    QTimer m_timer;
};

} // namespace mcpauth
