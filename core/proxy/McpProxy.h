#pragma once

#include "broker/RpcErrors.h"
#include "common/Json.h"
#include "discovery/WwwAuthenticate.h"
#include "proxy/EraCache.h"
#include "proxy/EraProbe.h"
#include "proxy/McpTransport.h"
#include "proxy/ProxyOptions.h"
#include "proxy/TransportFactory.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>

namespace mcpauth {

class AgentClient;
class ProxySignIn;

/// The heart of `mcp-auth proxy`: relays JSON-RPC between the host (stdio) and the MCP server
/// (an McpTransport) and keeps the server's bearer token right, with the agent doing every OAuth
/// step. Before the first message it hands the agent the user's client options (server/configure)
/// and asks for a token; with none yet it tries without one and signs in only when the server
/// answers 401.
///
/// Eras (mcp-2026-07-28.md §2.3; McpProxyEras.cpp): an EraProbe asks the server which era it
/// speaks; the host's first message that is not a server/discover probe pins the host's. A 2025
/// host and a 2025 server get the session transport; a 2026 host and server the stateless one; a
/// 2025 host and a 2026 server the LegacyHostBridge over it; a 2026 host's probe to a 2025 server
/// gets -32601 so it falls back to initialize. A probe never opens a browser.
///
/// Authorization (McpProxyAuth.cpp): on 401 a ProxySignIn first asks the agent again (a refresh
/// may have happened), then signs in with the server's challenge, and the message goes out once
/// more. On 403 insufficient_scope it steps up to the union of the held and the challenged
/// scopes, at most maxAuthorizations sign-ins per message. While a sign-in runs, host messages
/// wait and go out afterwards in order. Whatever fails, a host request gets a JSON-RPC error with
/// its id, never silence; the proxy goes on.
///
///     Configuring ──> Starting ──> Probing ──> Ready <──────> Authorizing
///    (server/configure) (token/get) (discover) │   (401/403: ProxySignIn)
///                                              └── host EOF / server ends ──> Closing ──> Closed
class McpProxy : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Idle,
        Configuring,
        Starting,
        Probing,
        Ready,
        Refreshing,
        Authorizing,
        Closing,
        Closed
    };
    /// What the proxy knows of the server's MCP era (checklist B): found by an EraProbe, or a
    /// 2025-11-25 verdict from the EraCache of an earlier launch; probed again when a probe failed
    /// or when the cached verdict stops holding (the server answers `initialize` with a modern error).
    enum class ServerEra { Unknown, Modern, Legacy, NeedsSignIn };
    /// The host's era, pinned by its first message that is not a server/discover probe.
    enum class HostEra { Unknown, Legacy, Modern };
    using TransportFactory = std::function<McpTransport *(TransportKind kind)>;

    /// Sign-ins for one message before it fails (the initial one included): spec 2025-11-25
    /// "retry limits", conformance auth/scope-retry-limit (3 or fewer).
    static constexpr int maxAuthorizations = 3;
    /// After the host closed stdin: how long answers to its last requests may take.
    static constexpr int hostCloseGraceMs = 5000;
    /// How long close() may take (Streamable HTTP sends DELETE) before the proxy ends anyway.
    static constexpr int closeTimeoutMs = 3000;

    /// `agent` must be connected and outlive the proxy. `factory` builds transports (both kinds,
    /// for the fallback); the proxy owns what it returns.
    McpProxy(AgentClient *agent, ProxyOptions options, TransportFactory factory, QObject *parent = nullptr);

    /// Where verdicts persist between launches (the CLI gives EraCache::defaultPath()); none by default.
    void setEraCache(EraCache cache) { m_eraCache = std::move(cache); }

    /// Configures the agent, fetches the first token and opens the transport. Call once.
    void start();
    /// One message from the host.
    void fromHost(const Json &message);
    /// The host closed our stdin: answer what is in flight (up to hostCloseGraceMs), then close
    /// the transport (DELETE the session) and finish with 0.
    void hostClosed();

    State state() const { return m_state; }
    ServerEra serverEra() const { return m_serverEra; }
    HostEra hostEra() const { return m_hostEra; }
    McpTransport *transport() const { return m_transport; }

