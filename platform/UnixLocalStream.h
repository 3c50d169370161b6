#pragma once

#include "broker/LocalStream.h"

class QLocalSocket;
class QSocketNotifier;

namespace mcpauth {

/// A LocalStream on the socket's descriptor itself: each write goes straight to the kernel, a
/// write notifier is armed only while the kernel is full, and the read notifier (level-triggered)
/// is switched only for back-pressure. So a request answered at once costs one read and one write
/// and no other system call or event-loop wake-up (issue 8.5; QLocalSocket re-arms its notifiers
/// on every write, two wake-ups per request).
class UnixLocalStream : public LocalStream
{
    Q_OBJECT
public:
    /// Owns `fd`, a connected stream socket.
    explicit UnixLocalStream(int fd, QObject *parent = nullptr);
    ~UnixLocalStream() override;

    /// Takes `socket`'s connection over (a duplicate of its descriptor, and any input Qt already
    /// read) and deletes `socket`. Null when the descriptor cannot be duplicated. The broker's
    /// stream factory (BrokerServer::setStreamFactory).
    static LocalStream *adopt(QLocalSocket *socket);

    QByteArray read(qsizetype maxBytes) override;
    void write(const QByteArray &bytes) override;
    qsizetype bytesToWrite() const override { return m_out.size() - m_outSent; }
    void setReading(bool on) override;
    void closeAfterFlush() override;
    void abort() override;

private:
    void onWritable();
    bool send(const char *data, qsizetype size, qsizetype *sent);
    /// Closes the descriptor; `notify`: disconnected() follows from the event loop.
    void shut(bool notify);

    int m_fd;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_early; ///< input Qt had read before adopt()
    QByteArray m_out;   ///< what waits for the kernel, from m_outSent on
    qsizetype m_outSent = 0;
    bool m_reading = true;
    bool m_closing = false;
    bool m_shut = false;
};

} // namespace mcpauth
