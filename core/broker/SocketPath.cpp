#include "broker/SocketPath.h"

#include <QDir>
#include <QFileInfo>

namespace mcpauth {

namespace {

constexpr QFile::Permissions kOwnerDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
constexpr QFile::Permissions kOthers = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                       QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;
const QString kSubdir = QStringLiteral("mcp-auth-agent");
const QString kSocketName = QStringLiteral("agent.sock");

Error unsafe(const QString &dir, const QString &why)
{
    return Error::security(QStringLiteral("socket_dir_unsafe"),
                           QStringLiteral("refusing socket directory %1: %2").arg(dir, why));
}

/// A directory that is ours alone: not a symlink, owned by `uid`, no group or other access.
bool isPrivateDir(const QString &path, qint64 uid)
{
    const QFileInfo info(path);
    return !path.isEmpty() && QDir::isAbsolutePath(path) && info.isDir() && !info.isSymLink() &&
           qint64(info.ownerId()) == uid && !(info.permissions() & kOthers);
}

} // namespace

Result<QString> SocketPath::defaultPath(qint64 uid)
{
    const QString fromEnv = qEnvironmentVariable("MCP_AUTH_SOCK");
    if (!fromEnv.isEmpty())
        return fromEnv;
    // XDG Base Directory: $XDG_RUNTIME_DIR is per user, 0700, and cleared at logout. Without it
    // (SSH without logind, cron, containers) logind's own directory may still be there. A value
    // that is not ours is ignored, as Qt does: a shared folder is never a default.
    const QStringList runtimes = {qEnvironmentVariable("XDG_RUNTIME_DIR"),
                                  QStringLiteral("/run/user/%1").arg(uid)};
    for (const QString &runtime : runtimes)
        if (isPrivateDir(runtime, uid))
            return QString(runtime + QLatin1Char('/') + kSubdir + QLatin1Char('/') + kSocketName);
    // Like gpg-agent without a runtime directory: a private folder in the home directory.
    const QString home = qEnvironmentVariable("HOME");
    const QFileInfo homeInfo(home);
    if (!home.isEmpty() && QDir::isAbsolutePath(home) && homeInfo.isDir() &&
        qint64(homeInfo.ownerId()) == uid)
        return QString(QDir::cleanPath(home) + QStringLiteral("/.") + kSubdir + QLatin1Char('/') +
                       kSocketName);
    return Error::config(QStringLiteral("no_private_dir"),
                         QStringLiteral("no private place for the agent's socket: XDG_RUNTIME_DIR is unset "
                                        "or not yours, and so is HOME; set MCP_AUTH_SOCK to a path in a "
                                        "directory only you can access"));
}

Status SocketPath::prepareDirectory(const QString &socketPath, qint64 ownerUid)
{
    const QString dir = QFileInfo(socketPath).absolutePath();
    const QFileInfo info(dir);
    if (!info.exists() && !info.isSymLink()) {
        if (!QDir().mkpath(QFileInfo(dir).absolutePath()) || !QDir().mkdir(dir, kOwnerDir))
            return Error::config(QStringLiteral("socket_dir_unwritable"),
                                 QStringLiteral("cannot create socket directory %1").arg(dir));
    }
    return checkDirectory(socketPath, ownerUid);
}

Status SocketPath::checkDirectory(const QString &socketPath, qint64 ownerUid)
{
    const QString dir = QFileInfo(socketPath).absolutePath();
    const QFileInfo info(dir);
    // A symlink could point anywhere (another user's directory); the checks below would follow it.
    if (info.isSymLink())
        return unsafe(dir, QStringLiteral("it is a symbolic link"));
    if (!info.exists())
        return Error::config(QStringLiteral("socket_dir_missing"),
                             QStringLiteral("socket directory %1 does not exist").arg(dir));
    if (!info.isDir())
        return unsafe(dir, QStringLiteral("it is not a directory"));
    // The directory is what keeps other users away from the socket (a socket file's own mode is
    // not honoured everywhere). The uid comes from the platform layer: core has no OS calls.
    if (qint64(info.ownerId()) != ownerUid)
        return unsafe(dir, QStringLiteral("it is owned by another user (uid %1)").arg(info.ownerId()));
    if (info.permissions() & kOthers)
        return unsafe(dir, QStringLiteral("it is accessible to group or others (needs mode 0700)"));
    return okStatus();
}

} // namespace mcpauth
