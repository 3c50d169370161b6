#include "TrayController.h"

#include "ApprovalDialog.h"
#include "engine/AuthEngine.h"

#include <algorithm>

#include <QCoreApplication>
#include <QDebug>
#include <QIcon>
#include <QMessageBox>
#include <QTimeZone>
#include <QUrl>

namespace mcpauth {

TrayController::TrayController(AuthEngine &engine, ApprovalGate &gate, QObject *parent)
    : QObject(parent), m_engine(engine), m_gate(gate)
{
    m_self.pid = QCoreApplication::applicationPid();
    m_self.executable = QCoreApplication::applicationFilePath();
    m_icon.setContextMenu(m_menu.menu());
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(0);
    connect(&m_coalesce, &QTimer::timeout, this, &TrayController::update);
    connect(&m_engine, &AuthEngine::serverChanged, this, &TrayController::scheduleUpdate);
    connect(&m_engine, &AuthEngine::serverRemoved, this, &TrayController::scheduleUpdate);
    connect(&m_gate, &ApprovalGate::pendingChanged, this, &TrayController::scheduleUpdate);
    connect(&m_menu, &TrayMenu::signInRequested, this, &TrayController::signIn);
    connect(&m_menu, &TrayMenu::signOutRequested, this, &TrayController::signOut);
    connect(&m_menu, &TrayMenu::refreshRequested, this, &TrayController::refresh);
    connect(&m_menu, &TrayMenu::aboutRequested, this, &TrayController::about);
    connect(&m_menu, &TrayMenu::quitRequested, this, &TrayController::quitRequested);
    connect(&m_menu, &TrayMenu::approvalRequested, this, [this](const QString &id) {
        if (m_dialog && m_dialog->requestId() == id) {
            m_dialog->raise();
            m_dialog->activateWindow();
            return;
        }
        m_asked.removeAll(id); // asked again from the menu: raise it (after the one showing)
        showNextApproval();
    });
    connect(&m_icon, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason why) {
        if (why == QSystemTrayIcon::Trigger && m_dialog) {
            m_dialog->raise();
            m_dialog->activateWindow();
        }
    });
}

TrayController::~TrayController()
{
    delete m_dialog;
}

void TrayController::start()
{
    update();
    m_icon.show();
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        qInfo("mcp-auth-agent: no system tray on this desktop; approvals still open their dialog");
}

void TrayController::scheduleUpdate()
{
    if (!m_coalesce.isActive())
        m_coalesce.start();
}

void TrayController::update()
{
    m_model = TrayMenuModel::build(m_engine.servers(), m_gate.pending(), QDateTime::currentDateTimeUtc(),
                                   QTimeZone::systemTimeZone());
    m_menu.update(m_model);
    m_icon.setIcon(QIcon(m_model.iconPath));
    m_icon.setToolTip(m_model.toolTip);
    // A request decided elsewhere (mcp-auth approve, the timeout, its app left): its dialog goes.
    QStringList waiting;
    for (const TrayMenuModel::ApprovalRow &a : std::as_const(m_model.approvals))
        waiting << a.id;
    if (m_dialog && !waiting.contains(m_dialog->requestId()))
        m_dialog->withdraw();
    m_asked.erase(std::remove_if(m_asked.begin(), m_asked.end(),
                                 [&](const QString &id) { return !waiting.contains(id); }),
                  m_asked.end());
    showNextApproval();
}

void TrayController::showNextApproval()
{
    if (m_dialog)
        return; // one at a time; the next follows when this one closes
    const Json pending = m_gate.pending();
    for (const Json &p : pending) {
        const QString id = jsonString(p, "id");
        if (m_asked.contains(id))
            continue;
        m_asked << id;
        auto *dialog = new ApprovalDialog(p, ApprovalDialog::Options{});
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        m_dialog = dialog;
        connect(dialog, &ApprovalDialog::decided, this,
                [this](const QString &decidedId, ApprovalGate::Decision d) {
                    const Status st = m_gate.decide(decidedId, d, m_self);
                    if (!st)
                        tell(QStringLiteral("Approval"), st.error().message, QSystemTrayIcon::Warning);
                });
        connect(dialog, &QObject::destroyed, this,
                [this] { QTimer::singleShot(0, this, &TrayController::showNextApproval); });
        dialog->show();
        return;
    }
}

void TrayController::tell(const QString &title, const QString &message, QSystemTrayIcon::MessageIcon icon)
{
    if (m_icon.isVisible() && QSystemTrayIcon::supportsMessages())
        m_icon.showMessage(title, message, icon);
}

void TrayController::signIn(const QString &resource)
{
    m_engine.login(QUrl(resource), QString(), this, [this, resource](Result<TokenSet> r) {
        if (!r)
            tell(QStringLiteral("Sign-in to %1 failed").arg(TrayMenuModel::serverLabel(resource)),
                 r.error().message, QSystemTrayIcon::Warning);
    });
}

void TrayController::signOut(const QString &resource)
{
    m_engine.logout(QUrl(resource), this, [this, resource](Result<bool> r) {
        if (!r)
            tell(QStringLiteral("Sign-out of %1").arg(TrayMenuModel::serverLabel(resource)),
                 r.error().message, QSystemTrayIcon::Warning);
    });
}

void TrayController::refresh(const QString &resource)
{
    m_engine.refreshNow(QUrl(resource), this, [this, resource](Result<TokenSet> r) {
        if (!r)
            tell(QStringLiteral("Refresh of %1 failed").arg(TrayMenuModel::serverLabel(resource)),
                 r.error().message, QSystemTrayIcon::Warning);
    });
}

void TrayController::about()
{
    QMessageBox::about(
        nullptr, QStringLiteral("About MCP Auth Agent"),
        QStringLiteral("<b>MCP Auth Agent %1</b><p>Signs you in to OAuth-protected MCP servers once, "
                       "keeps the tokens in your keychain, and hands them only to the apps you "
                       "allow.</p>")
            .arg(QStringLiteral(MCPAUTH_VERSION)));
}

} // namespace mcpauth
