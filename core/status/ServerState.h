#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace mcpauth {

/// Where one server stands, as `servers/list`, `mcp-auth status`, the tray and the notifications
/// all show it. Computed in one place (ServerSession::status) and published in one place
/// (AuthEngine::serverChanged), so no two views can disagree.
enum class ServerState {
    SignedOut,      ///< no tokens, and none lost: never signed in, or the user signed out
    SigningIn,      ///< a browser sign-in is running
    SignedIn,       ///< tokens held and the access token is valid
    Expired,        ///< the access token has expired; a refresh on next use revives it
    Refreshing,     ///< a refresh is running
    SignInRequired, ///< the sign-in was lost (revoked, expired, refused): the user must sign in
    Error,          ///< the last sign-in or refresh failed (lastError says why); tokens, if any, kept
    SigningOut,     ///< revoking at the server
};

/// The wire name (`signed_in`, `sign_in_required`, …), fixed for hosts (socket-protocol.md).
QString serverStateName(ServerState state);
std::optional<ServerState> serverStateFromName(const QString &name);

/// What `servers/list` and `mcp-auth status` show for one server.
struct ServerStatus
{
    QString resource;
    QString issuer;
    ServerState state = ServerState::SignedOut;
    qint64 expiresAt = 0;
    QString scope;
    QString lastError;

    bool operator==(const ServerStatus &) const = default;
};

/// The agent as a whole, for the tray icon. In ascending precedence: the overall state is the
/// highest that any part is in (see overallState()).
enum class AgentState {
    NoServers,       ///< nothing signed in: no server added, or all signed out by the user
    SignedIn,        ///< every server that is not signed out is signed in (or revives on use)
    Refreshing,      ///< a sign-in, refresh or sign-out is running
    Error,           ///< a sign-in or refresh failed
    SignInNeeded,    ///< a server needs the user to sign in again
    ApprovalWaiting, ///< an app waits for the user's decision
};

/// The overall state: approval waiting > sign-in needed > error > refreshing > all signed in >
/// no servers. A signed-out server counts for nothing: the user chose it.
AgentState overallState(const QList<ServerStatus> &servers, int pendingApprovals);
/// Stable names for logs and tests (`approval_waiting`, …).
QString agentStateName(AgentState state);

} // namespace mcpauth
