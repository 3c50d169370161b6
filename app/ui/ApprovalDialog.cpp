#include "ApprovalDialog.h"

#include "TrayMenuModel.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QShowEvent>
#include <QToolButton>
#include <QVBoxLayout>

namespace mcpauth {

namespace {

QLabel *selectable(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setTextFormat(Qt::PlainText); // names and paths come from other processes: never rich text
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    return label;
}

QLabel *plain(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setTextFormat(Qt::PlainText);
    return label;
}

} // namespace

ApprovalDialog::ApprovalDialog(const Json &pending, Options options, QWidget *parent)
    : QDialog(parent), m_id(jsonString(pending, "id")),
      m_expiresAt(jsonInt(pending, "expiresAt").value_or(0)), m_options(std::move(options))
{
    if (!m_options.now)
        m_options.now = [] { return QDateTime::currentSecsSinceEpoch(); };
    const QString app = jsonString(pending, "app");
    const QString server = jsonString(pending, "server");
    setWindowTitle(QStringLiteral("Allow %1?").arg(app));
    setAccessibleName(QStringLiteral("Approval request"));
    setAccessibleDescription(QStringLiteral("%1 asks to use your sign-in to %2").arg(app, server));

    auto *layout = new QVBoxLayout(this);
    auto *headline = selectable(
        QStringLiteral("%1 wants to use your sign-in to %2").arg(app, TrayMenuModel::serverLabel(server)),
        this);
    QFont bold = headline->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.15);
    headline->setFont(bold);
    layout->addWidget(headline);

    auto *form = new QFormLayout;
    form->addRow(plain(QStringLiteral("App:"), this), selectable(jsonString(pending, "executable"), this));
    form->addRow(plain(QStringLiteral("Server:"), this), selectable(server, this));
    const QString scopes = jsonString(pending, "scopes");
    form->addRow(plain(QStringLiteral("Scopes:"), this),
                 selectable(scopes.isEmpty() ? QStringLiteral("(the server's default)") : scopes, this));
    if (const qint64 pid = jsonInt(pending, "pid").value_or(0); pid > 0)
        form->addRow(plain(QStringLiteral("Process:"), this), selectable(QString::number(pid), this));
    layout->addLayout(form);

    m_detailsToggle = new QToolButton(this);
    m_detailsToggle->setText(QStringLiteral("Details"));
    m_detailsToggle->setAccessibleName(QStringLiteral("Show the process chain"));
    m_detailsToggle->setCheckable(true);
    m_detailsToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_detailsToggle->setArrowType(Qt::RightArrow);
    layout->addWidget(m_detailsToggle);
    QStringList chain;
    if (const auto it = pending.find("processChain"); it != pending.end() && it->is_array())
        for (const Json &exe : *it)
            if (exe.is_string())
                chain << fromStd(exe.get<std::string>());
    m_details =
        selectable(QStringLiteral("Started by, innermost first:\n") + chain.join(QLatin1Char('\n')), this);
    m_details->setVisible(false);
    layout->addWidget(m_details);
    connect(m_detailsToggle, &QToolButton::toggled, this, [this](bool on) {
        m_details->setVisible(on);
        m_detailsToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        adjustSize();
    });

    m_countdown = plain(QString(), this);
    m_countdown->setAccessibleName(QStringLiteral("Time left to decide"));
    layout->addWidget(m_countdown);

    auto *buttons = new QHBoxLayout;
    m_deny = addButton(QStringLiteral("&Deny"), QStringLiteral("Deny"), ApprovalGate::Decision::Deny);
    buttons->addWidget(m_deny);
    buttons->addStretch();
    for (QPushButton *b :
         {addButton(QStringLiteral("Allow &once"), QStringLiteral("Allow once"),
                    ApprovalGate::Decision::Once),
          addButton(QStringLiteral("Allow while it &runs"), QStringLiteral("Allow while it runs"),
                    ApprovalGate::Decision::WhileRunning),
          addButton(QStringLiteral("&Always allow"), QStringLiteral("Always allow"),
                    ApprovalGate::Decision::Always)}) {
        b->setEnabled(false); // armed after armDelayMs: a stray click or key cannot approve
        b->setAutoDefault(false);
        m_allow << b;
        buttons->addWidget(b);
    }
    m_deny->setDefault(true);
    m_deny->setAutoDefault(true);
    layout->addLayout(buttons);

    m_arm.setSingleShot(true);
    m_arm.setInterval(m_options.armDelayMs);
    connect(&m_arm, &QTimer::timeout, this, [this] {
        m_armed = true;
        for (QPushButton *b : std::as_const(m_allow))
            b->setEnabled(true);
    });
    m_tick.setInterval(250);
    connect(&m_tick, &QTimer::timeout, this, &ApprovalDialog::tick);
    tick();
}

QPushButton *ApprovalDialog::addButton(const QString &text, const QString &accessible,
                                       ApprovalGate::Decision decision)
{
    auto *b = new QPushButton(text, this);
    b->setAccessibleName(accessible);
    connect(b, &QPushButton::clicked, this, [this, decision] {
        if (decision == ApprovalGate::Decision::Deny || m_armed)
            decide(decision);
    });
    return b;
}

void ApprovalDialog::showEvent(QShowEvent *event)
{
    QDialog::showEvent(event);
    if (!m_arm.isActive() && !m_armed)
        m_arm.start();
    m_tick.start();
    m_deny->setFocus(Qt::OtherFocusReason);
    raise();
    activateWindow();
}

void ApprovalDialog::tick()
{
    const qint64 left = m_expiresAt > 0 ? m_expiresAt - m_options.now() : 0;
    if (m_expiresAt > 0 && left <= 0) {
        if (!m_done) {
            withdraw();
            Q_EMIT timedOut(m_id);
        }
        return;
    }
    m_countdown->setText(m_expiresAt > 0 ? QStringLiteral("Denied automatically in %1 s").arg(left)
                                         : QString());
}

void ApprovalDialog::withdraw()
{
    if (m_done)
        return;
    m_done = true;
    m_tick.stop();
    m_arm.stop();
    QDialog::done(QDialog::Rejected);
}

void ApprovalDialog::reject()
{
    decide(ApprovalGate::Decision::Deny);
}

void ApprovalDialog::decide(ApprovalGate::Decision decision)
{
    if (m_done)
        return;
    m_done = true;
    m_tick.stop();
    m_arm.stop();
    Q_EMIT decided(m_id, decision);
    QDialog::done(decision == ApprovalGate::Decision::Deny ? QDialog::Rejected : QDialog::Accepted);
}

} // namespace mcpauth
