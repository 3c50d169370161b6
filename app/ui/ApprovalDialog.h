#pragma once

#include "approvals/ApprovalGate.h"
#include "common/Json.h"

#include <QDialog>
#include <QTimer>

#include <functional>

class QLabel;
class QPushButton;
class QToolButton;
class QWidget;

namespace mcpauth {

/// Asks the user whether an app may use a server's sign-in (issue 9.3), for one pending request
/// of ApprovalGate::pending(): the app's name, icon (where the desktop knows it) and executable,
/// the server, the scopes, and the process chain under Details.
///
///   open ──(1 s: Allow buttons off)──> armed ──button──> decided(id, decision)
///     │                                  │
///     ├── Esc, close, Deny ──────────────┴──> decided(id, Deny)
///     └── countdown reaches 0 ──> timedOut(id): the gate denies it (reason "timeout")
///
/// Deny has the focus and is the default button, so Enter (or a click that was meant for
/// something else) never approves; the Allow buttons wake up only after `armDelayMs`. One of
/// decided() and timedOut() fires, once, then the dialog closes.
class ApprovalDialog : public QDialog
{
    Q_OBJECT
public:
    struct Options
    {
        int armDelayMs = 1000;
        /// Unix seconds now; the countdown runs to the request's `expiresAt`.
        std::function<qint64()> now;
    };
    ApprovalDialog(const Json &pending, Options options, QWidget *parent = nullptr);

    QString requestId() const { return m_id; }
    /// Whether the Allow buttons accept clicks yet.
    bool armed() const { return m_armed; }

Q_SIGNALS:
    /// Fires once: the user's decision, or Deny for Esc and closing the window.
    void decided(const QString &id, mcpauth::ApprovalGate::Decision decision);
    /// Fires once instead when the request's time ran out: the gate denies it itself, so the
    /// reason stays "timeout" rather than a decision of the user's.
    void timedOut(const QString &id);

public:
    /// Closes without a decision: the request was decided elsewhere or is gone.
    void withdraw();
    /// Esc and the window's close button: Deny.
    void reject() override;

protected:
    void showEvent(QShowEvent *event) override;

private:
    void decide(ApprovalGate::Decision decision);
    void tick();
    QPushButton *addButton(const QString &text, const QString &accessible, ApprovalGate::Decision decision);

    QString m_id;
    qint64 m_expiresAt = 0;
    Options m_options;
    bool m_armed = false;
    bool m_done = false;
    QLabel *m_countdown = nullptr;
    QWidget *m_details = nullptr;
    QToolButton *m_detailsToggle = nullptr;
    QPushButton *m_deny = nullptr;
    QList<QPushButton *> m_allow;
    QTimer m_arm;
    QTimer m_tick;
};

} // namespace mcpauth
