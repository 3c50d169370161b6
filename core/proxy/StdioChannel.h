#pragma once

#include "common/Json.h"
#include "common/LineFramer.h"

#include <QObject>

#include <cstdio>
#include <memory>

class QThread;

namespace mcpauth {

/// MCP's stdio transport, server side: newline-delimited JSON-RPC on the process's stdin and
/// stdout, as `mcp-auth proxy` speaks it to its host. A reader thread blocks on stdin and hands
/// complete lines to the owner's thread (queued); writes happen on the owner's thread only, one
/// message per line, flushed each time. The channel answers bad input itself and keeps going: a
/// line that is not JSON gets -32700 (id null), a JSON value that is not an object -32600, and a
/// line over maxLineBytes a -32700 without ever being held in memory.
///
///     start() ──> Reading ──EOF on input──> Closed (hostClosed())
class StdioChannel : public QObject
{
    Q_OBJECT
public:
    static constexpr qsizetype maxLineBytes = 16 * 1024 * 1024;

    /// Reads `input` and writes `output` (stdin/stdout by default; tests pass pipes). Neither is
    /// closed by the channel.
    explicit StdioChannel(FILE *input = stdin, FILE *output = stdout, QObject *parent = nullptr);
    /// A reader still blocked on input is left to end with the process; it delivers nothing more.
    ~StdioChannel() override;

    /// Starts the reader thread. Call once.
    void start();
    /// Writes one message as one line and flushes.
    void write(const Json &message);

Q_SIGNALS:
    /// Fires once per JSON object the host sends, in order.
    void messageReceived(const mcpauth::Json &message);
    /// Fires once, after the last message, when the input ends (the host closed our stdin).
    void hostClosed();

private:
    struct Shared;
    void deliver(const QList<LineFramer::Line> &events, bool eof);
    void writeError(int code, const QString &message);

    FILE *m_in;
    FILE *m_out;
    std::shared_ptr<Shared> m_shared;
    QThread *m_thread = nullptr;
};

} // namespace mcpauth
