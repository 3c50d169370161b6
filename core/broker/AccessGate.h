#pragma once

#include "broker/PeerIdentity.h"
#include "common/Result.h"

#include <QString>
#include <QUrl>

#include <functional>

class QObject;

namespace mcpauth {

/// What a caller asks the agent to do for a server, as the gate sees it.
struct AccessRequest
{
    PeerInfo caller; ///< who the kernel says is asking (never a name the caller sent)
    QString method;  ///< the socket method: token/get, login/start, server/configure, logout
    QUrl resource;   ///< the MCP server
    QString server;  ///< its canonical resource URI (ResourceUri::toString), as grants name it
    QString scope;   ///< scopes asked for; empty: the server's defaults
};

/// The one decision in front of every engine call that acts for a server (design.md "Local
/// socket protocol"): the AgentService asks it before the engine sees the request, so approvals
/// and IT policy live here and nowhere in the engine. A refusal is an Error whose code the socket
/// maps to a stable JSON-RPC code ("approval_denied" -32002, "policy_denied" -32003) with the
/// reason in its data.
class AccessGate
{
public:
    using Answer = std::function<void(Status)>;
    virtual ~AccessGate() = default;
    /// Decides, now or later (an approval waits for the user), and calls `done` once, unless
    /// `context` is destroyed first (the caller hung up).
    virtual void check(const AccessRequest &request, QObject *context, Answer done) = 0;
    /// True when `request` is allowed right now without asking anyone (a standing grant, or no
    /// approval needed), counted as a use as check() would; false when only check() can tell (it
    /// may have to ask, or refuse). The broker's hot path asks this, synchronously, on every
    /// repeat of a request it has answered before.
    virtual bool allowsNow(const AccessRequest &request) = 0;
};

/// Lets every request through: the gate until approvals are switched on.
class OpenGate : public AccessGate
{
public:
    void check(const AccessRequest &, QObject *, Answer done) override { done(okStatus()); }
    bool allowsNow(const AccessRequest &) override { return true; }
};

} // namespace mcpauth
