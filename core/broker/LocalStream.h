#pragma once

#include <QByteArray>
#include <QObject>

namespace mcpauth {

/// One connected local stream socket, as a JsonRpcConnection reads and writes it. Two kinds:
/// QtLocalStream (QLocalSocket, portable) and, where the platform has one, a descriptor-level
/// stream (platform/UnixLocalStream) that writes straight to the kernel and arms a write
/// notifier only when the kernel is full: the broker's hot path pays one read and one write per
/// request and nothing else (issue 8.5).
///
/// Input is level-triggered: readyRead() fires on every turn of the event loop while unread input
/// waits and reading is on, so a reader may take one chunk per turn and still see it all, and one
/// busy client cannot hold the agent while others wait.
class LocalStream : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    /// Up to `maxBytes` of what has arrived; empty when nothing waits (or the peer has left, in
    /// which case disconnected() follows from the event loop).
    virtual QByteArray read(qsizetype maxBytes) = 0;
    /// Sends `bytes`, as much as the kernel takes now; the rest waits in order and leaves as the
    /// peer reads. Ignored once closing.
    virtual void write(const QByteArray &bytes) = 0;
    /// Bytes written but not yet taken by the kernel.
    virtual qsizetype bytesToWrite() const = 0;
    /// Back-pressure: while off, readyRead() does not fire and the kernel holds the input (which
    /// then blocks the peer's writes).
    virtual void setReading(bool on) = 0;
    /// Sends what waits, then disconnects; disconnected() follows.
    virtual void closeAfterFlush() = 0;
    /// Drops the connection at once, unsent bytes included. No signal follows.
    virtual void abort() = 0;

Q_SIGNALS:
    /// Input waits (see the class comment: again on each turn while it does).
    void readyRead();
    /// Bytes that had to wait have been taken by the kernel; fires when the wait empties.
    void bytesWritten();
    /// Fires once: the peer left, the connection failed, or closeAfterFlush() finished.
    void disconnected();
};

} // namespace mcpauth
