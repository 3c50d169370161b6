#pragma once

#include "common/Result.h"

#include <QString>

namespace mcpauth {

/// Where the agent's local socket lives and how its directory is made safe (design.md "Local socket
/// protocol"). The directory is the access control on Unix: it must be ours and closed to everyone
/// else, because a socket file's own mode is not honoured everywhere. Both ends check it: the agent
/// before it listens, every client before it connects (security.md §1).
class SocketPath
{
public:
    /// `$MCP_AUTH_SOCK` if set (like SSH_AUTH_SOCK); else `<runtime>/mcp-auth-agent/agent.sock` in
    /// the first private runtime directory: `$XDG_RUNTIME_DIR`, then `/run/user/<uid>`, each taken
    /// only when it is a directory owned by `uid` and closed to group and others; else
    /// `$HOME/.mcp-auth-agent/agent.sock` when the home directory is ours. Never a shared temp
    /// folder, where another user could be waiting with a socket of their own.
    /// Error::config("no_private_dir") when there is no such place.
    static Result<QString> defaultPath(qint64 uid);
    /// Create the socket's parent directory with mode 0700 if it is missing, then checkDirectory().
    static Status prepareDirectory(const QString &socketPath, qint64 ownerUid);
    /// Refuses with Error::security("socket_dir_unsafe") when the socket's parent directory is a
    /// symlink, not a directory, not owned by `ownerUid` (the current user, from the platform's
    /// PeerIdentityProvider), or accessible to group or others; Error::config("socket_dir_missing")
    /// when it does not exist. Creates nothing.
    static Status checkDirectory(const QString &socketPath, qint64 ownerUid);
};

} // namespace mcpauth
