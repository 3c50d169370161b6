#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/Discovery.h"
#include "status/ServerState.h"
#include "tokens/TokenSet.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <optional>

namespace mcpauth {

class LoginFlow;

/// Everything the agent knows and is doing for one MCP server (one canonical resource URI):
/// where it signs in, the tokens once loaded from the keychain, and the one refresh or one sign-in
/// in flight that every caller for this server joins. Owned and driven by AuthEngine; it holds
/// state, the engine holds the logic that touches the outside world.
class ServerSession : public QObject
{
    Q_OBJECT
public:
    /// Whether the tokens have been read from the keychain yet.
    enum class TokenState { Unknown, Loading, Absent, Present };
    /// The one operation in flight for this server, if any.
    enum class Activity { Idle, Refreshing, SigningIn, SigningOut };

    using TokenCallback = std::function<void(Result<TokenSet>)>;
    struct Waiter
    {
        QPointer<QObject> context;
        TokenCallback done;
    };

    ServerSession(QUrl resource, QObject *parent = nullptr);

    QUrl resource;  ///< canonical (RFC 8707), the key
    QUrl mcpUrl;    ///< as the user gave it (probed as is)
    QString issuer; ///< authorization server the tokens belong to
    std::optional<DiscoveryResult> discovery;
    TokenState tokenState = TokenState::Unknown;
    Activity activity = Activity::Idle;
    TokenSet tokens;
    QString lastError;
    /// The sign-in was lost (invalid_grant, a client the server forgot, metadata gone): shown as
    /// SignInRequired until the user signs in again; not set by the user's own sign-out.
    bool signInRequired = false;

    QList<Waiter> loadWaiters;                 ///< callers waiting for the keychain read
    QList<Waiter> tokenWaiters;                ///< callers waiting for the refresh or sign-in in flight
    QList<std::function<void()>> afterRefresh; ///< forced sign-ins waiting for the refresh in flight
    QPointer<LoginFlow> login;
    QTimer proactiveRefresh;
    /// AuthEngine::publish(): what was last published, and a tick at the access token's expiry
    /// (SignedIn turns Expired with no other event).
    std::optional<ServerStatus> published;
    QTimer expiryTick;

    /// Completes every waiter in `list` with `result` (skipping those whose context died) and empties it.
    static void resolve(QList<Waiter> &list, const Result<TokenSet> &result);
    QString resourceString() const;
    /// What status shows for this server; `record` is its entry in the state file, which answers
    /// for tokens not read from the keychain yet. Nullopt: nothing to report (asked about once).
    std::optional<ServerStatus> status(const Json &record, qint64 now) const;
};

} // namespace mcpauth
