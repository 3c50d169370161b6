#pragma once

#include "proxy/McpHttp.h"
#include "proxy/McpTransport.h"
#include "proxy/SseParser.h"
#include "proxy/ToolHeaders.h"

#include <QUrl>

#include <map>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpauth {

/// Client side of the stateless Streamable HTTP wire of MCP 2026-07-28 (basic/transports/
/// streamable-http.mdx): every request is its own POST carrying the bearer token, the --header
/// values and the headers derived from its body (MCP-Protocol-Version, Mcp-Method, Mcp-Name,
/// Mcp-Param-* from the tools' x-mcp-header declarations); no session, no GET stream, no DELETE,
/// no resumption. The answer is one JSON response or an SSE stream of the request's notifications
/// ending with its response. Requests must already carry their `_meta` (the host's own, or the
/// bridge's stamp).
///
/// What the host sees: the server's messages as they are, except tools/list results, from which
/// tools with invalid x-mcp-header declarations are removed; a 4xx/5xx whose body is a JSON-RPC
/// error arrives as that error for the request; a 400 -32020 to a tools/call refreshes the
/// declarations with a tools/list of our own and retries once. Host notifications are never
/// POSTed: `notifications/cancelled` aborts the request's stream (§Cancellation, the server sees
/// the closed stream), the rest is dropped; responses are dropped (the wire has none from clients).
/// A stream that breaks before the response re-issues a read-only request once under a new id and
/// fails any other with sendFailed("stream_broken"); a broken `subscriptions/listen` ends with a
/// `notifications/cancelled` for its id. 400/404/405 without a JSON-RPC body fail with
/// "transport_unsupported" (the server does not speak this wire).
///
///     Idle ──start()/send()──> Open ──close()──> Closed (closed(), nothing sent upstream)
///     each request:  Sending ──headers: SSE──> Streaming ──response──> (removed)
///                       └──JSON / error status / 401 / failure──> (removed, one signal)
class StatelessHttpTransport : public McpTransport
{
    Q_OBJECT
public:
    enum class State { Idle, Open, Closed };

    struct Options
    {
        int requestTimeoutMs = 300'000; ///< until a JSON answer is complete, or an SSE stream opens
        qsizetype maxEventBytes = SseParser::defaultMaxEventBytes;
        qint64 maxJsonBytes = 16 * 1024 * 1024;
        qsizetype maxInFlight = 1024; ///< concurrent requests; more fail with "busy"
    };

    StatelessHttpTransport(QNetworkAccessManager *nam, QUrl endpoint, McpHttp::Headers extraHeaders,
                           QObject *parent = nullptr);
    ~StatelessHttpTransport() override;

    void setOptions(const Options &options) { m_options = options; }

    void start() override;
    void send(const Json &message) override;
    void close() override;
    void setAccessToken(const QString &token) override;

    State state() const { return m_state; }
    /// Requests in flight (streams open or answers awaited).
    qsizetype inFlight() const { return qsizetype(m_exchanges.size()); }
    /// The x-mcp-header declarations learnt from tools/list results.
    const ToolHeaders &toolHeaders() const { return m_tools; }

private:
    struct Exchange;
    /// Sending ──SSE headers──> Streaming ──response──> Answered (removed)
    ///    │  └──JSON body─────────────────────────> Answered (removed)
    ///    └──deadline──> TimedOut (aborted)   a broken stream / lost connection: Sending again (read-only)
    enum class Phase { Sending, Streaming, Answered, TimedOut };

    Exchange *find(quint64 key) const;
    Json nextWireId(const char *kind);
    quint64 keyForRequest(const Json &id) const;
    void post(quint64 key);
    void onHeaders(quint64 key);
    void onData(quint64 key);
    void onFinished(quint64 key);
    void onErrorStatus(quint64 key, int status, const QByteArray &body, QNetworkReply *reply);
    bool deliver(quint64 key, Json message);
    void brokenStream(quint64 key, const Error &why);
    void refreshToolsThenRetry(quint64 key);
    void fail(quint64 key, const Error &error);
    void remove(quint64 key);

    QNetworkAccessManager *m_nam;
    QUrl m_endpoint;
    McpHttp::Headers m_extraHeaders;
    Options m_options;
    State m_state = State::Idle;
    QString m_token;
    ToolHeaders m_tools;
    std::map<quint64, std::unique_ptr<Exchange>> m_exchanges;
    quint64 m_nextKey = 1;
    quint64 m_nextWireId = 1;
};

} // namespace mcpauth
