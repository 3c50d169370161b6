#include "common/LineFramer.h"

#include <cstring>

namespace mcpauth {

void LineFramer::append(const char *data, qsizetype size)
{
    qsizetype pos = 0;
    while (pos < size) {
        const char *nl = static_cast<const char *>(memchr(data + pos, '\n', size_t(size - pos)));
        const qsizetype end = nl ? qsizetype(nl - data) : size;
        if (!m_dropping) {
            if (m_partial.size() + (end - pos) > m_max) {
                // Too long: stop keeping it now, not when the newline finally comes.
                m_dropping = true;
                m_partial = QByteArray();
            } else {
                m_partial.append(data + pos, end - pos);
            }
        }
        if (!nl)
            break;
        complete();
        pos = end + 1;
    }
}

void LineFramer::finish()
{
    if (hasPartial())
        complete();
}

std::optional<LineFramer::Line> LineFramer::next()
{
    if (m_ready.isEmpty())
        return std::nullopt;
    Line line = m_ready.takeFirst();
    m_readyBytes -= line.bytes.size();
    return line;
}

void LineFramer::complete()
{
    if (m_dropping) {
        m_ready.append({Line::Kind::Oversized, QByteArray()});
    } else {
        if (m_partial.endsWith('\r'))
            m_partial.chop(1);
        m_readyBytes += m_partial.size();
        m_ready.append({Line::Kind::Line, std::move(m_partial)});
    }
    m_partial = QByteArray();
    m_dropping = false;
}

} // namespace mcpauth
