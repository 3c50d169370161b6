#include "TrayMenuModel.h"

#include <QUrl>

namespace mcpauth {

namespace {

QString expiry(qint64 expiresAt, const QDateTime &now, const QTimeZone &zone)
{
    if (expiresAt <= 0)
        return QString();
    const QDateTime at = QDateTime::fromSecsSinceEpoch(expiresAt, zone);
    const QDateTime localNow = now.toTimeZone(zone);
    if (at.date() == localNow.date())
        return QStringLiteral("expires %1").arg(at.toString(QStringLiteral("HH:mm")));
    return QStringLiteral("expires %1").arg(at.toString(QStringLiteral("d MMM HH:mm")));
}

/// The glyph says the state by shape, not colour: ● fine, ↻ busy, ⚠ needs the user, ○ signed out.
QString describe(const ServerStatus &s, const QDateTime &now, const QTimeZone &zone)
{
    const QString label = TrayMenuModel::serverLabel(s.resource);
    switch (s.state) {
    case ServerState::SignedIn: {
        const QString when = expiry(s.expiresAt, now, zone);
        return QStringLiteral("● %1 — %2").arg(label, when.isEmpty() ? QStringLiteral("signed in") : when);
    }
    case ServerState::Expired:
        return QStringLiteral("● %1 — renews on next use").arg(label);
    case ServerState::Refreshing:
        return QStringLiteral("↻ %1 — refreshing…").arg(label);
    case ServerState::SigningIn:
        return QStringLiteral("↻ %1 — signing in…").arg(label);
    case ServerState::SigningOut:
        return QStringLiteral("↻ %1 — signing out…").arg(label);
    case ServerState::SignInRequired:
        return QStringLiteral("⚠ %1 — sign-in required").arg(label);
    case ServerState::Error:
        return QStringLiteral("⚠ %1 — %2")
            .arg(label, s.lastError.isEmpty() ? QStringLiteral("error") : s.lastError.left(80));
    case ServerState::SignedOut:
        break;
    }
    return QStringLiteral("○ %1 — signed out").arg(label);
}

} // namespace

QString TrayMenuModel::serverLabel(const QString &resource)
{
    const QUrl url(resource);
    if (url.host().isEmpty())
        return resource;
    QString label = url.host();
    const int defaultPort = url.scheme() == QLatin1String("http") ? 80 : 443;
    if (url.port(defaultPort) != defaultPort)
        label += QLatin1Char(':') + QString::number(url.port());
    const QString path = url.path();
    if (!path.isEmpty() && path != QLatin1String("/") && path != QLatin1String("/mcp"))
        label += path;
    return label;
}

QString TrayMenuModel::iconFor(AgentState state)
{
    switch (state) {
    case AgentState::NoServers:
        return QStringLiteral(":/icons/state-no-servers.svg");
    case AgentState::SignedIn:
        return QStringLiteral(":/icons/state-signed-in.svg");
    case AgentState::Refreshing:
        return QStringLiteral(":/icons/state-refreshing.svg");
    case AgentState::Error:
        return QStringLiteral(":/icons/state-error.svg");
    case AgentState::SignInNeeded:
        return QStringLiteral(":/icons/state-sign-in-needed.svg");
    case AgentState::ApprovalWaiting:
        return QStringLiteral(":/icons/state-approval-waiting.svg");
    }
    return QStringLiteral(":/icons/state-error.svg");
}

TrayMenuModel TrayMenuModel::build(const QList<ServerStatus> &servers, const Json &pending,
                                   const QDateTime &now, const QTimeZone &zone)
{
    TrayMenuModel m;
    if (pending.is_array())
        for (const Json &p : pending) {
            const QString app = jsonString(p, "app");
            m.approvals.append({jsonString(p, "id"), QStringLiteral("%1 wants %2")
                                                         .arg(app.isEmpty() ? QStringLiteral("An app") : app,
                                                              serverLabel(jsonString(p, "server")))});
        }
    for (const ServerStatus &s : servers) {
        ServerRow row;
        row.resource = s.resource;
        row.state = s.state;
        row.text = describe(s, now, zone);
        const bool busy = s.state == ServerState::SigningIn || s.state == ServerState::SigningOut ||
                          s.state == ServerState::Refreshing;
        const bool held = s.state == ServerState::SignedIn || s.state == ServerState::Expired ||
                          s.state == ServerState::Refreshing ||
                          (s.state == ServerState::Error && s.expiresAt > 0);
        row.canSignIn = !busy && s.state != ServerState::SignedIn && s.state != ServerState::Expired;
        row.canSignOut = held || s.state == ServerState::SignInRequired;
        row.canRefresh = held && !busy;
        m.servers.append(row);
    }
    m.overall = overallState(servers, int(m.approvals.size()));
    m.iconPath = iconFor(m.overall);
    switch (m.overall) {
    case AgentState::ApprovalWaiting:
        m.toolTip = m.approvals.size() == 1
                        ? QStringLiteral("MCP Auth Agent — an app is waiting for your approval")
                        : QStringLiteral("MCP Auth Agent — %1 apps are waiting for your approval")
                              .arg(m.approvals.size());
        break;
    case AgentState::SignInNeeded:
        m.toolTip = QStringLiteral("MCP Auth Agent — a server needs you to sign in");
        break;
    case AgentState::Error:
        m.toolTip = QStringLiteral("MCP Auth Agent — a sign-in or refresh failed");
        break;
    case AgentState::Refreshing:
        m.toolTip = QStringLiteral("MCP Auth Agent — working…");
        break;
    case AgentState::SignedIn:
        m.toolTip = QStringLiteral("MCP Auth Agent — signed in");
        break;
    case AgentState::NoServers:
        m.toolTip = QStringLiteral("MCP Auth Agent — no server signed in");
        break;
    }
    return m;
}

} // namespace mcpauth
