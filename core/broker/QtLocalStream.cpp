#include "broker/QtLocalStream.h"

#include <QLocalSocket>
#include <QTimer>

namespace mcpauth {

QtLocalStream::QtLocalStream(QLocalSocket *socket, QObject *parent) : LocalStream(parent), m_socket(socket)
{
    m_socket->setParent(this);
    // Qt reads ahead only this much; the rest waits in the kernel, which then blocks the writer.
    m_socket->setReadBufferSize(64 * 1024);
    connect(m_socket, &QLocalSocket::readyRead, this, [this] {
        if (m_reading)
            Q_EMIT readyRead();
        rearm();
    });
    connect(m_socket, &QLocalSocket::bytesWritten, this, [this] {
        if (m_socket->bytesToWrite() == 0)
            Q_EMIT bytesWritten();
    });
    connect(m_socket, &QLocalSocket::disconnected, this, &QtLocalStream::onDisconnected);
    // Bytes may have arrived before we were connected, and the peer may already be gone: look on
    // the event loop, once the owner has connected to our signals.
    QTimer::singleShot(0, this, [this] {
        if (m_socket->state() != QLocalSocket::ConnectedState)
            onDisconnected();
        else
            rearm();
    });
}

QtLocalStream::~QtLocalStream()
{
    disconnect(m_socket, nullptr, this, nullptr);
}

void QtLocalStream::rearm()
{
    if (m_armed || !m_reading || m_disconnected || m_socket->bytesAvailable() == 0)
        return;
    m_armed = true;
    QTimer::singleShot(0, this, [this] {
        m_armed = false;
        if (!m_reading || m_disconnected || m_socket->bytesAvailable() == 0)
            return;
        Q_EMIT readyRead();
        rearm();
    });
}

QByteArray QtLocalStream::read(qsizetype maxBytes)
{
    return m_socket->read(maxBytes);
}

void QtLocalStream::write(const QByteArray &bytes)
{
    if (m_socket->state() != QLocalSocket::ConnectedState)
        return;
    m_socket->write(bytes);
    m_socket->flush(); // to the kernel now, not on the next turn
}

qsizetype QtLocalStream::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void QtLocalStream::setReading(bool on)
{
    if (m_reading == on)
        return;
    m_reading = on;
    rearm();
}

void QtLocalStream::closeAfterFlush()
{
    m_reading = false;
    // disconnectFromServer() writes what is buffered first, then emits disconnected().
    m_socket->disconnectFromServer();
    if (m_socket->state() == QLocalSocket::UnconnectedState)
        QTimer::singleShot(0, this, &QtLocalStream::onDisconnected);
}

void QtLocalStream::abort()
{
    m_disconnected = true;
    disconnect(m_socket, nullptr, this, nullptr);
    m_socket->abort();
}

void QtLocalStream::onDisconnected()
{
    if (m_disconnected)
        return;
    m_disconnected = true;
    Q_EMIT disconnected();
}

} // namespace mcpauth

#include "moc_QtLocalStream.cpp"
