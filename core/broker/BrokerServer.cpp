#include "broker/BrokerServer.h"

#include "broker/QtLocalStream.h"
#include "broker/RpcErrors.h"
#include "broker/SocketPath.h"
#include "common/Log.h"

#include <QFile>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>

namespace mcpauth {

namespace {

/// Whether something accepts connections on `path`. QLocalSocket connects to a Unix socket without
/// waiting: the kernel accepts or refuses at once, so the state right after connectToServer() tells.
/// A connect still in progress means a live listener with a full backlog: an agent, just busy.
bool someoneAnswers(const QString &path)
{
    QLocalSocket probe;
    probe.connectToServer(path);
    const bool answers = probe.state() != QLocalSocket::UnconnectedState;
    probe.abort();
    return answers;
}

} // namespace

BrokerServer::BrokerServer(const PeerIdentityProvider &identity, QObject *parent)
    : QObject(parent), m_identity(identity), m_server(new QLocalServer(this)),
      m_streams([](QLocalSocket *socket) -> LocalStream * { return new QtLocalStream(socket); })
{
    connect(m_server, &QLocalServer::newConnection, this, &BrokerServer::onNewConnection);
}

BrokerServer::~BrokerServer()
{
    close();
}

Status BrokerServer::listen(const QString &socketPath)
{
    if (m_server->isListening())
        return Error::internal(
            QStringLiteral("broker is already listening on %1").arg(m_server->fullServerName()));
    if (auto prepared = SocketPath::prepareDirectory(socketPath, m_identity.currentUid()); !prepared)
        return prepared;

    const QFileInfo existing(socketPath);
    if (existing.exists() || existing.isSymLink()) {
        // One agent per user: never take over a socket someone answers on; only a file left by an
        // agent that died is removed.
        if (someoneAnswers(socketPath))
            return Error::config(QStringLiteral("agent_running"),
                                 QStringLiteral("another agent is already listening on %1").arg(socketPath));
        qCInfo(lcBroker) << "removing stale socket" << socketPath;
        if (!QFile::remove(socketPath))
            return Error::config(QStringLiteral("listen_failed"),
                                 QStringLiteral("cannot remove stale socket file %1").arg(socketPath));
    }

    // UserAccessOption: Qt creates the socket with owner-only access before it becomes visible.
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    // A refresh storm (dozens of proxies asking at once) must queue, not see EAGAIN: Qt's default
    // backlog is 50; match it to the connection cap.
    m_server->setListenBacklogSize(m_maxConnections);
    if (!m_server->listen(socketPath))
        return Error::config(
            QStringLiteral("listen_failed"),
            QStringLiteral("cannot listen on %1: %2").arg(socketPath, m_server->errorString()));
    // design.md: socket 0600 (Qt's user option leaves it 0700; the execute bit means nothing on a socket).
    if (!QFile::setPermissions(socketPath, QFile::ReadOwner | QFile::WriteOwner)) {
        m_server->close();
        return Error::config(QStringLiteral("listen_failed"),
                             QStringLiteral("cannot restrict permissions of %1").arg(socketPath));
    }
    qCInfo(lcBroker) << "listening on" << socketPath;
    return okStatus();
}

void BrokerServer::close()
{
    // QLocalServer::close() also removes the socket file it created (Unix).
    if (m_server->isListening())
        m_server->close();
    const auto connections = findChildren<JsonRpcConnection *>(Qt::FindDirectChildrenOnly);
    for (JsonRpcConnection *connection : connections)
        connection->close();
}

bool BrokerServer::isListening() const
{
    return m_server->isListening();
}

QString BrokerServer::socketPath() const
{
    return m_server->fullServerName();
}

void BrokerServer::evictStalled()
{
    // The longest-stalled client (an unfinished line, or replies it does not read) makes room: a
    // well-behaved client is never evicted, and a flood of half-open lines cannot lock others out.
    JsonRpcConnection *victim = nullptr;
    const auto connections = findChildren<JsonRpcConnection *>(Qt::FindDirectChildrenOnly);
    for (JsonRpcConnection *c : connections)
        if (c->state() == JsonRpcConnection::State::Open && c->isStalled() &&
            (!victim || c->stalledSince() < victim->stalledSince()))
            victim = c;
    if (!victim)
        return;
    qCWarning(lcBroker) << "connection limit reached: dropping stalled connection of pid"
                        << victim->peer().pid;
    victim->abort(); // closed() → --m_connections, synchronously
}

void BrokerServer::refuseWith(QLocalSocket *socket, int code, const QString &message)
{
    QByteArray line = toBytes(
        Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", toStd(message)}}}});
    line.append('\n');
    socket->write(line);
    connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
    socket->disconnectFromServer(); // flushes the line first
    if (socket->state() == QLocalSocket::UnconnectedState)
        socket->deleteLater();
}

void BrokerServer::onNewConnection()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        PeerInfo peer = m_identity.identify(socket);
        // design.md: check the peer's user id on every connection; refuse others. Nothing is
        // written to a refused peer: it learns nothing about the agent.
        if (!peer.known || peer.uid != m_identity.currentUid()) {
            qCWarning(lcBroker) << "refused connection from pid" << peer.pid << "uid" << peer.uid
                                << (peer.known ? "(another user)" : "(peer credentials unavailable)");
            socket->abort();
            socket->deleteLater();
            continue;
        }
        if (!peer.refusal.isEmpty()) {
            // Same user, but not who it claims to be any more: say why, then close.
            qCWarning(lcBroker).noquote() << "refused connection:" << peer.refusal;
            refuseWith(socket, RpcError::ApprovalDenied, peer.refusal);
            continue;
        }
        // A slot held by a client that stopped midway goes to this one (security.md §6).
        if (m_connections >= m_maxConnections)
            evictStalled();
        if (m_connections >= m_maxConnections) {
            qCWarning(lcBroker) << "refused connection from pid" << peer.pid << ": already" << m_connections
                                << "connections";
            // Same user, so say why before closing; the client may retry later.
            refuseWith(socket, RpcError::Busy, QStringLiteral("too many connections"));
            continue;
        }
        LocalStream *stream = m_streams(socket);
        if (!stream) {
            qCWarning(lcBroker) << "dropped connection from pid" << peer.pid << ": no stream for it";
            continue;
        }
        auto *connection =
            new JsonRpcConnection(stream, std::move(peer), m_maxLineBytes, this, &m_lineBudget);
        ++m_connections;
        connect(connection, &JsonRpcConnection::closed, this, [this, connection] {
            --m_connections;
            connection->deleteLater();
        });
        qCDebug(lcBroker) << "accepted" << connection->peer().displayName() << "pid"
                          << connection->peer().pid;
        Q_EMIT connectionAccepted(connection);
    }
}

} // namespace mcpauth

#include "moc_BrokerServer.cpp"
