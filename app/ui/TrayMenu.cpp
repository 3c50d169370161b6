#include "TrayMenu.h"

#include <QSet>

namespace mcpauth {

TrayMenu::TrayMenu(QObject *parent) : QObject(parent)
{
    m_menu.setAccessibleName(QStringLiteral("MCP Auth Agent"));
    m_approvalsEnd = m_menu.addSeparator();
    m_approvalsEnd->setVisible(false); // until an approval waits
    m_noServers = m_menu.addAction(QStringLiteral("No servers yet"));
    m_noServers->setEnabled(false);
    m_serversEnd = m_menu.addSeparator();
    connect(m_menu.addAction(QStringLiteral("About MCP Auth Agent")), &QAction::triggered, this,
            &TrayMenu::aboutRequested);
    connect(m_menu.addAction(QStringLiteral("Quit")), &QAction::triggered, this, &TrayMenu::quitRequested);
}

TrayMenu::~TrayMenu()
{
    for (const ServerEntry &e : std::as_const(m_servers))
        delete e.submenu;
}

QAction *TrayMenu::serverAction(const QString &resource) const
{
    const auto it = m_servers.find(resource);
    return it == m_servers.end() ? nullptr : it->row;
}

TrayMenu::ServerEntry &TrayMenu::entryFor(const QString &resource)
{
    auto it = m_servers.find(resource);
    if (it != m_servers.end())
        return *it;
    ServerEntry e;
    e.submenu = new QMenu;
    e.signIn = e.submenu->addAction(QStringLiteral("Sign in"));
    e.signOut = e.submenu->addAction(QStringLiteral("Sign out"));
    e.refresh = e.submenu->addAction(QStringLiteral("Refresh now"));
    connect(e.signIn, &QAction::triggered, this, [this, resource] { Q_EMIT signInRequested(resource); });
    connect(e.signOut, &QAction::triggered, this, [this, resource] { Q_EMIT signOutRequested(resource); });
    connect(e.refresh, &QAction::triggered, this, [this, resource] { Q_EMIT refreshRequested(resource); });
    e.row = e.submenu->menuAction();
    return *m_servers.insert(resource, e);
}

void TrayMenu::update(const TrayMenuModel &model)
{
    // Approvals: reuse the actions there are, add or drop the difference.
    while (m_approvalActions.size() > model.approvals.size())
        delete m_approvalActions.takeLast();
    while (m_approvalActions.size() < model.approvals.size()) {
        auto *a = new QAction(&m_menu);
        connect(a, &QAction::triggered, this, [this, a] { Q_EMIT approvalRequested(a->data().toString()); });
        m_menu.insertAction(m_approvalsEnd, a);
        m_approvalActions << a;
    }
    for (qsizetype i = 0; i < model.approvals.size(); ++i) {
        m_approvalActions[i]->setText(model.approvals[i].text + QStringLiteral("…"));
        m_approvalActions[i]->setData(model.approvals[i].id);
    }
    m_approvalsEnd->setVisible(!model.approvals.isEmpty());

    // Servers: drop those gone, keep the order of the model.
    QSet<QString> listed;
    for (const TrayMenuModel::ServerRow &row : model.servers)
        listed.insert(row.resource);
    for (auto it = m_servers.begin(); it != m_servers.end();) {
        if (listed.contains(it.key())) {
            ++it;
            continue;
        }
        m_menu.removeAction(it->row);
        delete it->submenu;
        it = m_servers.erase(it);
    }
    QList<QAction *> wanted;
    for (const TrayMenuModel::ServerRow &row : model.servers) {
        ServerEntry &e = entryFor(row.resource);
        e.row->setText(row.text);
        e.signIn->setEnabled(row.canSignIn);
        e.signOut->setEnabled(row.canSignOut);
        e.refresh->setEnabled(row.canRefresh);
        wanted << e.row;
    }
    QList<QAction *> shown;
    const QList<QAction *> all = m_menu.actions();
    for (QAction *a : all)
        if (a->menu() && wanted.contains(a))
            shown << a;
    if (shown != wanted) // (re)inserting moves an action: only when the order changed
        for (QAction *a : std::as_const(wanted))
            m_menu.insertAction(m_serversEnd, a);
    m_noServers->setVisible(model.servers.isEmpty());
}

} // namespace mcpauth
