#include "broker/SocketPath.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

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

} // namespace

QString SocketPath::defaultPath()
{
    const QString fromEnv = qEnvironmentVariable("MCP_AUTH_SOCK");
    if (!fromEnv.isEmpty())
        return fromEnv;
    // XDG Base Directory: $XDG_RUNTIME_DIR is per user, 0700, and cleared at logout.
    QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (runtime.isEmpty())
        runtime = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
    if (runtime.isEmpty())
        runtime = QDir::tempPath();
    return runtime + QLatin1Char('/') + kSubdir + QLatin1Char('/') + kSocketName;
}

Status SocketPath::prepareDirectory(const QString &socketPath, qint64 ownerUid)
{
    const QString dir = QFileInfo(socketPath).absolutePath();
    QFileInfo info(dir);
    if (!info.exists() && !info.isSymLink()) {
        if (!QDir().mkpath(QFileInfo(dir).absolutePath()) || !QDir().mkdir(dir, kOwnerDir))
            return Error::config(QStringLiteral("socket_dir_unwritable"),
                                 QStringLiteral("cannot create socket directory %1").arg(dir));
        info.refresh();
    }
    // A symlink could point anywhere (another user's directory); the check below would follow it.
    if (info.isSymLink())
        return unsafe(dir, QStringLiteral("it is a symbolic link"));
    if (!info.isDir())
        return unsafe(dir, QStringLiteral("it is not a directory"));
    // The directory is what keeps other users away from the socket (a socket file's own mode is
    // not honoured everywhere). The uid comes from the platform layer: core has no OS calls.
    if (ownerUid >= 0 && qint64(info.ownerId()) != ownerUid)
        return unsafe(dir, QStringLiteral("it is owned by another user (uid %1)").arg(info.ownerId()));
    if (info.permissions() & kOthers)
        return unsafe(dir, QStringLiteral("it is accessible to group or others (needs mode 0700)"));
    return okStatus();
}

} // namespace mcpauth
