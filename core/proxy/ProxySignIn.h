#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/WwwAuthenticate.h"

#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

namespace mcpauth {

class AgentClient;

/// One sign-in `mcp-auth proxy` needs because the server refused a request (401) or wants more
/// scope (403 insufficient_scope), done through the agent, which owns every OAuth step.
///
///   - Unauthorized: the agent may already hold a fresher token (it refreshed, or another proxy
///     signed in): token/get first; a token other than the refused one ends the flow. Otherwise
///     login/start with the server's challenge (forced when the agent's token is the refused one).
///   - StepUp: login/start at once, forced, with the scope asked for (the caller passes the union
///     of the held and the challenged scopes, 2026-07-28 SEP-2350).
///   - After a sign-in, token/get fetches the new token.
///
///     Idle ──start()──> Checking ──(same token / none)──> SigningIn ──> Fetching ──> Done
///                          └────(fresher token)──────────────────────────────────────> Done
///     any state ──cancel() / timeout / error──> Done          finished() fires exactly once
class ProxySignIn : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Checking, SigningIn, Fetching, Done };
    enum class Kind { Unauthorized, StepUp };

    struct Request
    {
        Kind kind = Kind::Unauthorized;
        QUrl resource; ///< the MCP server
        BearerChallenge challenge;
        QString scope;          ///< StepUp: the scope to sign in with
        QString refusedToken;   ///< Unauthorized: the token the server refused (may be empty)
        int timeoutSeconds = 0; ///< 0: the agent's own limit
    };

    struct Outcome
    {
        Status status = okStatus();
        Json token;            ///< the agent's token/get result on success
        bool signedIn = false; ///< a login/start went out (it counts against the retry limit)
    };

    /// `agent` must outlive the flow.
    ProxySignIn(AgentClient *agent, Request request, QObject *parent = nullptr);

    void start();
    /// Ends the flow now: finished() with Error::cancelled; late agent answers are ignored.
    void cancel();
    State state() const { return m_state; }
    /// Whether an agent error means "sign in first" (the agent holds no token for the server, or
    /// one without the scope asked for).
    static bool needsSignIn(const Error &e);

Q_SIGNALS:
    /// Fires once, when the flow ends.
    void finished(const mcpauth::ProxySignIn::Outcome &outcome);

private:
    void signIn(bool force);
    void fetchToken();
    void finish(Outcome outcome);
    Json tokenParams() const;

    AgentClient *m_agent;
    Request m_request;
    State m_state = State::Idle;
    bool m_signedIn = false;
    QTimer m_timer;
};

} // namespace mcpauth
