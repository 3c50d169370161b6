#include "LinuxPeerIdentity.h"
#include "PlatformPeerIdentity.h"

#include "common/Log.h"

#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QRegularExpression>

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 // Linux 6.5, not yet in glibc 2.36's headers
#endif

namespace mcpauth {

namespace {

struct ProcStat
{
    QString name;
    char state = '?';
    qint64 ppid = -1;
};

/// /proc/<pid>/stat is "pid (comm) state ppid ...". comm may itself contain spaces and ')', so the
/// fields after it are found from the last ')' (proc(5)).
std::optional<ProcStat> readStat(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray line = file.read(4096);
    const qsizetype open = line.indexOf('(');
    const qsizetype close = line.lastIndexOf(')');
    if (open < 0 || close < open)
        return std::nullopt;
    const QList<QByteArray> rest = line.mid(close + 1).simplified().split(' ');
    if (rest.size() < 2 || rest.at(0).size() != 1)
        return std::nullopt;
    bool ok = false;
    ProcStat stat;
    stat.name = QString::fromUtf8(line.mid(open + 1, close - open - 1));
    stat.state = rest.at(0).at(0);
    stat.ppid = rest.at(1).toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return stat;
}

QString executable(qint64 pid)
{
    QString target = QFile::symLinkTarget(QStringLiteral("/proc/%1/exe").arg(pid));
    // The kernel appends " (deleted)" when the binary was replaced on disk (e.g. by an update).
    const QLatin1String deleted(" (deleted)");
    if (target.endsWith(deleted))
        target.chop(deleted.size());
    return target;
}

/// A pidfd (pidfd_open(2)): names one process for as long as it is held, whatever happens to its pid.
class Pidfd : public ProcessHandle
{
public:
    explicit Pidfd(int fd) : m_fd(fd) {}
    ~Pidfd() override { ::close(m_fd); }
    Pidfd(const Pidfd &) = delete;
    Pidfd &operator=(const Pidfd &) = delete;

