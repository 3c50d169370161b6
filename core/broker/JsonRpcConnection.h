#pragma once

#include "broker/PeerIdentity.h"
#include "common/Json.h"
#include "common/LineFramer.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <chrono>

namespace mcpauth {

class LocalStream;

/// One accepted local-socket client speaking JSON-RPC 2.0, one JSON object per line (`\n`, optional
/// `\r`), the framing of MCP's stdio transport (design.md "Local socket protocol"). It turns lines
/// into requestReceived() and writes responses; it answers malformed input itself and never lets a
/// client make it buffer without bound: a line longer than maxLineBytes, counted before its newline
/// arrives, gets an error and the connection is cut. Requests waiting for an answer are capped too.
///
/// A client cannot make it hold memory or a slot for nothing (security.md §6): a line must be
/// finished within lineTimeout of its first byte; while more than maxUnsentBytes of replies wait
/// for the client to read them, nothing more is read from it (the kernel then blocks its writes),
/// and if it does not drain them within drainTimeout it is cut. Either wait makes the connection
/// stalled(): the server may evict it for a newcomer. Input is taken one chunk per turn of the
/// event loop, so one client flooding the agent cannot keep it from the others.
///
///     Open ──close() / line too large / stalled too long──> Closing ──socket flushed──> Closed
///       ├── abort() ─────────────────────────────────────────────────────────────────────^
///       └────────────── peer disconnects ────────────────────────────────────────────────^
class JsonRpcConnection : public QObject
{
    Q_OBJECT
public:
    enum class State { Open, Closing, Closed };

    /// Unanswered requests (with an id) a client may have outstanding; more get RpcError::Busy.
    static constexpr int maxPendingRequests = 64;
    /// Replies written but not yet read by the client beyond which reading from it pauses.
    static constexpr qsizetype maxUnsentBytes = 256 * 1024;
    /// How much input is taken from the stream per turn of the event loop.
    static constexpr qsizetype readBufferBytes = 64 * 1024;

    /// Bytes of unfinished lines held by every connection that shares it (the server's): past
    /// `limit`, the connection whose line pushes it over is cut, so many clients with big
    /// unfinished lines cannot add up to more than `limit` of memory.
    struct LineBudget
    {
        qsizetype limit = 32 * 1024 * 1024;
        qsizetype used = 0;
    };

    /// Takes ownership of `stream`, which must be connected. `peer` is who the kernel says it is.
    /// `budget`, when given, is shared with the other connections and must outlive this one.
    JsonRpcConnection(LocalStream *stream, PeerInfo peer, qsizetype maxLineBytes = 1 << 20,
                      QObject *parent = nullptr, LineBudget *budget = nullptr);
    ~JsonRpcConnection() override;

    const PeerInfo &peer() const { return m_peer; }
    State state() const { return m_state; }
    /// Requests delivered with an id and not yet answered.
    int pendingRequests() const { return m_pendingCount; }

    /// Answer the request `id`. No-op for a notification (null id: JSON-RPC 2.0 §4.1 forbids
    /// replying) and once the connection is closing.
    void sendResult(const Json &id, const Json &result);
    /// sendResult() with `result` already serialized (one JSON value, no newline): the hot path
    /// answers a repeated request without building or printing it again.
    void sendSerializedResult(const Json &id, const QByteArray &result);
    /// Answer the request `id` with an error; `data` is omitted when null. Same rules as sendResult().
    void sendError(const Json &id, int code, const QString &message, const Json &data = Json());
    /// Flush what was written, then disconnect. closed() follows.
    void close();
    /// Drop the connection at once, unsent replies included. closed() follows synchronously.
    void abort();

    /// Waiting for the client: an unfinished line, or replies it does not read. Such a
    /// connection is the first to go when the server is full.
    bool isStalled() const { return m_stalledSince >= 0; }
    /// Since when (ms since the epoch) it has been stalled; -1 when it is not.
    qint64 stalledSince() const { return m_stalledSince; }
    /// Override the 10 s deadlines for an unfinished line and for draining replies (tests).
    void setTimeouts(std::chrono::milliseconds line, std::chrono::milliseconds drain);

    /// Fires once per valid request line, in arrival order. `id` is null for a notification, which
    /// expects no response; otherwise answer with sendResult() or sendError().
    Q_SIGNAL void requestReceived(const mcpauth::Json &id, const QString &method,
                                  const mcpauth::Json &params);
    /// Fires exactly once, when the peer disconnects or the connection is cut (close(), oversized
    /// line, socket error). No requestReceived() follows it.
    Q_SIGNAL void closed();

private:
    void onReadyRead();
    /// Handles the complete lines m_framer holds until it runs out or replies back up.
    void handleBufferedLines(bool *lineDone);
    void takeInput(const QByteArray &chunk, bool *lineDone);
    bool backedUp() const;
    void updateWaits(bool lineDone);
    void account();
    void dropInput();
    void cut(const char *why, const QString &message);
    void handleLine(const QByteArray &line);
    void markAnswered(const Json &id);
    void writeMessage(const Json &message);
    void writeLine(QByteArray bytes);
    void writeError(const Json &id, int code, const QString &message, const Json &data = Json());
    void finish();

    LocalStream *m_stream;
    PeerInfo m_peer;
    LineFramer m_framer;
    LineBudget *m_budget;
    qsizetype m_accounted = 0; ///< of m_framer's bytes, what m_budget counts
    QTimer m_lineTimer;        ///< the unfinished line must end in time
    QTimer m_drainTimer;       ///< a client whose replies back up must read them in time
    qint64 m_stalledSince = -1;
    QHash<QByteArray, int> m_pending; ///< serialized id → count of unanswered requests with that id
    int m_pendingCount = 0;
    State m_state = State::Open;
};

} // namespace mcpauth
