#pragma once

#include "broker/JsonRpcConnection.h"
#include "broker/PeerIdentity.h"
#include "common/Result.h"

#include <QObject>

#include <functional>

class QLocalServer;
class QLocalSocket;

namespace mcpauth {

/// The agent's local socket server (design.md "Local socket protocol"). listen() makes the socket
/// directory safe, replaces a stale socket file but never a live agent's, and restricts the socket
/// to the user. Every accepted client is identified by the kernel (PeerIdentityProvider): a peer
/// that cannot be identified or runs as another user is disconnected at once, without a byte.
/// Accepted peers become JsonRpcConnections, owned by the server and deleted after closed().
class BrokerServer : public QObject
{
    Q_OBJECT
public:
    /// Simultaneous connections accepted. At the limit, the longest-stalled connection (see
    /// JsonRpcConnection::isStalled()) is dropped for the newcomer; when none is stalled, new
    /// clients get RpcError::Busy and are closed.
    static constexpr int defaultMaxConnections = 256;

    explicit BrokerServer(const PeerIdentityProvider &identity, QObject *parent = nullptr);
    ~BrokerServer() override;

    /// Error::security from SocketPath::prepareDirectory(), Error::config("agent_running") when an
    /// agent answers on `socketPath`, Error::config("listen_failed") otherwise.
    Status listen(const QString &socketPath);
    /// Stop listening, remove the socket file, close every connection.
    void close();
    bool isListening() const;
    QString socketPath() const;

    void setMaxConnections(int max) { m_maxConnections = max; }
    /// Maximum line length handed to each JsonRpcConnection.
    void setMaxLineBytes(qsizetype max) { m_maxLineBytes = max; }
    int connectionCount() const { return m_connections; }
    /// Bytes of unfinished lines all connections may hold together (default 32 MiB).
    void setLineBudget(qsizetype bytes) { m_lineBudget.limit = bytes; }
    /// Makes the stream of an accepted, identified client, taking `socket` over; null drops the
    /// client. Default: a QtLocalStream. The agent passes the platform's descriptor-level stream.
    using StreamFactory = std::function<LocalStream *(QLocalSocket *socket)>;
    void setStreamFactory(StreamFactory factory) { m_streams = std::move(factory); }

    /// Fires once per accepted peer with the current user's uid. The server owns `connection` and
    /// deletes it (deleteLater) after its closed() signal.
    Q_SIGNAL void connectionAccepted(mcpauth::JsonRpcConnection *connection);

private:
    void refuseWith(QLocalSocket *socket, int code, const QString &message);
    void onNewConnection();
    void evictStalled();

    const PeerIdentityProvider &m_identity;
    QLocalServer *m_server;
    int m_connections = 0;
    int m_maxConnections = defaultMaxConnections;
    qsizetype m_maxLineBytes = 1 << 20;
    JsonRpcConnection::LineBudget m_lineBudget; ///< unfinished lines of every connection, together
    StreamFactory m_streams;
};

} // namespace mcpauth