Q_SIGNALS:
    /// Fires for every message for the host: the server's messages (tools/list filtered by
    /// --ignore-tool) and the proxy's own error responses.
    void toHost(const mcpauth::Json &message);
    /// Fires once when the proxy is done: 0 after the host closed, 1 when the server ended the session.
    void finished(int exitCode);

private:
    // Error codes the host sees. -32001 matches the agent's "sign-in required" family.
    static constexpr int authError = RpcError::LoginRequired;
    static constexpr int transportError = RpcError::InternalError;

    enum class AuthKind { Unauthorized, StepUp };
    struct Tracked
    {
        int sentGeneration = 0; ///< token generation the message last went out with
        bool retried401 = false;
        int authorizations = 0;
    };

    void fetchInitialToken();
    void afterToken();
    void probe();
    void onProbed(const EraProbe::Outcome &outcome);
    bool route(const Json &message);
    bool reprobeIfEraChanged(const Json &message, bool modernSign);
    void failQueued(int code, const QString &text, const Error &cause);
    void answerHost(const Json &response);
    void openTransport(TransportKind kind);
    void adopt(McpTransport *transport, TransportKind kind);
    void flushQueue();
    void sendToServer(const Json &message);

    void onServerMessage(const Json &message);
    void onAuthorizationRequired(const Json &message, int httpStatus, const BearerChallenge &challenge);
    void onSendFailed(const Json &message, const Error &error);
    void onTransportClosed();

    void beginAuthorization(const Json &message, AuthKind kind, const BearerChallenge &challenge);
    void endAuthorization(const Status &outcome);
    bool tokenNearExpiry() const;
    void refreshAhead();
    void applyToken(const Json &tokenResult);
    Json tokenParams() const;

    void failMessage(const Json &message, int code, const QString &text, const Error &cause);
    void failRequest(const Json &id, int code, const QString &text, const Error &cause);
    void forget(const QByteArray &key);
    void maybeCloseAfterHost();
    void closeNow();
    void finish(int exitCode);

    AgentClient *m_agent;
    ProxyOptions m_options;
    TransportFactory m_factory;
    McpTransport *m_transport = nullptr;
    McpTransport *m_modern = nullptr; ///< the stateless transport the probe used, until adopted
    EraProbe *m_probe = nullptr;
    ServerEra m_serverEra = ServerEra::Unknown;
    HostEra m_hostEra = HostEra::Unknown;
    EraCache m_eraCache;
    bool m_eraFromCache = false; ///< m_serverEra came from m_eraCache, not from a probe of this launch
    bool m_reprobed = false;     ///< the one re-probe after a verdict stopped holding was spent
    Json m_initialize;           ///< a 2025 host's initialize, kept while a cached verdict may not hold
    Json m_discover;             ///< the server's DiscoverResult (modern servers)
    int m_probeStatus = 0;       ///< 401 or 403 of the probe that needs a sign-in
    BearerChallenge m_probeChallenge;
    TransportKind m_kind = TransportKind::StreamableHttp;
    bool m_fellBack = false;
    bool m_staticAuthorization = false; ///< the user sent their own Authorization header
    State m_state = State::Idle;

    QString m_token;
    qint64 m_tokenExpiresAt = 0;  ///< Unix seconds, 0 = unknown
    qint64 m_tokenReceivedAt = 0; ///< Unix seconds, when the agent handed it over
    QString m_scope;
    int m_generation = 0; ///< bumped whenever m_token changes

    QList<Json> m_queue;        ///< host messages waiting for Ready, in order
    QList<Json> m_waitingRetry; ///< messages refused with the old token while a sign-in runs
    Json m_authMessage;
    AuthKind m_authKind = AuthKind::Unauthorized;
    ProxySignIn *m_signIn = nullptr; ///< the sign-in under way (State::Authorizing)

    QHash<QByteArray, Tracked> m_tracked;
    QHash<QByteArray, Json> m_outstanding; ///< host requests not answered yet: key → id
    QSet<QByteArray> m_toolsList;          ///< outstanding tools/list requests
    bool m_hostClosed = false;
    QTimer m_graceTimer;
    QTimer m_closeTimer;
};

} // namespace mcpauth
