#pragma once

#include "TrayMenuModel.h"

#include <QHash>
#include <QMenu>

namespace mcpauth {

/// The tray's context menu (issue 9.2), built once and updated in place from a TrayMenuModel:
///
///   <app> wants <server>        one per waiting approval, at the top
///   ─────
///   ● server — expires 14:05 ▸  Sign in / Sign out / Refresh now
///   ─────
///   About · Quit
///
/// A server's entry (and its QAction) stays the same object while the server is listed, so an
/// open menu does not flicker or lose the user's place. It holds no state of its own beyond the
/// widgets: what it shows comes from the model, what the user picks leaves through its signals.
class TrayMenu : public QObject
{
    Q_OBJECT
public:
    explicit TrayMenu(QObject *parent = nullptr);
    ~TrayMenu() override;

    QMenu *menu() { return &m_menu; }
    void update(const TrayMenuModel &model);
    /// The action of `resource`'s row (for tests and the window), or null.
    QAction *serverAction(const QString &resource) const;

Q_SIGNALS:
    // Each fires when the user picks the item, once per pick.
    void approvalRequested(const QString &id);
    void signInRequested(const QString &resource);
    void signOutRequested(const QString &resource);
    void refreshRequested(const QString &resource);
    void aboutRequested();
    void quitRequested();

private:
    struct ServerEntry
    {
        QMenu *submenu = nullptr;
        QAction *row = nullptr;
        QAction *signIn = nullptr;
        QAction *signOut = nullptr;
        QAction *refresh = nullptr;
    };
    ServerEntry &entryFor(const QString &resource);

    QMenu m_menu;
    QAction *m_approvalsEnd = nullptr; ///< separator after the approvals
    QAction *m_serversEnd = nullptr;   ///< separator after the servers
    QAction *m_noServers = nullptr;
    QList<QAction *> m_approvalActions;
    QHash<QString, ServerEntry> m_servers;
};

} // namespace mcpauth
