#pragma once

#include "broker/PeerIdentity.h"

namespace mcpauth {

/// PeerIdentityProvider for Linux: the kernel's SO_PEERCRED credentials of a Unix socket peer (uid
/// and pid at connect time, which the peer cannot forge), plus its process chain read from /proc
/// (`exe` link, parent pid from `stat`), up to maxChainDepth processes, stopping before pid 1.
/// The chain is best effort: a process can exit or exec between connect and lookup.
class LinuxPeerIdentity : public PeerIdentityProvider
{
public:
    static constexpr int maxChainDepth = 8;

    PeerInfo identify(QLocalSocket *socket) const override;
    qint64 currentUid() const override;

    /// Executable paths from `pid` up its parents (the peer first). Falls back to the process name
    /// from /proc/<pid>/stat when the exe link cannot be read (another user's process).
    static QStringList processChain(qint64 pid);
};

} // namespace mcpauth
