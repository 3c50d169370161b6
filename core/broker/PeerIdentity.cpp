#include "broker/PeerIdentity.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

namespace mcpauth {

namespace {

QString baseName(const QString &path)
{
    return QFileInfo(path).fileName();
}

bool isWrapper(const QString &program)
{
    static const QSet<QString> wrappers = {
        QStringLiteral("mcp-auth"), QStringLiteral("sh"),      QStringLiteral("bash"),
        QStringLiteral("dash"),     QStringLiteral("zsh"),     QStringLiteral("fish"),
        QStringLiteral("ksh"),      QStringLiteral("mksh"),    QStringLiteral("tcsh"),
        QStringLiteral("csh"),      QStringLiteral("busybox"), QStringLiteral("env"),
        QStringLiteral("timeout"),  QStringLiteral("nohup"),   QStringLiteral("setsid"),
        QStringLiteral("stdbuf"),   QStringLiteral("nice"),    QStringLiteral("ionice"),
        QStringLiteral("chrt"),     QStringLiteral("taskset"), QStringLiteral("flock"),
        QStringLiteral("time"),     QStringLiteral("xargs"),   QStringLiteral("script"),
        QStringLiteral("sudo"),     QStringLiteral("doas"),    QStringLiteral("su"),
        QStringLiteral("runuser"),  QStringLiteral("tini"),    QStringLiteral("dumb-init"),
        QStringLiteral("catatonit")};
    return wrappers.contains(program);
}

bool isRuntime(const QString &program)
{
    static const QSet<QString> runtimes = {
        QStringLiteral("node"),   QStringLiteral("nodejs"), QStringLiteral("npx"),  QStringLiteral("npm"),
        QStringLiteral("pnpm"),   QStringLiteral("yarn"),   QStringLiteral("bun"),  QStringLiteral("bunx"),
        QStringLiteral("deno"),   QStringLiteral("uv"),     QStringLiteral("uvx"),  QStringLiteral("pipx"),
        QStringLiteral("ruby"),   QStringLiteral("perl"),   QStringLiteral("java"), QStringLiteral("dotnet"),
        QStringLiteral("docker"), QStringLiteral("podman")};
    static const QRegularExpression python(QStringLiteral("^python[0-9.]*$"));
    return runtimes.contains(program) || python.match(program).hasMatch();
}

// Where a chain stops being about apps: the service manager, a login or remote session, a scheduler.
bool isBoundary(const QString &program)
{
    static const QSet<QString> boundaries = {
        QStringLiteral("systemd"), QStringLiteral("init"),  QStringLiteral("launchd"),
        QStringLiteral("sshd"),    QStringLiteral("login"), QStringLiteral("cron"),
        QStringLiteral("crond"),   QStringLiteral("atd"),   QStringLiteral("services.exe")};
    return boundaries.contains(program);
}

bool sandboxed(const ProcessInfo &p)
{
    return !p.flatpakId.isEmpty() || !p.snapName.isEmpty();
}

} // namespace

QString AppIdentity::name() const
{
    if (!flatpakId.isEmpty())
        return flatpakId;
    if (!snapName.isEmpty())
        return snapName;
    return baseName(executable);
}

QString AppIdentity::displayName() const
{
    if (!isKnown())
        return pid >= 0 ? QStringLiteral("process %1").arg(pid) : QStringLiteral("unknown process");
    return via.isEmpty() ? name() : name() + QStringLiteral(" via ") + via;
}

QString AppIdentity::key() const
{
    if (!flatpakId.isEmpty())
        return QStringLiteral("flatpak:") + flatpakId;
    if (!snapName.isEmpty())
        return QStringLiteral("snap:") + snapName;
    return executable;
}

AppIdentity resolveApp(const QList<ProcessInfo> &chain)
{
    AppIdentity app;
    if (chain.isEmpty())
        return app;
    qsizetype chosen = -1;
    qsizetype firstRuntime = -1;
    qsizetype last = 0;
    for (qsizetype i = 0; i < chain.size(); ++i) {
        const ProcessInfo &p = chain.at(i);
        const QString program = baseName(p.executable);
        if (i > 0 && isBoundary(program) && !sandboxed(p))
            break;
        last = i;
        if (sandboxed(p) || (!isWrapper(program) && !isRuntime(program))) {
            chosen = i;
            break;
        }
        if (isRuntime(program) && firstRuntime < 0)
            firstRuntime = i;
    }
    if (chosen < 0)
        chosen = firstRuntime >= 0 ? firstRuntime : last; // nothing but wrappers up to the boundary
    const ProcessInfo &p = chain.at(chosen);
    app.pid = p.pid;
    app.executable = p.executable;
    app.flatpakId = p.flatpakId;
    app.snapName = p.snapName;
    if (chosen > 0)
        app.via = baseName(chain.first().executable);
    return app;
}

QString PeerInfo::displayName() const
{
    if (app.isKnown())
        return app.displayName();
    QList<ProcessInfo> chain = processes;
    if (chain.isEmpty())
        for (const QString &exe : processChain)
            chain.append(ProcessInfo{-1, exe, {}, {}});
    AppIdentity resolved = resolveApp(chain);
    if (!resolved.isKnown())
        resolved.pid = pid;
    return resolved.displayName();
}

} // namespace mcpauth
