#pragma once

#include "common/Json.h"
#include "status/ServerState.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QTimeZone>

namespace mcpauth {

/// What the tray menu shows, computed from core's state alone (the servers as AuthEngine lists
/// them, the approvals waiting), so it can be tested without a tray and rebuilt on every change;
/// TrayMenu only puts it into widgets. No auth logic here: the states come from core.
struct TrayMenuModel
{
    /// One server's row: "● mcp.example.com — expires 14:05", "⚠ mcp.example.com — sign-in required".
    struct ServerRow
    {
        QString resource;
        QString text;
        ServerState state = ServerState::SignedOut;
        bool canSignIn = false;  ///< not signed in, or signed in but lost / failing
        bool canSignOut = false; ///< tokens held (or being refreshed)
        bool canRefresh = false; ///< tokens held and nothing in flight
    };
    /// One app waiting for a decision: "Cursor wants mcp.example.com".
    struct ApprovalRow
    {
        QString id;
        QString text;
    };

    AgentState overall = AgentState::NoServers;
    QString iconPath; ///< the resource of the overall state's icon (:/icons/state-….svg)
    QString toolTip;
    QList<ApprovalRow> approvals; ///< oldest first; shown at the top
    QList<ServerRow> servers;     ///< in resource order

    /// `pending` is ApprovalGate::pending(); times are shown in `zone`.
    static TrayMenuModel build(const QList<ServerStatus> &servers, const Json &pending, const QDateTime &now,
                               const QTimeZone &zone);
    /// "mcp.example.com", or with the port and path where they tell servers apart.
    static QString serverLabel(const QString &resource);
    static QString iconFor(AgentState state);
};

} // namespace mcpauth
