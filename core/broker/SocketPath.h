#pragma once

#include "common/Result.h"

#include <QString>

namespace mcpauth {

/// Where the agent's local socket lives and how its directory is made safe (design.md "Local socket
/// protocol"). The directory is the access control on Unix: it must be ours and closed to everyone
/// else, because a socket file's own mode is not honoured everywhere.
class SocketPath
{
public:
    /// `$MCP_AUTH_SOCK` if set (like SSH_AUTH_SOCK), else `$XDG_RUNTIME_DIR/mcp-auth-agent/agent.sock`,
    /// else the same under the platform's runtime location.
    static QString defaultPath();
    /// Create the socket's parent directory with mode 0700 if it is missing. Refuses with
    /// Error::security("socket_dir_unsafe") when it exists but is a symlink, not a directory, not
    /// owned by `ownerUid` (the current user, from the platform's PeerIdentityProvider; -1 skips
    /// the owner check), or accessible to group or others.
    static Status prepareDirectory(const QString &socketPath, qint64 ownerUid);
};

} // namespace mcpauth
