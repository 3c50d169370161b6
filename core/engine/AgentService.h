#pragma once

#include "common/Json.h"

#include <QObject>

#include <functional>

namespace mcpauth {

class AuthEngine;
class BrokerServer;
class JsonRpcConnection;

/// The agent's local-socket API (design.md "Local socket protocol"): maps the fixed JSON-RPC
/// methods onto the AuthEngine and engine errors onto stable JSON-RPC error codes.
///
/// | method        | params                                   | result                                     |
/// | token/get     | resource, scope?, minValidSeconds? (60)  | accessToken, tokenType, expiresAt, scope   |
/// | login/start   | resource, scope?, challenge?, force?     | tokenType, expiresAt, scope                |
/// | server/configure | resource, clientInfo?, clientMetadata?, clientMetadataUrl?, authorizeParams?,   |
/// |               | resourceOverride?                        | {}                                         |
/// | logout        | resource                                 | revoked                                    |
/// | servers/list  | —                                        | servers: [{resource, issuer, state, …}]    |
/// | agent/status  | —                                        | version, pid, keychain{available, backend} |
/// | agent/shutdown| —                                        | {} then the agent exits                    |
class AgentService : public QObject
{
    Q_OBJECT
public:
    AgentService(AuthEngine &engine, BrokerServer &server, QObject *parent = nullptr);

    /// Status text for `agent/status`'s keychain field (set by the composition root after probing).
    void setKeychainStatus(bool available, const QString &detail);

Q_SIGNALS:
    /// Fires once when a client asked the agent to exit (after the reply is written).
    void shutdownRequested();

private:
    void onConnection(JsonRpcConnection *connection);
    void dispatch(JsonRpcConnection *c, const Json &id, const QString &method, const Json &params);

    AuthEngine &m_engine;
    bool m_keychainAvailable = false;
    QString m_keychainDetail;
    /// The last live keychain check: agent/status reuses it for a moment instead of writing to the
    /// keychain on every call (a tray or a script may ask often).
    qint64 m_checkedAt = -1; ///< ms since the epoch; -1: never
    Status m_lastCheck = okStatus();
    static constexpr qint64 kCheckReuseMs = 2000;
};

} // namespace mcpauth
