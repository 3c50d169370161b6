#include "LinuxPeerIdentity.h"
#include "PlatformPeerIdentity.h"

#include "common/Log.h"

#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

namespace mcpauth {

namespace {

struct ProcStat
{
    QString name;
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
    if (rest.size() < 2)
        return std::nullopt;
    bool ok = false;
    ProcStat stat;
    stat.name = QString::fromUtf8(line.mid(open + 1, close - open - 1));
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

} // namespace

QStringList LinuxPeerIdentity::processChain(qint64 pid)
{
    QStringList chain;
    for (int depth = 0; depth < maxChainDepth && pid > 1; ++depth) {
        const auto stat = readStat(pid);
        if (!stat)
            break; // exited meanwhile
        QString exe = executable(pid);
        if (exe.isEmpty())
            exe = stat->name; // exe link unreadable (another user's process): the name is still public
        chain << exe;
        pid = stat->ppid;
    }
    return chain;
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
    if (info.uid == currentUid() && info.pid > 0)
        info.processChain = processChain(info.pid);
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
