#pragma once

// Private to StatelessHttpTransport*.cpp: one exchange, and which requests may go twice.

#include "proxy/SseParser.h"
#include "proxy/StatelessHttpTransport.h"

#include <QNetworkReply>
#include <QPointer>
#include <QSet>
#include <QTimer>

namespace mcpauth::stateless {

// Requests that change nothing on the server: a broken stream may send them again (changelog
// 2026-07-28 major 9: the client MUST re-issue as a new request with a new id).
inline bool isReadOnly(const QString &method)
{
    static const QSet<QString> readOnly = {QStringLiteral("server/discover"),
                                           QStringLiteral("tools/list"),
                                           QStringLiteral("prompts/list"),
                                           QStringLiteral("prompts/get"),
                                           QStringLiteral("resources/list"),
                                           QStringLiteral("resources/read"),
                                           QStringLiteral("resources/templates/list"),
                                           QStringLiteral("completion/complete")};
    return readOnly.contains(method);
}

} // namespace mcpauth::stateless

namespace mcpauth {

// One POSTed request and the response stream it opened.
struct StatelessHttpTransport::Exchange
{
    Json message; // as the caller sent it (its id is the one the caller knows)
    Json wireId;  // the id on the wire: the caller's, or ours after a re-issue
    QString method;
    Phase phase = Phase::Sending;
    bool internal = false;    // our own tools/list refresh: never delivered
    quint64 retryKey = 0;     // internal: the tools/call waiting for this refresh
    bool reissued = false;    // a broken stream already sent it again
    bool headerRetry = false; // a -32020 already refreshed the declarations
    QUrl postUrl;
    int redirects = 0;
    QObject *owner;
    QPointer<QNetworkReply> reply;
    QTimer timer;
    SseParser parser;

    Exchange(QObject *owner, qsizetype maxEventBytes) : owner(owner), parser(maxEventBytes)
    {
        timer.setSingleShot(true);
    }
    ~Exchange()
    {
        if (reply) {
            // Only our connections: Qt's own carry the abort to the connection thread.
            QObject::disconnect(reply, nullptr, owner, nullptr);
            // Closing the stream is how a request is cancelled (§Cancellation).
            if (reply->isRunning())
                reply->abort();
            reply->deleteLater();
        }
    }
};

} // namespace mcpauth
