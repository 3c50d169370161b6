#pragma once

#include "broker/PeerIdentity.h"
#include "common/Json.h"
#include "common/LineFramer.h"
#include "common/Result.h"

#include <QHash>
#include <QLocalSocket>
#include <QObject>

#include <functional>

namespace mcpauth {

/// Client side of the agent's local socket: JSON-RPC 2.0, one object per line. Used by the
/// `mcp-auth` CLI and the stdio proxy. Like gpg-agent, connectOrStart() launches a headless agent
/// when none answers and waits for it to come up.
///
/// It checks what the agent checks before a single byte is sent (security.md §1): the socket's
/// directory is ours and mode 0700 (SocketPath::checkDirectory), and the process listening on it
/// runs as our user (the kernel's peer credentials). Anything else is an impostor: the connection
/// is dropped and the caller gets Error::security, code "socket_dir_unsafe" or "agent_impostor".
class AgentClient : public QObject
{
    Q_OBJECT
public:
    using ResultCallback = std::function<void(Result<Json>)>;

    /// `identity` reads the listening peer's uid and gives ours; it must outlive the client.
    AgentClient(QString socketPath, const PeerIdentityProvider &identity, QObject *parent = nullptr);
    ~AgentClient() override;

    /// Connects; if nothing answers, starts `agentProgram --headless --socket PATH` detached and
    /// retries until it answers or `timeoutMs` passes. `done` runs exactly once.
    void connectOrStart(const QString &agentProgram, int timeoutMs, std::function<void(Status)> done);
    /// Connects without starting anything.
    void connectOnly(int timeoutMs, std::function<void(Status)> done);

    /// Sends a request; `done` runs exactly once with the result, the agent's error (as an Error
    /// with the agent's code and category), or a transport error if the connection drops.
    void call(const QString &method, const Json &params, ResultCallback done);

    QString socketPath() const { return m_path; }

Q_SIGNALS:
    /// Fires once if the connection to the agent is lost.
    void disconnected();

private:
    void attempt(const QString &agentProgram, qint64 deadline, bool started,
                 std::function<void(Status)> done);
    void onReadyRead();
    void failAll(const Error &error);

    QString m_path;
    const PeerIdentityProvider &m_identity;
    QLocalSocket m_socket;
    LineFramer m_framer{4 * 1024 * 1024}; ///< replies can carry a server list; 4 MiB is plenty
    bool m_peerVerified = false;          ///< the connected peer runs as our user (checked before any write)
    qint64 m_nextId = 1;
    QHash<qint64, ResultCallback> m_pending;
};

/// Maps an agent JSON-RPC error object back to an Error (category and code from `data`).
Error errorFromRpc(const Json &error);

} // namespace mcpauth
