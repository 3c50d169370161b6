#include "proxy/StdioChannel.h"

#include "common/Log.h"

#include <QMutex>
#include <QPointer>
#include <QThread>

#include <cstring>
#include <vector>

namespace mcpauth {

// What the reader thread and the channel share: the channel unhooks itself under the mutex before
// it dies, so the reader never posts to a deleted object.
struct StdioChannel::Shared
{
    QMutex mutex;
    StdioChannel *receiver = nullptr;
};

StdioChannel::StdioChannel(FILE *input, FILE *output, QObject *parent)
    : QObject(parent), m_in(input), m_out(output), m_shared(std::make_shared<Shared>())
{
    m_shared->receiver = this;
}

StdioChannel::~StdioChannel()
{
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->receiver = nullptr;
    }
    if (!m_thread)
        return;
    if (m_thread->isFinished()) {
        m_thread->wait();
        delete m_thread;
    }
    // Otherwise the reader is blocked in a read of the host's pipe and cannot be woken portably.
    // It holds only the shared state, posts nothing any more, and ends with the process.
}

void StdioChannel::start()
{
    if (m_thread)
        return;
    std::shared_ptr<Shared> shared = m_shared;
    FILE *in = m_in;
    m_thread = QThread::create([shared, in] {
        LineFramer framer(maxLineBytes);
        auto post = [&shared, &framer](bool eof) {
            QList<LineFramer::Line> events;
            while (std::optional<LineFramer::Line> line = framer.next())
                events.append(std::move(*line));
            if (events.isEmpty() && !eof)
                return;
            QMutexLocker lock(&shared->mutex);
            StdioChannel *receiver = shared->receiver;
            if (!receiver)
                return;
            QMetaObject::invokeMethod(
                receiver, [receiver, events = std::move(events), eof] { receiver->deliver(events, eof); },
                Qt::QueuedConnection);
        };
        // fgets returns at each newline (a pipe read gives what is there), so a message is handed
        // on as soon as its line is complete; longer lines arrive in buffer-sized pieces.
        std::vector<char> buffer(64 * 1024);
        while (std::fgets(buffer.data(), int(buffer.size()), in)) {
            framer.append(buffer.data(), qsizetype(std::strlen(buffer.data())));
            post(false);
        }
        framer.finish();
        post(true);
    });
    m_thread->setObjectName(QStringLiteral("stdin reader"));
    m_thread->start();
}

void StdioChannel::write(const Json &message)
{
    const QByteArray bytes = toBytes(message) + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), m_out);
    std::fflush(m_out);
}

void StdioChannel::writeError(int code, const QString &message)
{
    write(
        Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", toStd(message)}}}});
}

void StdioChannel::deliver(const QList<LineFramer::Line> &events, bool eof)
{
    QPointer<StdioChannel> self(this);
    for (const LineFramer::Line &e : events) {
        if (!self)
            return;
        if (e.kind == LineFramer::Line::Kind::Oversized) {
            qCWarning(lcProxy) << "host sent a message over" << maxLineBytes << "bytes; skipped";
            writeError(-32700, QStringLiteral("Parse error: message larger than 16 MiB"));
            continue;
        }
        if (e.bytes.trimmed().isEmpty())
            continue;
        const Result<Json> parsed = parseJson(e.bytes, QStringLiteral("message"), kMaxMcpJsonDepth);
        if (!parsed) {
            qCWarning(lcProxy) << "host sent a line that is not usable JSON; answered -32700";
            writeError(-32700, QStringLiteral("Parse error: ") + parsed.error().message);
            continue;
        }
        const Json &message = parsed.value();
        if (!message.is_object()) {
            writeError(-32600, message.is_array()
                                   ? QStringLiteral("Invalid Request: batches are not supported")
                                   : QStringLiteral("Invalid Request: not a JSON-RPC object"));
            continue;
        }
        Q_EMIT messageReceived(message);
    }
    if (eof && self)
        Q_EMIT hostClosed();
}

} // namespace mcpauth

#include "moc_StdioChannel.cpp"
