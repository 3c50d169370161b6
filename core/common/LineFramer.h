#pragma once

#include <QByteArray>
#include <QList>

#include <optional>

namespace mcpauth {

/// The one framer for newline-delimited JSON, as MCP's stdio transport frames it and the agent's
/// socket does both ways (the proxy's stdin, the broker's connections, the agent client): bytes go
/// in as they arrive, complete lines come out one at a time, in order. A line is cut at `\n`, and a
/// `\r` before it is dropped.
///
/// Memory is bounded by the caller's reading, never by the sender: a line longer than
/// maxLineBytes stops being kept the moment it grows past the limit (overflowing() tells a caller
/// that cuts the connection instead), and when its newline arrives it comes out once as Oversized.
/// Pull-based, so a caller under back-pressure simply stops taking lines. No Qt objects: usable
/// from the stdin reader thread and testable alone.
class LineFramer
{
public:
    struct Line
    {
        enum class Kind { Line, Oversized };
        Kind kind = Kind::Line;
        QByteArray bytes; ///< without `\n` (and a trailing `\r`); empty for Oversized
    };

    explicit LineFramer(qsizetype maxLineBytes) : m_max(maxLineBytes) {}

    /// Takes the next chunk of the stream.
    void append(const char *data, qsizetype size);
    void append(const QByteArray &chunk) { append(chunk.constData(), chunk.size()); }
    /// End of the stream: an unterminated last line becomes a line too.
    void finish();
    /// The next complete line, or nothing until more bytes (or finish()) complete one.
    std::optional<Line> next();

    /// Bytes held: complete lines not taken yet plus the unfinished line.
    qsizetype buffered() const { return m_readyBytes + m_partial.size(); }
    /// Bytes of the unfinished line (0 while it is being dropped).
    qsizetype partialBytes() const { return m_partial.size(); }
    /// True when some bytes of an unfinished line arrived (kept or being dropped).
    bool hasPartial() const { return m_dropping || !m_partial.isEmpty(); }
    /// True while the unfinished line is past maxLineBytes and being dropped.
    bool overflowing() const { return m_dropping; }
    qsizetype maxLineBytes() const { return m_max; }

private:
    void complete();

    qsizetype m_max;
    QByteArray m_partial;
    bool m_dropping = false;
    QList<Line> m_ready;
    qsizetype m_readyBytes = 0;
};

} // namespace mcpauth
