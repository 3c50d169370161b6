#include "UnixLocalStream.h"

#include "PlatformLocalStream.h"

#include <QLocalSocket>
#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mcpauth {

UnixLocalStream::UnixLocalStream(int fd, QObject *parent) : LocalStream(parent), m_fd(fd)
{
    if (const int flags = ::fcntl(m_fd, F_GETFL); flags >= 0)
        ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
    m_readNotifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    m_writeNotifier = new QSocketNotifier(m_fd, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, [this] { Q_EMIT readyRead(); });
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &UnixLocalStream::onWritable);
}

UnixLocalStream::~UnixLocalStream()
{
    shut(false);
}

LocalStream *UnixLocalStream::adopt(QLocalSocket *socket)
{
    const int fd = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    const QByteArray early = fd >= 0 ? socket->readAll() : QByteArray();
    socket->abort(); // closes Qt's descriptor; the connection lives on in ours
    delete socket;
    if (fd < 0)
        return nullptr;
    auto *stream = new UnixLocalStream(fd);
    stream->m_early = early;
    if (!early.isEmpty()) // level-triggered: what Qt read counts as waiting input
        QTimer::singleShot(0, stream, [stream] {
            if (!stream->m_early.isEmpty() && stream->m_reading && !stream->m_shut)
                Q_EMIT stream->readyRead();
        });
    return stream;
}

QByteArray UnixLocalStream::read(qsizetype maxBytes)
{
    if (!m_early.isEmpty()) {
        QByteArray chunk = m_early.left(maxBytes);
        m_early.remove(0, chunk.size());
        return chunk;
    }
    if (m_shut || maxBytes <= 0)
        return {};
    QByteArray chunk(maxBytes, Qt::Uninitialized);
    ssize_t n;
    do
        n = ::read(m_fd, chunk.data(), size_t(maxBytes));
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        chunk.resize(n);
        return chunk;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return {};
    shut(true); // end of input, or the connection failed: the peer has gone
    return {};
}

bool UnixLocalStream::send(const char *data, qsizetype size, qsizetype *sent)
{
    *sent = 0;
    while (*sent < size) {
        // MSG_NOSIGNAL: a peer that left gives EPIPE here, not a SIGPIPE that kills the agent.
        const ssize_t n = ::send(m_fd, data + *sent, size_t(size - *sent), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            *sent += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK); // full: wait; else failed
    }
    return true;
}

void UnixLocalStream::write(const QByteArray &bytes)
{
    if (m_shut || m_closing || bytes.isEmpty())
        return;
    if (bytesToWrite() > 0) { // keep the order: behind what waits
        m_out.append(bytes);
        return;
    }
    qsizetype sent = 0;
    if (!send(bytes.constData(), bytes.size(), &sent))
        return shut(true);
    if (sent == bytes.size())
        return;
    m_out = bytes.mid(sent);
    m_outSent = 0;
    m_writeNotifier->setEnabled(true);
}

void UnixLocalStream::onWritable()
{
    qsizetype sent = 0;
    if (!send(m_out.constData() + m_outSent, bytesToWrite(), &sent))
        return shut(true);
    m_outSent += sent;
    if (bytesToWrite() > 0)
        return;
    m_out.clear();
    m_outSent = 0;
    m_writeNotifier->setEnabled(false);
    Q_EMIT bytesWritten();
    if (m_closing)
        shut(true);
}

void UnixLocalStream::setReading(bool on)
{
    if (m_reading == on)
        return;
    m_reading = on;
    if (!m_shut)
        m_readNotifier->setEnabled(on);
    if (on && !m_early.isEmpty())
        QTimer::singleShot(0, this, [this] {
            if (!m_early.isEmpty() && m_reading && !m_shut)
                Q_EMIT readyRead();
        });
}

void UnixLocalStream::closeAfterFlush()
{
    if (m_shut || m_closing)
        return;
    m_closing = true;
    setReading(false);
    if (bytesToWrite() == 0)
        shut(true);
}

void UnixLocalStream::abort()
{
    shut(false);
}

void UnixLocalStream::shut(bool notify)
{
    if (m_shut)
        return;
    m_shut = true;
    // The notifiers go before the descriptor they watch.
    delete m_readNotifier;
    delete m_writeNotifier;
    m_readNotifier = m_writeNotifier = nullptr;
    ::close(m_fd);
    m_fd = -1;
    m_out.clear();
    m_outSent = 0;
    if (notify)
        QTimer::singleShot(0, this, [this] { Q_EMIT disconnected(); });
}

LocalStream *adoptLocalStream(QLocalSocket *socket)
{
    return UnixLocalStream::adopt(socket);
}

} // namespace mcpauth
