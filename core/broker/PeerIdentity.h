#pragma once

#include <QList>
#include <QString>

class QLocalSocket;

namespace mcpauth {

/// Who is on the other end of a local socket connection, as the kernel reports it.
struct PeerInfo
{
    bool known = false; ///< false when the platform could not tell (the connection is then refused)
    qint64 uid = -1;
    qint64 pid = -1;
    /// Executable paths from the peer up its parent chain ("mcp-auth" ← "cursor" ← ...), best effort.
    QStringList processChain;

    /// "cursor via mcp-auth" style label for approvals and audit.
    QString displayName() const;
};

/// Platform adapter that reads a local socket's peer credentials (SO_PEERCRED, getpeereid, pipe
/// client process) and resolves the process chain. Implemented in platform/.
class PeerIdentityProvider
{
public:
    virtual ~PeerIdentityProvider() = default;
    virtual PeerInfo identify(QLocalSocket *socket) const = 0;
    /// The uid of this process; peers with another uid are refused.
    virtual qint64 currentUid() const = 0;
};

} // namespace mcpauth
