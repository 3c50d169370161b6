#pragma once

#include "broker/AccessGate.h"
#include "common/Json.h"
#include "common/Result.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>
#include <memory>

namespace mcpauth {

class ApprovalGate;
class AuditLog;
struct AppIdentity;
struct TokenSet;
class AuthEngine;
class BrokerServer;
class JsonRpcConnection;

/// The agent's local-socket API (design.md "Local socket protocol", docs/socket-protocol.md): a
/// table of the fixed JSON-RPC methods, each a handler that answers with a Result, and one
/// AccessGate in front of every method that acts for a server. Engine errors become stable
/// JSON-RPC error codes (RpcErrors.h) in one place.
///
/// | method        | params                                   | result                                     |
/// gate | | token/get     | resource, scope?, minValidSeconds? (60)  | accessToken, tokenType, expiresAt,
/// scope   | yes  | | login/start   | resource, scope?, challenge?, force?     | tokenType, expiresAt, scope
/// | yes  | | server/configure | resource, clientInfo?, clientMetadata?, clientMetadataUrl?,
/// authorizeParams?,   | yes  | |               | resourceOverride?                        | {} |      | |
/// logout        | resource                                 | revoked                                    |
/// yes  | | servers/list  | —                                        | servers: [{resource, issuer, state,
/// …}]    | no   | | agent/status  | —                                        | version, pid,
/// keychain{available, backend} | no   | | agent/shutdown| —                                        | {} then
/// the agent exits                    | no   | | approvals/list| —                                        |
/// approvals: [{id, app, executable, server, scopes, …}] | no | | approvals/decide | id, decision (once,
/// while-running, always, deny) | {}                             | no   | | grants/list   | — | grants: [{id,
/// kind, app, executable, server, lastUsedAt, …}] | no | | grants/revoke | id, or app (path or key) and
/// server?     | revoked (count)                            | no   |
class AgentService : public QObject
{
    Q_OBJECT
public:
    /// `gate` decides every request that acts for a server; none: an OpenGate (approvals off).
    AgentService(AuthEngine &engine, BrokerServer &server, std::shared_ptr<AccessGate> gate = {},
                 QObject *parent = nullptr);

    /// Status text for `agent/status`'s keychain field (set by the composition root after probing).
    void setKeychainStatus(bool available, const QString &detail);
    void setGate(std::shared_ptr<AccessGate> gate);
    /// The user's approvals: the gate, and what approvals/* and grants/* answer from.
    void setApprovals(std::shared_ptr<ApprovalGate> approvals);
    /// Where hand-outs, sign-ins and sign-outs are recorded (with who asked); none by default.
    void setAudit(AuditLog *audit) { m_audit = audit; }

Q_SIGNALS:
    /// Fires once when a client asked the agent to exit (after the reply is written).
    void shutdownRequested();

private:
    /// One request as a handler sees it: its params (an object), its server (gated methods), and
    /// the connection, which is also the lifetime of everything the request starts.
    struct Call
    {
        QPointer<JsonRpcConnection> connection;
        QString method;
        Json params;
        QUrl resource;
        QString server; ///< the canonical form of `resource`
    };
    using Reply = std::function<void(Result<Json>)>;
    using Handler = void (AgentService::*)(const Call &call, Reply reply);
    /// Checks the params before anything else happens (before the gate asks the user).
    using Validator = Status (*)(const Json &params);
    struct Method
    {
        Handler handler;
        bool gated;                   ///< acts for a server: needs params.resource and the gate's yes
        Validator validate = nullptr; ///< beyond params.resource
    };
    static const QHash<QString, Method> &methods();

    void onConnection(JsonRpcConnection *connection);
    void dispatch(JsonRpcConnection *c, const Json &id, const QString &method, const Json &params);

    void auditCall(const Call &call, const AppIdentity &app, const Result<Json> &result);

    /// token/get's hot path (issue 8.5): per connection, the answers it was given, serialized once
    /// and reused while the engine's generation is unchanged and the token still serves the asked
    /// minValidSeconds. The gate still decides every request (allowsNow: a grant that ended, use
    /// counts) and the audit still counts it; only the engine and the printing are skipped.
    struct HotAnswer
    {
        AccessRequest request;
        QString appName;        ///< request.caller.app.displayName(), for the audit
        QByteArray result;      ///< the serialized `result`
        quint64 generation = 0; ///< AuthEngine::generation() when it was given
        qint64 until = 0;       ///< TokenSet::servableUntil(); 0: no known end
    };
    /// What makes two token/get requests the same question: resource, scope, minValidSeconds as
    /// sent. None for params the hot path leaves to the handler (and its validation).
    static std::optional<QByteArray> hotKey(const Json &params);
    bool answerHot(JsonRpcConnection *c, const Json &id, const Json &params);
    void keepHot(const Call &call, const TokenSet &tokens, qint64 minValid, const Json &result);
    QHash<const JsonRpcConnection *, QHash<QByteArray, HotAnswer>> m_hot;
    static constexpr qsizetype maxHotPerConnection = 8;

    void tokenGet(const Call &call, Reply reply);
    void loginStart(const Call &call, Reply reply);
    void serverConfigure(const Call &call, Reply reply);
    void logout(const Call &call, Reply reply);
    void serversList(const Call &call, Reply reply);
    void agentStatus(const Call &call, Reply reply);
    void agentShutdown(const Call &call, Reply reply);
    void approvalsList(const Call &call, Reply reply);
    void approvalsDecide(const Call &call, Reply reply);
    void grantsList(const Call &call, Reply reply);
    void grantsRevoke(const Call &call, Reply reply);

    /// params.resource → the URL and its canonical form, so the hot path parses a URL once per
    /// distinct string, not once per request. Bounded: cleared past maxCachedResources.
    struct Resource
    {
        QUrl url;
        QString canonical;
    };
    Result<Resource> resource(const Json &params);
    QHash<QString, Resource> m_resources;
    static constexpr qsizetype maxCachedResources = 256;

    AuthEngine &m_engine;
    std::shared_ptr<AccessGate> m_gate;
    std::shared_ptr<ApprovalGate> m_approvals;
    AuditLog *m_audit = nullptr;
    bool m_keychainAvailable = false;
    QString m_keychainDetail;
    /// The last live keychain check: agent/status reuses it for a moment instead of writing to the
    /// keychain on every call (a tray or a script may ask often).
    qint64 m_checkedAt = -1; ///< ms since the epoch; -1: never
    Status m_lastCheck = okStatus();
    static constexpr qint64 kCheckReuseMs = 2000;
};

} // namespace mcpauth
