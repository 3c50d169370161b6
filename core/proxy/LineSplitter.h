#pragma once

#include <QByteArray>
#include <QList>

namespace mcpauth {

/// Cuts a byte stream into `\n`-terminated lines (MCP stdio framing) without ever holding more
/// than one line of at most maxLineBytes. A longer line is dropped as it streams in and reported
/// once as Oversized when its newline arrives. Used by StdioChannel's reader thread; no Qt objects,
/// so it is testable without one.
class LineSplitter
{
public:
    struct Event
    {
        enum class Kind { Line, Oversized };
        Kind kind = Kind::Line;
        QByteArray line; ///< without the `\n` (and without a trailing `\r`); empty for Oversized
    };

    explicit LineSplitter(qsizetype maxLineBytes) : m_max(maxLineBytes) {}

    /// Feeds the next chunk; returns the complete lines (and oversize reports) it finished.
    QList<Event> feed(const char *data, qsizetype size);
    /// End of input: a last line without a newline, if any.
    QList<Event> finish();

private:
    void complete(QList<Event> *out);

    qsizetype m_max;
    QByteArray m_line;
    bool m_oversized = false;
};

} // namespace mcpauth
