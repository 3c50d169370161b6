#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/WwwAuthenticate.h"

#include <QObject>
#include <QString>

namespace mcpauth {

/// Client side of an MCP HTTP transport, as `mcp-auth proxy` uses it: Streamable HTTP
/// (StreamableHttpTransport) or the legacy HTTP+SSE transport of 2024-11-05 (LegacySseTransport).
/// The proxy hands it each JSON-RPC message from the host and gets back each message from the
/// server. Authorization is the proxy's business: the transport adds the bearer token it was given
/// to every HTTP request and reports 401/403 answers instead of acting on them.
class McpTransport : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~McpTransport() override = default;

    /// Opens the transport (legacy: the SSE stream; Streamable HTTP: nothing until the first send).
    virtual void start() = 0;
    /// Sends one JSON-RPC message (request, notification or response) to the server.
    virtual void send(const Json &message) = 0;
    /// Ends the session (Streamable HTTP: DELETE with Mcp-Session-Id) and stops every stream;
    /// closed() follows once.
    virtual void close() = 0;
    /// The bearer token for every following HTTP request (empty: none).
    virtual void setAccessToken(const QString &token) = 0;

Q_SIGNALS:
    /// Fires for every JSON-RPC message the server sends (responses, requests, notifications),
    /// in the order received.
    void messageReceived(const mcpauth::Json &message);
    /// Fires when the server answered the HTTP request carrying `message` with 401 or 403; the
    /// message was not delivered. The proxy obtains a (better) token and calls send() again.
    void authorizationRequired(const mcpauth::Json &message, int httpStatus,
                               const mcpauth::BearerChallenge &challenge);
    /// Fires when `message` could not be delivered or its response stream broke beyond recovery
    /// (network error, 5xx, malformed response). error.code "transport_unsupported" means the
    /// server does not speak this transport (e.g. 404/405 on the first POST): the proxy may fall back.
    void sendFailed(const mcpauth::Json &message, const mcpauth::Error &error);
    /// Fires once when the transport is closed, by close() or because the server ended it.
    void closed();
};

} // namespace mcpauth
