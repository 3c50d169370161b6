#include "broker/AgentClient.h"

#include "broker/SocketPath.h"
#include "common/Log.h"

#include <QDateTime>
#include <QFileInfo>
#include <QProcess>
#include <QTimer>

namespace mcpauth {

namespace {

Error::Category categoryFromName(const QString &name)
{
    static const QList<Error::Category> all = {
        Error::Category::Network,  Error::Category::Protocol,  Error::Category::Security,
        Error::Category::Config,   Error::Category::Cancelled, Error::Category::LoginRequired,
        Error::Category::Keychain, Error::Category::Internal,
    };
    for (Error::Category c : all)
        if (categoryName(c) == name)
            return c;
    return Error::Category::Internal;
}
} // namespace

Error errorFromRpc(const Json &error)
{
    const Json data = error.is_object() ? error.value("data", Json::object()) : Json::object();
    Error e;
    e.category = categoryFromName(jsonString(data, "category"));
    e.code = jsonString(data, "code");
    if (e.code.isEmpty())
        e.code = QStringLiteral("rpc_%1").arg(jsonInt(error, "code").value_or(0));
    e.message = jsonString(error, "message");
    if (e.message.isEmpty())
        e.message = QStringLiteral("the agent reported an error");
    return e;
}

AgentClient::AgentClient(QString socketPath, const PeerIdentityProvider &identity, QObject *parent)
    : QObject(parent), m_path(std::move(socketPath)), m_identity(identity)
{
    connect(&m_socket, &QLocalSocket::readyRead, this, &AgentClient::onReadyRead);
    connect(&m_socket, &QLocalSocket::disconnected, this, [this] {
        failAll(Error::network(QStringLiteral("agent_disconnected"),
                               QStringLiteral("the agent closed the connection")));
        Q_EMIT disconnected();
    });
}

AgentClient::~AgentClient()
{
    // The socket's own destructor emits disconnected(); by then our other members are gone.
    m_socket.disconnect(this);
    m_socket.abort();
}

void AgentClient::connectOnly(int timeoutMs, std::function<void(Status)> done)
{
    attempt(QString(), QDateTime::currentMSecsSinceEpoch() + timeoutMs, true, std::move(done));
}

void AgentClient::connectOrStart(const QString &agentProgram, int timeoutMs, std::function<void(Status)> done)
{
    attempt(agentProgram, QDateTime::currentMSecsSinceEpoch() + timeoutMs, false, std::move(done));
}

void AgentClient::attempt(const QString &agentProgram, qint64 deadline, bool started,
                          std::function<void(Status)> done)
{
    m_socket.abort();
    m_peerVerified = false;
    // The agent's directory must be ours alone before we connect to anything in it: a socket in a
    // folder someone else controls may be theirs. A missing directory only means no agent yet.
    const Status dirOk = SocketPath::checkDirectory(m_path, m_identity.currentUid());
    if (!dirOk && dirOk.error().category == Error::Category::Security) {
        QTimer::singleShot(0, this, [done, e = dirOk.error()] { done(e); });
        return;
    }
    // Connection attempts are async; a one-shot pair of connections decides the outcome.
    auto settled = std::make_shared<bool>(false);
    auto *ctx = new QObject(this);
    connect(&m_socket, &QLocalSocket::connected, ctx, [this, ctx, settled, done] {
        if (std::exchange(*settled, true))
            return;
        ctx->deleteLater();
        // Who listens is the kernel's word, not the path's: refuse before a byte is written.
        const PeerInfo peer = m_identity.identify(&m_socket);
        if (!peer.known || peer.uid != m_identity.currentUid()) {
            m_socket.abort();
            // No log line here: the caller reports the error (the CLI's stderr stays one line).
            done(Error::security(
                QStringLiteral("agent_impostor"),
                peer.known ? QStringLiteral("refusing the agent socket %1: it is served by another user "
                                            "(uid %2), not by your agent; nothing was sent")
                                 .arg(m_path)
                                 .arg(peer.uid)
                           : QStringLiteral("refusing the agent socket %1: the peer's identity cannot be "
                                            "checked; nothing was sent")
                                 .arg(m_path)));
            return;
        }
        m_peerVerified = true;
        done(okStatus());
    });
    connect(&m_socket, &QLocalSocket::errorOccurred, ctx,
            [this, ctx, settled, agentProgram, deadline, started, done](QLocalSocket::LocalSocketError) {
                if (std::exchange(*settled, true))
                    return;
                ctx->deleteLater();
                const QString why = m_socket.errorString();
                bool nowStarted = started;
                if (!started && !agentProgram.isEmpty()) {
                    // Like gpg-agent: nobody answers, so start a headless agent, detached, same environment.
                    // The agent checks the directory's owner again when it starts; here it only has to exist.
                    const Status dir = SocketPath::prepareDirectory(m_path, m_identity.currentUid());
                    if (!dir) {
                        done(dir.error());
                        return;
                    }
                    QProcess process;
                    process.setProgram(agentProgram);
                    process.setArguments({QStringLiteral("--headless"), QStringLiteral("--socket"), m_path});
                    process.setStandardInputFile(QProcess::nullDevice());
                    process.setStandardOutputFile(QProcess::nullDevice());
                    // The detached agent outlives this terminal: its log (never secrets) goes beside the
                    // socket.
                    process.setStandardErrorFile(
                        QFileInfo(m_path).absolutePath() + QStringLiteral("/agent.log"), QIODevice::Append);
                    qint64 pid = 0;
                    if (!process.startDetached(&pid)) {
                        done(Error::config(QStringLiteral("agent_unavailable"),
                                           QStringLiteral("could not start %1").arg(agentProgram)));
                        return;
                    }
                    qCDebug(lcBroker) << "started agent" << pid;
                    nowStarted = true;
                }
                if (QDateTime::currentMSecsSinceEpoch() >= deadline) {
                    done(Error::network(QStringLiteral("agent_unavailable"),
                                        QStringLiteral("no agent answers on %1 (%2)").arg(m_path, why)));
                    return;
                }
                QTimer::singleShot(nowStarted ? 50 : 0, this,
                                   [this, agentProgram, deadline, nowStarted, done] {
                                       attempt(agentProgram, deadline, nowStarted, done);
                                   });
            });
    m_socket.connectToServer(m_path);
}

void AgentClient::call(const QString &method, const Json &params, ResultCallback done)
{
    if (m_socket.state() != QLocalSocket::ConnectedState || !m_peerVerified) {
        QTimer::singleShot(0, this, [done] {
            done(Error::network(QStringLiteral("agent_unavailable"),
                                QStringLiteral("not connected to the agent")));
        });
        return;
    }
    const qint64 id = m_nextId++;
    Json req = Json::object();
    req["jsonrpc"] = "2.0";
    req["id"] = id;
    req["method"] = toStd(method);
    if (!params.is_null())
        req["params"] = params;
    m_pending.insert(id, std::move(done));
    m_socket.write(toBytes(req) + '\n');
}

void AgentClient::onReadyRead()
{
    m_framer.append(m_socket.readAll());
    if (m_framer.overflowing()) {
        m_socket.abort();
        failAll(Error::protocol(QStringLiteral("agent_protocol"),
                                QStringLiteral("oversized reply from the agent")));
        return;
    }
    while (std::optional<LineFramer::Line> next = m_framer.next()) {
        if (next->kind != LineFramer::Line::Kind::Line)
            continue;
        const QByteArray &line = next->bytes;
        Result<Json> msg = parseJsonObject(line, QStringLiteral("agent reply"), kMaxMcpJsonDepth);
        if (!msg)
            continue;
        const std::optional<qint64> id = jsonInt(msg.value(), "id");
        if (!id)
            continue;
        ResultCallback cb = m_pending.take(*id);
        if (!cb)
            continue;
        if (msg->contains("error"))
            cb(errorFromRpc((*msg)["error"]));
        else
            cb(msg->value("result", Json()));
    }
}

void AgentClient::failAll(const Error &error)
{
    const auto pending = std::exchange(m_pending, {});
    for (const ResultCallback &cb : pending)
        cb(error);
}

} // namespace mcpauth

#include "moc_AgentClient.cpp"
