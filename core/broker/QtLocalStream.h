#pragma once

#include "broker/LocalStream.h"

class QLocalSocket;

namespace mcpauth {

/// A LocalStream over a QLocalSocket: portable, used where the platform offers no
/// descriptor-level stream (and by tests of both). Qt buffers both ways and re-arms its socket
/// notifiers on every write, which costs the hot path two event-loop wake-ups per request.
class QtLocalStream : public LocalStream
{
    Q_OBJECT
public:
    /// Takes ownership of `socket`, which must be connected (or have just been).
    explicit QtLocalStream(QLocalSocket *socket, QObject *parent = nullptr);
    ~QtLocalStream() override;

    QByteArray read(qsizetype maxBytes) override;
    void write(const QByteArray &bytes) override;
    qsizetype bytesToWrite() const override;
    void setReading(bool on) override;
    void closeAfterFlush() override;
    void abort() override;

private:
    /// readyRead() on the next turn while input waits: Qt's own signal fires only for new input.
    void rearm();
    void onDisconnected();

    QLocalSocket *m_socket;
    bool m_reading = true;
    bool m_armed = false;
    bool m_disconnected = false;
};

} // namespace mcpauth
