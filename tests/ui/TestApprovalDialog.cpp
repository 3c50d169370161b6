#include "ApprovalDialog.h"

#include <QApplication>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>

using namespace mcpauth;
using Decision = ApprovalGate::Decision;

namespace {

constexpr qint64 kNow = 1'800'000'000;

Json request(const char *app = "Cursor")
{
    return Json{{"id", "a-1234"},
                {"app", app},
                {"executable", "/opt/cursor/cursor"},
                {"server", "https://mcp.example.com/mcp"},
                {"scopes", "mcp:tools offline_access"},
                {"pid", 4242},
                {"processChain", Json::array({"/usr/bin/mcp-auth", "/usr/bin/node", "/opt/cursor/cursor"})},
                {"requestedAt", kNow},
                {"expiresAt", kNow + 60}};
}

/// A shown dialog and what it decided.
struct Shown
{
    qint64 now = kNow;
    std::unique_ptr<ApprovalDialog> dialog;
    QList<Decision> decisions;
    QStringList ids;

    explicit Shown(const Json &pending = request(), int armDelayMs = 1000)
    {
        dialog = std::make_unique<ApprovalDialog>(
            pending, ApprovalDialog::Options{armDelayMs, [this] { return now; }});
        QObject::connect(dialog.get(), &ApprovalDialog::decided, dialog.get(),
                         [this](const QString &id, Decision d) {
                             ids << id;
                             decisions << d;
                         });
        dialog->show();
        QVERIFY(QTest::qWaitForWindowExposed(dialog.get()));
    }
    QPushButton *button(const char *accessibleName) const
    {
        const QList<QPushButton *> all = dialog->findChildren<QPushButton *>();
        for (QPushButton *b : all)
            if (b->accessibleName() == QLatin1String(accessibleName))
                return b;
        return nullptr;
    }
};

} // namespace

class TestApprovalDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eachButtonDecidesOnceArmed_data()
    {
        QTest::addColumn<QString>("button");
        QTest::addColumn<int>("decision");
        QTest::newRow("allow once") << QStringLiteral("Allow once") << int(Decision::Once);
        QTest::newRow("while it runs")
            << QStringLiteral("Allow while it runs") << int(Decision::WhileRunning);
        QTest::newRow("always") << QStringLiteral("Always allow") << int(Decision::Always);
        QTest::newRow("deny") << QStringLiteral("Deny") << int(Decision::Deny);
    }
    void eachButtonDecidesOnceArmed()
    {
        QFETCH(QString, button);
        QFETCH(int, decision);
        Shown s(request(), 50);
        QTRY_VERIFY(s.dialog->armed());
        QPushButton *b = s.button(button.toLatin1().constData());
        QVERIFY(b);
        QTest::mouseClick(b, Qt::LeftButton);
        QCOMPARE(s.decisions, QList<Decision>{Decision(decision)});
        QCOMPARE(s.ids, QStringList{QStringLiteral("a-1234")});
        QVERIFY(!s.dialog->isVisible());
        QTest::mouseClick(b, Qt::LeftButton); // nothing more once decided
        s.dialog->reject();
        QCOMPARE(s.decisions.size(), 1);
    }

    // A click or key meant for something else, in the first second, approves nothing.
    void allowWaitsOneSecond()
    {
        Shown s;
        QVERIFY(!s.dialog->armed());
        for (const char *name : {"Allow once", "Allow while it runs", "Always allow"}) {
            QPushButton *b = s.button(name);
            QVERIFY(b);
            QVERIFY2(!b->isEnabled(), name);
            QTest::mouseClick(b, Qt::LeftButton);
        }
        QTest::keyClick(s.dialog.get(), Qt::Key_A, Qt::AltModifier); // the mnemonic of Always allow
        QVERIFY(s.decisions.isEmpty());
        QTest::qWait(700);
        QVERIFY(!s.dialog->armed());
        QTRY_VERIFY_WITH_TIMEOUT(s.dialog->armed(), 1000);
        QVERIFY(s.button("Always allow")->isEnabled());
        QTest::mouseClick(s.button("Always allow"), Qt::LeftButton);
        QCOMPARE(s.decisions, QList<Decision>{Decision::Always});
    }

    void enterOnOpenDenies()
    {
        Shown s;
        QCOMPARE(QApplication::focusWidget(), s.button("Deny"));
        QVERIFY(s.button("Deny")->isDefault());
        QTest::keyClick(s.dialog.get(), Qt::Key_Return);
        QCOMPARE(s.decisions, QList<Decision>{Decision::Deny});
    }

    void enterLaterStillDenies()
    {
        Shown s(request(), 50);
        QTRY_VERIFY(s.dialog->armed());
        QTest::keyClick(s.dialog.get(), Qt::Key_Enter);
        QCOMPARE(s.decisions, QList<Decision>{Decision::Deny});
    }

    void escapeDenies()
    {
        Shown s;
        QTest::keyClick(s.dialog.get(), Qt::Key_Escape);
        QCOMPARE(s.decisions, QList<Decision>{Decision::Deny});
    }

    void theTimeoutIsCountedDownAndLeftToTheGate()
    {
        Shown s(request(), 50);
        const auto countdown = [&] {
            for (QLabel *l : s.dialog->findChildren<QLabel *>())
                if (l->accessibleName() == QLatin1String("Time left to decide"))
                    return l->text();
            return QString();
        };
        QCOMPARE(countdown(), QStringLiteral("Denied automatically in 60 s"));
        s.now = kNow + 58;
        QTRY_COMPARE(countdown(), QStringLiteral("Denied automatically in 2 s"));
        QVERIFY(s.decisions.isEmpty());
        QSignalSpy timedOut(s.dialog.get(), &ApprovalDialog::timedOut);
        s.now = kNow + 60;
        QTRY_COMPARE(timedOut.size(), 1);
        QCOMPARE(timedOut.first().first().toString(), QStringLiteral("a-1234"));
        QVERIFY(s.decisions.isEmpty()); // the gate denies it, with reason "timeout", not the user
        QVERIFY(!s.dialog->isVisible());
        s.dialog->reject();
        QVERIFY(s.decisions.isEmpty());
    }

    // What another process chose to call itself is shown as text, never as markup.
    void namesAreShownAsPlainText()
    {
        Shown s(request("<b>Trusted</b> <a href='x'>System</a>"));
        bool found = false;
        for (QLabel *l : s.dialog->findChildren<QLabel *>()) {
            QCOMPARE(l->textFormat(), Qt::PlainText);
            found = found || l->text().contains(QLatin1String("<b>Trusted</b>"));
        }
        QVERIFY(found);
    }

    // The dialog renders with its details open; MCPAUTH_SCREENSHOT_DIR keeps a picture of it.
    void rendersWithDetails()
    {
        Shown s(request(), 50);
        QTRY_VERIFY(s.dialog->armed());
        for (QToolButton *t : s.dialog->findChildren<QToolButton *>())
            t->setChecked(true);
        QTest::qWait(50);
        const QPixmap shot = s.dialog->grab();
        QVERIFY(shot.width() > 300 && shot.height() > 150);
        if (const QString dir = qEnvironmentVariable("MCPAUTH_SCREENSHOT_DIR"); !dir.isEmpty())
            QVERIFY(shot.save(dir + QStringLiteral("/approval-dialog-offscreen.png")));
    }

    void everyControlHasAnAccessibleName()
    {
        Shown s;
        for (QPushButton *b : s.dialog->findChildren<QPushButton *>())
            QVERIFY2(!b->accessibleName().isEmpty(), qPrintable(b->text()));
        QVERIFY(!s.dialog->accessibleName().isEmpty());
    }
};

QTEST_MAIN(TestApprovalDialog)
#include "TestApprovalDialog.moc"
