#pragma once

#include "proxy/McpHttp.h"
#include "proxy/McpTransport.h"
#include "proxy/SseParser.h"

#include <QList>
#include <QPointer>
#include <QSet>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace mcpauth {

/// Client side of the legacy MCP HTTP+SSE transport (spec 2024-11-05), for servers that do not speak
/// Streamable HTTP. start() opens the SSE stream with a GET; the server's first `endpoint` event names
/// the URL (same origin only) that every message is then POSTed to; everything the server sends
/// arrives as `message` events on the stream. Messages sent before the endpoint is known wait for it.
/// 401/403 on the GET fires authorizationRequired() with a null message (setAccessToken() or start()
/// opens the stream again); on a POST, with that message. When the stream cannot be opened, the
/// waiting messages get sendFailed() (a null message when none waits: the reason the stream failed,
/// "transport_unsupported" for 400/404/405) and closed() follows; when an open stream ends, every
/// request still owed a response gets sendFailed("stream_broken") and closed() follows.
///
///     Idle ──start()──> Connecting ──endpoint event──> Open ──stream ends / close()──> Closed
///                         │  └─401/403──> NeedsToken ──setAccessToken()/start()──> Connecting
///                         └─ other failure / foreign endpoint ──> Closed
class LegacySseTransport : public McpTransport
{
    Q_OBJECT
public:
    enum class State { Idle, Connecting, NeedsToken, Open, Closed };

    LegacySseTransport(QNetworkAccessManager *nam, QUrl sseUrl, McpHttp::Headers extraHeaders,
                       QObject *parent = nullptr);
    ~LegacySseTransport() override;

    /// Until the stream's response headers (default 30 s) and for each POST's answer (default 5 min).
    void setTimeouts(int connectTimeoutMs, int postTimeoutMs);

    void start() override;
    void send(const Json &message) override;
    void close() override;
    void setAccessToken(const QString &token) override;

    State state() const { return m_state; }
    /// The message endpoint the server announced (empty before the `endpoint` event).
    QUrl messageEndpoint() const { return m_postUrl; }

private:
    void openStream();
    void onStreamData();
    void onStreamFinished();
    void handleEvent(const SseEvent &event);
    void post(const Json &message, const QUrl &url = {}, int redirects = 0);
    void abandon(const Error &error); // fail what waits, stop, closed()
    void stopAll();                   // abort every reply without a signal

    QNetworkAccessManager *m_nam;
    QUrl m_sseUrl;
    McpHttp::Headers m_extraHeaders;
    int m_connectTimeoutMs = 30'000;
    int m_postTimeoutMs = 300'000;
    State m_state = State::Idle;
    QString m_token;
    QUrl m_postUrl;
    QPointer<QNetworkReply> m_stream;
    QTimer *m_connectTimer;
    bool m_streamOpen = false; // the GET answered 200 text/event-stream
    SseParser m_parser;
    QList<Json> m_queued; // sent before the endpoint was known
    QList<Json> m_owed;   // requests POSTed whose response has not arrived
    QSet<QNetworkReply *> m_posts;
};

} // namespace mcpauth
