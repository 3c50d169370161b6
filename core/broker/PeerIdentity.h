#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <memory>

class QLocalSocket;

namespace mcpauth {

/// One process of a peer's chain, as the platform describes it.
struct ProcessInfo
{
    qint64 pid = -1;
    QString executable; ///< the binary's real path; the process name when that cannot be read
    QString flatpakId;  ///< the Flatpak application id when the process runs in a Flatpak sandbox
    QString snapName;   ///< the snap's name when snapd confines the process
};

/// The process that opened a connection, held so that it cannot be mistaken for another: on Linux
/// a pidfd, which keeps naming that process after it exits even when its pid is reused.
class ProcessHandle
{
public:
    virtual ~ProcessHandle() = default;
    /// True while the process runs (a zombie has exited).
    virtual bool alive() const = 0;
    /// A descriptor that becomes readable when the process exits (pidfd), or -1.
    virtual int exitDescriptor() const { return -1; }
};

/// The app a user approves: the first process up the peer's chain that is not a wrapper, so that
/// "Cursor via mcp-auth" is asked about, not "node" or "sh" (resolveApp() has the rules).
struct AppIdentity
{
    qint64 pid = -1;
    QString executable;
    QString flatpakId;
    QString snapName;
    QString via; ///< the connecting program when it is a wrapper ("mcp-auth"); empty otherwise
    /// Where the binary the process runs can be read while it runs (Linux: /proc/<pid>/exe, which
    /// stays the file it started from even after an update replaced it on disk), and that file's
    /// identity "device:inode:size:mtime", the key of the hash cache. Empty when unreadable.
    QString binaryPath;
    QString fingerprint;
    /// The app's process, for "allow while it runs". Null when the platform cannot hold one.
    std::shared_ptr<ProcessHandle> process;

    bool isKnown() const { return !executable.isEmpty(); }
    /// The Flatpak id, the snap name, or the executable's file name.
    QString name() const;
    /// "cursor via mcp-auth", "com.example.App", "claude".
    QString displayName() const;
    /// What a remembered decision is keyed on: "flatpak:<id>", "snap:<name>" or the executable's
    /// path (whose SHA-256 the grant also checks).
    QString key() const;
};

/// Who is on the other end of a local socket connection, as the kernel reports it.
struct PeerInfo
{
    bool known = false; ///< false when the platform could not tell (the connection is then refused)
    qint64 uid = -1;
    qint64 pid = -1;
    /// Executable paths from the peer up its parent chain ("mcp-auth" ← "cursor" ← ...), best effort.
    QStringList processChain;
    /// The same chain with what else the platform knows of each process; may be empty when only
    /// processChain was filled.
    QList<ProcessInfo> processes;
    /// The app behind the wrappers (resolveApp() of the chain).
    AppIdentity app;
    /// The process that connected; null when the platform cannot hold one.
    std::shared_ptr<ProcessHandle> connector;
    /// Set when the peer must not be believed, and why (e.g. the process that connected is gone).
    QString refusal;

    /// "cursor via mcp-auth" style label for approvals and audit.
    QString displayName() const;
    /// False once the process that opened the connection has exited: the socket was handed on
    /// (or the pid reused) and whoever holds it now is not who was identified.
    bool connectorAlive() const { return !connector || connector->alive(); }
};

/// Which process of `chain` (the peer first) is the app:
///   - wrappers are skipped always: our own `mcp-auth`, shells, `env`, `timeout`, `nohup`,
///     `setsid`, `stdbuf`, `nice`, `flock`, `xargs`, `sudo`, …;
///   - language runtimes and launchers (`node`, `npx`, `npm`, `uv`, `uvx`, `python3.x`, `bun`,
///     `deno`, …) are skipped when another app launched them, and are the app otherwise;
///   - a process in a Flatpak or snap sandbox is the app (its id names it), wrapper or not;
///   - the chain ends at the service manager or a session (`systemd`, `init`, `sshd`, `login`, `cron`).
/// `via` is the connecting process's program when it was skipped.
AppIdentity resolveApp(const QList<ProcessInfo> &chain);

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
