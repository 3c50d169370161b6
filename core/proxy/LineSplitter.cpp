#include "proxy/LineSplitter.h"

#include <cstring>

namespace mcpauth {

QList<LineSplitter::Event> LineSplitter::feed(const char *data, qsizetype size)
{
    QList<Event> out;
    qsizetype pos = 0;
    while (pos < size) {
        const char *nl = static_cast<const char *>(memchr(data + pos, '\n', size_t(size - pos)));
        const qsizetype end = nl ? qsizetype(nl - data) : size;
        if (!m_oversized) {
            if (m_line.size() + (end - pos) > m_max) {
                // Too long: stop buffering now, not when the newline finally comes.
                m_oversized = true;
                m_line = QByteArray();
            } else {
                m_line.append(data + pos, end - pos);
            }
        }
        if (!nl)
            break;
        complete(&out);
        pos = end + 1;
    }
    return out;
}

QList<LineSplitter::Event> LineSplitter::finish()
{
    QList<Event> out;
    if (m_oversized || !m_line.isEmpty())
        complete(&out);
    return out;
}

void LineSplitter::complete(QList<Event> *out)
{
    if (m_oversized) {
        out->append({Event::Kind::Oversized, QByteArray()});
    } else {
        if (m_line.endsWith('\r'))
            m_line.chop(1);
        out->append({Event::Kind::Line, m_line});
    }
    m_line = QByteArray();
    m_oversized = false;
}

} // namespace mcpauth
