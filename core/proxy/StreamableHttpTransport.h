#pragma once

#include "proxy/McpHttp.h"
#include "proxy/McpTransport.h"
#include "proxy/SseParser.h"

#include <QPointer>
#include <QUrl>

#include <map>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpauth {

/// Client side of the MCP Streamable HTTP transport (spec 2025-11-25, basic/transports), one MCP
/// session against one endpoint. Every message is a POST carrying the bearer token, the --header
/// values, `Mcp-Session-Id` once the server assigned one and `MCP-Protocol-Version` once initialize
/// negotiated it. The answer is 202, a JSON body (one message or a batch) or an SSE stream that may
/// carry server requests and notifications before the response; a stream that breaks before the
/// response is resumed with GET + `Last-Event-ID` after the server's `retry:` delay when the server
/// gave event IDs. Once `notifications/initialized` is accepted the server-initiated GET stream is
/// opened (405: the server has none) and re-opened after every drop. Several requests can be in
/// flight at once. HTTP failures become sendFailed() with a stable code: transport_unsupported,
/// session_expired, server_error, malformed_response, stream_broken, timeout, http_error.
///
///     Idle ──start()──> Open ──close()──> Closing ──DELETE answered / no session──> Closed
///                        └─ send(): POST ──> 202 | JSON | SSE ──(drop + ids)──> GET Last-Event-ID
class StreamableHttpTransport : public McpTransport
{
    Q_OBJECT
public:
    enum class State { Idle, Open, Closing, Closed };

    struct Options
    {
        int connectTimeoutMs = 30'000;  ///< GET streams and DELETE: until the response headers
        int requestTimeoutMs = 300'000; ///< POST: until the whole JSON answer (tool calls can be slow)
        int defaultRetryMs = 1'000;     ///< reconnection delay when the server sent no `retry:`
        int maxRetryMs = 30'000;        ///< ceiling of the GET stream's backoff after failures
        int maxResumeAttempts = 3;      ///< resumption GETs in a row that bring no event
        int maxListenFailures = 5;      ///< failed GET stream connections in a row before giving up
        qsizetype maxEventBytes = SseParser::defaultMaxEventBytes;
        qint64 maxJsonBytes = 16 * 1024 * 1024;
    };

    StreamableHttpTransport(QNetworkAccessManager *nam, QUrl endpoint, McpHttp::Headers extraHeaders,
                            QObject *parent = nullptr);
    ~StreamableHttpTransport() override;

    void setOptions(const Options &options) { m_options = options; }
    const Options &options() const { return m_options; }

    void start() override;
    void send(const Json &message) override;
    void close() override;
    void setAccessToken(const QString &token) override;

    State state() const { return m_state; }
    QUrl endpoint() const { return m_endpoint; }
    /// The session the server assigned in its initialize response (empty: none, or stateless server).
    QString sessionId() const { return m_sessionId; }
    /// The protocol version of the initialize result (empty before it).
    QString protocolVersion() const { return m_protocolVersion; }
    /// True while the server-initiated GET stream is connected.
    bool isListening() const;

private:
    struct Stream;
    enum class ListenState { Off, Active, NeedsToken, Stopped };

    Stream *find(quint64 key) const;
    quint64 addStream(std::unique_ptr<Stream> stream);
    void removeStream(quint64 key);
    QNetworkRequest buildRequest(const QByteArray &accept, const QUrl &url = {}) const;
    void post(quint64 key);
    void get(quint64 key);
    void attach(quint64 key, QNetworkReply *reply, int firstByteTimeoutMs);
    void onHeaders(quint64 key);
    void onData(quint64 key);
    void onFinished(quint64 key);
    void onPostFinished(quint64 key, QNetworkReply *reply, int status);
    void onStreamEnded(quint64 key, const Error &why);
    bool feedEvents(quint64 key, const QByteArray &bytes);
    bool deliverEvents(quint64 key, const QList<SseEvent> &events);
    bool deliver(quint64 key, const Json &message);
    void fail(quint64 key, const Error &error);
    void scheduleReconnect(quint64 key, int delayMs);
    void openListenStream();
    void finishClose();

    QNetworkAccessManager *m_nam;
    QUrl m_endpoint;
    McpHttp::Headers m_extraHeaders;
    Options m_options;
    State m_state = State::Idle;
    QString m_token;
    QString m_sessionId;
    QString m_protocolVersion;
    bool m_established = false; // some POST got a 2xx: the server speaks this transport
    std::map<quint64, std::unique_ptr<Stream>> m_streams;
    quint64 m_nextKey = 1;
    quint64 m_listenKey = 0;
    ListenState m_listen = ListenState::Off;
    QPointer<QNetworkReply> m_deleteReply;
};

} // namespace mcpauth