    bool alive() const override
    {
        // A pidfd polls readable once its process has exited (zombies included).
        struct pollfd p = {m_fd, POLLIN, 0};
        return ::poll(&p, 1, 0) == 0;
    }
    int exitDescriptor() const override { return m_fd; }

private:
    int m_fd;
};

int pidfdOpen(qint64 pid)
{
#ifdef SYS_pidfd_open
    return int(::syscall(SYS_pidfd_open, pid_t(pid), 0));
#else
    Q_UNUSED(pid);
    errno = ENOSYS;
    return -1;
#endif
}

/// "device:inode:size:mtime" of the binary process `pid` runs, or empty.
QString binaryFingerprint(qint64 pid)
{
    // stat() follows the exe link to the very file the process runs, even if it was replaced since.
    struct stat st = {};
    const QByteArray link = QStringLiteral("/proc/%1/exe").arg(pid).toLatin1();
    if (::stat(link.constData(), &st) != 0 || !S_ISREG(st.st_mode))
        return {};
    return QStringLiteral("%1:%2:%3:%4.%5")
        .arg(quint64(st.st_dev))
        .arg(quint64(st.st_ino))
        .arg(qint64(st.st_size))
        .arg(qint64(st.st_mtim.tv_sec))
        .arg(qint64(st.st_mtim.tv_nsec));
}

} // namespace

std::pair<QString, QString> LinuxPeerIdentity::sandboxIds(const QByteArray &cgroup)
{
    static const QRegularExpression flatpak(QStringLiteral("app-flatpak-([A-Za-z0-9_.-]+)-[0-9]+\\.scope$"));
    static const QRegularExpression snap(QStringLiteral("(?:^|/)snap\\.([a-z0-9][a-z0-9-]*)\\.[^/]+$"));
    for (const QByteArray &raw : cgroup.split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        const qsizetype path = line.indexOf(QLatin1Char('/'));
        if (path < 0)
            continue;
        const QString where = line.mid(path);
        if (const auto m = flatpak.match(where); m.hasMatch())
            return {m.captured(1), QString()};
        if (const auto m = snap.match(where); m.hasMatch())
            return {QString(), m.captured(1)};
    }
    return {};
}

QList<ProcessInfo> LinuxPeerIdentity::processes(qint64 pid)
{
    QList<ProcessInfo> chain;
    for (int depth = 0; depth < maxChainDepth && pid > 1; ++depth) {
        const auto stat = readStat(pid);
        if (!stat)
            break; // exited meanwhile
        ProcessInfo p;
        p.pid = pid;
        p.executable = executable(pid);
        if (p.executable.isEmpty())
            p.executable =
                stat->name; // exe link unreadable (another user's process): the name is still public
        QFile cgroup(QStringLiteral("/proc/%1/cgroup").arg(pid));
        if (cgroup.open(QIODevice::ReadOnly))
            std::tie(p.flatpakId, p.snapName) = sandboxIds(cgroup.read(16 * 1024));
        chain << p;
        pid = stat->ppid;
    }
    return chain;
}

QStringList LinuxPeerIdentity::processChain(qint64 pid)
{
    QStringList chain;
    const QList<ProcessInfo> list = processes(pid);
    for (const ProcessInfo &p : list)
        chain << p.executable;
    return chain;
}

std::shared_ptr<ProcessHandle> LinuxPeerIdentity::openProcess(qint64 pid)
{
    const int fd = pid > 0 ? pidfdOpen(pid) : -1;
    if (fd < 0)
        return nullptr;
    return std::make_shared<Pidfd>(fd);
}

PeerInfo LinuxPeerIdentity::identify(QLocalSocket *socket) const
{
    PeerInfo info;
    const qintptr fd = socket ? socket->socketDescriptor() : -1;
    if (fd < 0)
        return info;
    // SO_PEERCRED (unix(7)): the credentials the peer had when it called connect(), from the kernel.
    struct ucred cred = {};
    socklen_t len = sizeof(cred);
    if (::getsockopt(int(fd), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
        qCWarning(lcPlatform) << "SO_PEERCRED failed on local socket" << fd;
        return info;
    }
    info.known = true;
    info.uid = qint64(cred.uid);
    info.pid = qint64(cred.pid);
    // Only describe processes of our own user: another user's chain is none of our business, and
    // such a peer is refused anyway.
    if (info.uid != currentUid() || info.pid <= 0)
        return info;

    // Hold the connector before reading /proc about its pid: SO_PEERPIDFD is the connecting
    // process itself; pidfd_open right after accept is the fallback on older kernels.
    int pidfd = -1;
    socklen_t pidfdLen = sizeof(pidfd);
    if (::getsockopt(int(fd), SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pidfdLen) != 0 || pidfd < 0) {
        pidfd = pidfdOpen(info.pid);
        if (pidfd < 0 && errno == ESRCH) {
            info.refusal =
                QStringLiteral("the process that connected (pid %1) has already exited").arg(info.pid);
            return info;
        }
    }
    if (pidfd >= 0)
        info.connector = std::make_shared<Pidfd>(pidfd);

    info.processes = processes(info.pid);
    for (const ProcessInfo &p : std::as_const(info.processes))
        info.processChain << p.executable;
    info.app = resolveApp(info.processes);
    if (info.app.isKnown()) {
        info.app.fingerprint = binaryFingerprint(info.app.pid);
        if (!info.app.fingerprint.isEmpty())
            info.app.binaryPath = QStringLiteral("/proc/%1/exe").arg(info.app.pid);
        info.app.process = info.app.pid == info.pid ? info.connector : openProcess(info.app.pid);
    }
    // Only now: what was read belongs to the process that connected if that process still runs.
    if (!info.connectorAlive())
        info.refusal = QStringLiteral("the process that connected (pid %1) exited while it was being "
                                      "identified")
                           .arg(info.pid);
    return info;
}

qint64 LinuxPeerIdentity::currentUid() const
{
    // Effective uid: what the kernel compares file access with, and what SO_PEERCRED reports.
    return qint64(::geteuid());
}

std::unique_ptr<PeerIdentityProvider> createPeerIdentityProvider()
{
    return std::make_unique<LinuxPeerIdentity>();
}

} // namespace mcpauth
