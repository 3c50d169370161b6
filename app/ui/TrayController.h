#pragma once

#include "TrayMenu.h"
#include "approvals/ApprovalGate.h"

#include <QPointer>
#include <QSystemTrayIcon>
#include <QTimer>

namespace mcpauth {

class ApprovalDialog;
class AuthEngine;

/// The agent's desktop face (issue 9): the tray icon and menu over the engine's state and the
/// approvals waiting, and the approval dialogs, one at a time. It decides nothing itself: the
/// states come from AuthEngine::serverChanged / ApprovalGate::pendingChanged, what the user picks
/// goes to the engine (sign in, sign out, refresh) or the gate (a decision, as the user).
class TrayController : public QObject
{
    Q_OBJECT
public:
    TrayController(AuthEngine &engine, ApprovalGate &gate, QObject *parent = nullptr);
    ~TrayController() override;

    /// Shows the icon (where a tray host is) and raises a dialog for any approval already waiting.
    void start();
    TrayMenu &menu() { return m_menu; }
    const TrayMenuModel &model() const { return m_model; }

Q_SIGNALS:
    /// The user chose Quit.
    void quitRequested();

private:
    void scheduleUpdate();
    void update();
    void showNextApproval();
    void tell(const QString &title, const QString &message, QSystemTrayIcon::MessageIcon icon);
    void signIn(const QString &resource);
    void signOut(const QString &resource);
    void refresh(const QString &resource);
    void about();

    AuthEngine &m_engine;
    ApprovalGate &m_gate;
    AppIdentity m_self; ///< the agent, as the one who decides for the user
    TrayMenu m_menu;
    TrayMenuModel m_model;
    QSystemTrayIcon m_icon;
    QTimer m_coalesce; ///< many changes in one turn: one update
    QPointer<ApprovalDialog> m_dialog;
    QStringList m_asked; ///< approvals a dialog was raised for (each is raised once)
};

} // namespace mcpauth
