#pragma once

#include "common/Result.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace mcpauth {

/// One dispatched server-sent event: what SseParser hands out.
struct SseEvent
{
    QString event = QStringLiteral("message"); ///< the `event:` field, "message" when absent
    QString data;                              ///< the `data:` lines joined by \n
    QString id;                                ///< the last event ID in force when it was dispatched
    std::optional<int> retryMs;                ///< a `retry:` given in this event's block, if any
};

/// Incremental parser for a text/event-stream body, as the MCP HTTP transports receive it. Follows
/// the WHATWG HTML "interpreting an event stream" rules: lines end in \n, \r\n or \r (also when a
/// chunk splits \r from \n), a UTF-8 BOM at stream start is dropped, `:` lines are comments, `data:`
/// lines are joined by \n, an `id:` containing NUL is ignored, `retry:` takes ASCII digits only, and a
/// blank line dispatches the event unless it carried no data. Bytes can arrive in chunks of any size.
/// An event (or a line) larger than the cap is an error, after which the parser stays failed: a
/// server cannot make the proxy buffer without bound.
class SseParser
{
public:
    static constexpr qsizetype defaultMaxEventBytes = 4 * 1024 * 1024;

    explicit SseParser(qsizetype maxEventBytes = defaultMaxEventBytes);

    /// Parses the next chunk and returns the events it completed, in order; Error::protocol
    /// ("sse_event_too_large") once the buffered event exceeds the cap.
    Result<QList<SseEvent>> feed(const QByteArray &chunk);

    /// The ID of the last dispatched event block (what `Last-Event-ID` carries on reconnection);
    /// empty when the server never gave one.
    QString lastEventId() const { return m_lastEventId; }
    /// The latest `retry:` the server asked for (reconnection time in ms), if any.
    std::optional<int> retryMs() const { return m_retryMs; }
    bool failed() const { return m_failed; }

    /// Starts a new stream (a reconnection): drops partial lines and the event being built, keeps
    /// lastEventId() and retryMs() as the WHATWG reconnection rules do.
    void restart();

private:
    void processLine(const QByteArray &line, QList<SseEvent> &out);
    void dispatch(QList<SseEvent> &out);

    qsizetype m_maxEventBytes;
    QByteArray m_line;         // bytes of the incomplete current line
    bool m_skipLf = false;     // the previous chunk ended in \r: a leading \n belongs to it
    bool m_bomChecked = false; // the stream-start BOM check is done
    QByteArray m_head;         // first bytes held until the BOM check can decide
    QString m_data;
    qsizetype m_dataBytes = 0;
    bool m_hasData = false;
    QString m_eventType;
    QString m_idBuffer;
    std::optional<int> m_blockRetry;
    QString m_lastEventId;
    std::optional<int> m_retryMs;
    bool m_failed = false;
};

} // namespace mcpauth
