#include "proxy/SseParser.h"

namespace mcpauth {

namespace {

const QByteArray kBom = QByteArrayLiteral("\xEF\xBB\xBF");

Error tooLarge(qsizetype cap)
{
    return Error::protocol(QStringLiteral("sse_event_too_large"),
                           QStringLiteral("server-sent event larger than %1 bytes").arg(cap));
}

} // namespace

SseParser::SseParser(qsizetype maxEventBytes) : m_maxEventBytes(maxEventBytes) {}

void SseParser::restart()
{
    // WHATWG "reestablish the connection": a new stream, new BOM check, empty buffers; the last event
    // ID and the reconnection time survive.
    m_line.clear();
    m_head.clear();
    m_skipLf = false;
    m_bomChecked = false;
    m_data.clear();
    m_dataBytes = 0;
    m_hasData = false;
    m_eventType.clear();
    m_blockRetry.reset();
    m_idBuffer = m_lastEventId;
    m_failed = false;
}

Result<QList<SseEvent>> SseParser::feed(const QByteArray &chunk)
{
    if (m_failed)
        return tooLarge(m_maxEventBytes);
    QByteArray bytes = chunk;
    if (!m_bomChecked) {
        // WHATWG: one leading U+FEFF is ignored. Hold up to three bytes until we know.
        m_head += bytes;
        if (m_head.size() < kBom.size() && kBom.startsWith(m_head))
            return QList<SseEvent>{};
        m_bomChecked = true;
        bytes = m_head.startsWith(kBom) ? m_head.mid(kBom.size()) : m_head;
        m_head.clear();
    }

    QList<SseEvent> out;
    qsizetype lineStart = 0;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes.at(i);
        if (m_skipLf) {
            m_skipLf = false;
            if (c == '\n' && i == lineStart) { // the \n of a \r\n split across chunks
                lineStart = i + 1;
                continue;
            }
        }
        if (c != '\r' && c != '\n')
            continue;
        m_line += QByteArrayView(bytes).sliced(lineStart, i - lineStart);
        processLine(m_line, out);
        m_line.clear();
        if (c == '\r') {
            if (i + 1 < bytes.size()) {
                if (bytes.at(i + 1) == '\n')
                    ++i;
            } else {
                m_skipLf = true;
            }
        }
        lineStart = i + 1;
        if (m_failed)
            return tooLarge(m_maxEventBytes);
    }
    m_line += QByteArrayView(bytes).sliced(lineStart);
    if (m_line.size() + m_dataBytes > m_maxEventBytes) {
        m_failed = true;
        return tooLarge(m_maxEventBytes);
    }
    return out;
}

void SseParser::processLine(const QByteArray &line, QList<SseEvent> &out)
{
    if (line.isEmpty()) {
        dispatch(out);
        return;
    }
    if (line.startsWith(':'))
        return; // comment (keep-alive)
    const qsizetype colon = line.indexOf(':');
    QByteArray field = colon < 0 ? line : line.left(colon);
    QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
    if (value.startsWith(' '))
        value.remove(0, 1);

    if (field == "data") {
        m_data += QString::fromUtf8(value);
        m_data += QLatin1Char('\n');
        m_dataBytes += value.size() + 1;
        m_hasData = true;
        if (m_dataBytes > m_maxEventBytes)
            m_failed = true;
    } else if (field == "event") {
        m_eventType = QString::fromUtf8(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_idBuffer = QString::fromUtf8(value);
    } else if (field == "retry") {
        bool digits = !value.isEmpty();
        for (const char c : value)
            digits = digits && c >= '0' && c <= '9';
        bool ok = false;
        const int ms = value.toInt(&ok);
        if (digits && ok) {
            m_retryMs = ms;
            m_blockRetry = ms;
        }
    }
    // Any other field name is ignored.
}

void SseParser::dispatch(QList<SseEvent> &out)
{
    m_lastEventId = m_idBuffer;
    const std::optional<int> retry = m_blockRetry;
    m_blockRetry.reset();
    if (!m_hasData) { // WHATWG: an event without data is not dispatched
        m_eventType.clear();
        return;
    }
    SseEvent event;
    if (m_data.endsWith(QLatin1Char('\n')))
        m_data.chop(1);
    event.data = std::move(m_data);
    if (!m_eventType.isEmpty())
        event.event = m_eventType;
    event.id = m_lastEventId;
    event.retryMs = retry;
    out << event;
    m_data.clear();
    m_dataBytes = 0;
    m_hasData = false;
    m_eventType.clear();
}

} // namespace mcpauth
