#pragma once

#include "broker/PeerIdentity.h"
#include "common/Json.h"

#include <QByteArray>
#include <QHash>
#include <QObject>

class QLocalSocket;

namespace mcpauth {

/// One accepted local-socket client speaking JSON-RPC 2.0, one JSON object per line (`\n`, optional
/// `\r`), the framing of MCP's stdio transport (design.md "Local socket protocol"). It turns lines
/// into requestReceived() and writes responses; it answers malformed input itself and never lets a
/// client make it buffer without bound: a line longer than maxLineBytes, counted before its newline
/// arrives, gets an error and the connection is cut. Requests waiting for an answer are capped too.
///
///     Open ──close() / line too large──> Closing ──socket flushed──> Closed
///       └────────────── peer disconnects ─────────────────────────────^
class JsonRpcConnection : public QObject
{
    Q_OBJECT
public:
    enum class State { Open, Closing, Closed };

    /// Unanswered requests (with an id) a client may have outstanding; more get RpcError::Busy.
    static constexpr int maxPendingRequests = 64;

    /// Takes ownership of `socket`, which must be connected. `peer` is who the kernel says it is.
    JsonRpcConnection(QLocalSocket *socket, PeerInfo peer, qsizetype maxLineBytes = 1 << 20,
                      QObject *parent = nullptr);
    ~JsonRpcConnection() override;

    const PeerInfo &peer() const { return m_peer; }
    State state() const { return m_state; }
    /// Requests delivered with an id and not yet answered.
    int pendingRequests() const { return m_pendingCount; }

    /// Answer the request `id`. No-op for a notification (null id: JSON-RPC 2.0 §4.1 forbids
    /// replying) and once the connection is closing.
    void sendResult(const Json &id, const Json &result);
    /// Answer the request `id` with an error; `data` is omitted when null. Same rules as sendResult().
    void sendError(const Json &id, int code, const QString &message, const Json &data = Json());
    /// Flush what was written, then disconnect. closed() follows.
    void close();

    /// Fires once per valid request line, in arrival order. `id` is null for a notification, which
    /// expects no response; otherwise answer with sendResult() or sendError().
    Q_SIGNAL void requestReceived(const mcpauth::Json &id, const QString &method,
                                  const mcpauth::Json &params);
    /// Fires exactly once, when the peer disconnects or the connection is cut (close(), oversized
    /// line, socket error). No requestReceived() follows it.
    Q_SIGNAL void closed();

private:
    void onReadyRead();
    void handleLine(QByteArray line);
    void markAnswered(const Json &id);
    void writeMessage(const Json &message);
    void writeError(const Json &id, int code, const QString &message, const Json &data = Json());
    void finish();

    QLocalSocket *m_socket;
    PeerInfo m_peer;
    qsizetype m_maxLineBytes;
    QByteArray m_buffer;
    QHash<QByteArray, int> m_pending; ///< serialized id → count of unanswered requests with that id
    int m_pendingCount = 0;
    State m_state = State::Open;
};

} // namespace mcpauth
