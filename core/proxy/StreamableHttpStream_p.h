#pragma once

// Private to StreamableHttpTransport*.cpp: one exchange and the header names both files use.

#include "proxy/SseParser.h"
#include "proxy/StreamableHttpTransport.h"

#include <QNetworkReply>
#include <QPointer>
#include <QTimer>

namespace mcpauth::streamable {

inline const QByteArray sessionHeader = QByteArrayLiteral("Mcp-Session-Id");
inline const QByteArray versionHeader = QByteArrayLiteral("MCP-Protocol-Version");

} // namespace mcpauth::streamable

namespace mcpauth {

// One HTTP exchange that carries server messages: a POSTed message, the GET resuming its broken SSE
// stream, or the server-initiated GET stream.
//
//   Requesting ──SSE headers──> Streaming ──response──> Answered (removed)
//       │  └──JSON body──────────────────────────────> Answered (removed)
//       └──deadline──> TimedOut (aborted)     Streaming ──drop──> Waiting ──retry: delay──> Requesting (GET)
struct StreamableHttpTransport::Stream
{
    enum class Kind { Post, Resume, Listen };
    enum class Phase { Requesting, Streaming, Answered, TimedOut, Waiting };
    Kind kind = Kind::Post;
    Json message;   // the message POSTed (null for Listen)
    Json requestId; // the id whose response this stream owes; null when none is expected
    bool isInitialize = false;
    bool sentSession = false; // the POST carried Mcp-Session-Id
    QUrl postUrl;             // where a same-origin 307/308 sent the POST; empty: the endpoint
    int redirects = 0;
    QPointer<QNetworkReply> reply;
    QTimer *timer = nullptr; // first byte / transfer deadline, then reconnection delay
    SseParser parser;
    Phase phase = Phase::Requesting;
    int attempts = 0; // reconnections in a row that brought nothing

    explicit Stream(qsizetype maxEventBytes) : parser(maxEventBytes) {}
    ~Stream()
    {
        if (timer) {
            timer->stop();
            timer->deleteLater();
        }
        if (reply) {
            // Callers disconnected us first; abort() may emit finished() synchronously. A reply that
            // already failed needs no abort (Qt warns when its error is set twice).
            if (reply->isRunning() && reply->error() == QNetworkReply::NoError)
                reply->abort();
            reply->deleteLater();
        }
    }
};

} // namespace mcpauth
