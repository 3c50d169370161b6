#pragma once

#include "broker/PeerIdentity.h"

#include <QByteArray>

namespace mcpauth {

/// PeerIdentityProvider for Linux: the kernel's SO_PEERCRED credentials of a Unix socket peer (uid
/// and pid at connect time, which the peer cannot forge), plus its process chain read from /proc
/// (`exe` link, parent pid from `stat`, Flatpak/snap app ids from `cgroup`), up to maxChainDepth
/// processes, stopping before pid 1.
///
/// A pid alone can lie: the process that connected may exit and its pid go to another. So the
/// connector is held as a pidfd (SO_PEERPIDFD, kernel 6.5+; else pidfd_open right after accept),
/// the chain is read, and only then is the pidfd asked whether that process still runs. A peer
/// that is gone gets a `refusal`; and PeerInfo::connectorAlive() asks again at every request, so a
/// socket handed on to a child after its opener exited is never attributed to anyone.
class LinuxPeerIdentity : public PeerIdentityProvider
{
public:
    static constexpr int maxChainDepth = 8;

    PeerInfo identify(QLocalSocket *socket) const override;
    qint64 currentUid() const override;

    /// Executable paths from `pid` up its parents (the peer first). Falls back to the process name
    /// from /proc/<pid>/stat when the exe link cannot be read (another user's process).
    static QStringList processChain(qint64 pid);
    /// The same chain with Flatpak and snap ids.
    static QList<ProcessInfo> processes(qint64 pid);
    /// The Flatpak app id or snap name in a /proc/<pid>/cgroup text (systemd's scope names:
    /// `app-flatpak-<id>-<n>.scope`, `snap.<name>.<app>…`); the pair is empty when neither.
    static std::pair<QString, QString> sandboxIds(const QByteArray &cgroup);
    /// A handle on process `pid` (a pidfd), or null where the kernel has none.
    static std::shared_ptr<ProcessHandle> openProcess(qint64 pid);
};

} // namespace mcpauth
