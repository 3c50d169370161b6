#include "TrayMenu.h"

#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;

namespace {

const QTimeZone kUtc = QTimeZone::utc();
const QDateTime kNow = QDateTime(QDate(2026, 12, 2), QTime(12, 0), kUtc);

ServerStatus server(const char *url, ServerState state)
{
    ServerStatus s;
    s.resource = QString::fromLatin1(url);
    s.state = state;
    s.expiresAt = QDateTime(QDate(2026, 12, 2), QTime(14, 5), kUtc).toSecsSinceEpoch();
    return s;
}

TrayMenuModel model(const QList<ServerStatus> &servers, const Json &pending = Json::array())
{
    return TrayMenuModel::build(servers, pending, kNow, kUtc);
}

QStringList visibleTexts(QMenu *menu)
{
    QStringList out;
    const QList<QAction *> all = menu->actions();
    for (QAction *a : all)
        if (a->isVisible())
            out << (a->isSeparator() ? QStringLiteral("---") : a->text());
    return out;
}

QAction *find(QMenu *menu, const QString &text)
{
    const QList<QAction *> all = menu->actions();
    for (QAction *a : all)
        if (a->text() == text)
            return a;
    return nullptr;
}

} // namespace

class TestTrayMenu : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsAndFixedItems()
    {
        TrayMenu tray;
        QCOMPARE(visibleTexts(tray.menu()),
                 (QStringList{QStringLiteral("No servers yet"), QStringLiteral("---"),
                              QStringLiteral("About MCP Auth Agent"), QStringLiteral("Quit")}));
        const Json pending =
            Json::array({Json{{"id", "a-1"}, {"app", "Cursor"}, {"server", "https://b.test/mcp"}}});
        tray.update(model({server("https://a.test/mcp", ServerState::SignedIn),
                           server("https://b.test/mcp", ServerState::SignInRequired)},
                          pending));
        QCOMPARE(visibleTexts(tray.menu()).mid(0, 5),
                 (QStringList{QStringLiteral("Cursor wants b.test…"), QStringLiteral("---"),
                              QStringLiteral("● a.test — expires 14:05"),
                              QStringLiteral("⚠ b.test — sign-in required"), QStringLiteral("---")}));
    }

    void theSubmenuFollowsTheState()
    {
        TrayMenu tray;
        tray.update(model({server("https://a.test/mcp", ServerState::SignedIn)}));
        QMenu *sub = tray.serverAction(QStringLiteral("https://a.test/mcp"))->menu();
        QVERIFY(sub);
        QVERIFY(!find(sub, QStringLiteral("Sign in"))->isEnabled());
        QVERIFY(find(sub, QStringLiteral("Sign out"))->isEnabled());
        QVERIFY(find(sub, QStringLiteral("Refresh now"))->isEnabled());
        tray.update(model({server("https://a.test/mcp", ServerState::SignInRequired)}));
        QCOMPARE(tray.serverAction(QStringLiteral("https://a.test/mcp"))->menu(), sub); // updated in place
        QVERIFY(find(sub, QStringLiteral("Sign in"))->isEnabled());
        QVERIFY(!find(sub, QStringLiteral("Refresh now"))->isEnabled());
    }

    void actionsCarryTheirServer()
    {
        TrayMenu tray;
        tray.update(model({server("https://a.test/mcp", ServerState::SignedIn),
                           server("https://b.test/mcp", ServerState::SignedOut)}));
        QSignalSpy signIn(&tray, &TrayMenu::signInRequested);
        QSignalSpy signOut(&tray, &TrayMenu::signOutRequested);
        QSignalSpy refresh(&tray, &TrayMenu::refreshRequested);
        find(tray.serverAction(QStringLiteral("https://b.test/mcp"))->menu(), QStringLiteral("Sign in"))
            ->trigger();
        find(tray.serverAction(QStringLiteral("https://a.test/mcp"))->menu(), QStringLiteral("Sign out"))
            ->trigger();
        find(tray.serverAction(QStringLiteral("https://a.test/mcp"))->menu(), QStringLiteral("Refresh now"))
            ->trigger();
        QCOMPARE(signIn.size(), 1);
        QCOMPARE(signIn.first().first().toString(), QStringLiteral("https://b.test/mcp"));
        QCOMPARE(signOut.first().first().toString(), QStringLiteral("https://a.test/mcp"));
        QCOMPARE(refresh.first().first().toString(), QStringLiteral("https://a.test/mcp"));
    }

    void approvalsAreAddedAndDroppedInPlace()
    {
        TrayMenu tray;
        QSignalSpy asked(&tray, &TrayMenu::approvalRequested);
        const Json two =
            Json::array({Json{{"id", "a-1"}, {"app", "Cursor"}, {"server", "https://a.test/mcp"}},
                         Json{{"id", "a-2"}, {"app", "Zed"}, {"server", "https://a.test/mcp"}}});
        tray.update(model({}, two));
        find(tray.menu(), QStringLiteral("Zed wants a.test…"))->trigger();
        QCOMPARE(asked.first().first().toString(), QStringLiteral("a-2"));
        tray.update(model({}, Json::array({two[1]})));
        QVERIFY(!find(tray.menu(), QStringLiteral("Cursor wants a.test…")));
        find(tray.menu(), QStringLiteral("Zed wants a.test…"))->trigger();
        QCOMPARE(asked.last().first().toString(), QStringLiteral("a-2"));
        tray.update(model({}));
        QCOMPARE(visibleTexts(tray.menu()).first(), QStringLiteral("No servers yet"));
    }

    void aServerThatLeavesLeavesTheMenu()
    {
        TrayMenu tray;
        tray.update(model({server("https://a.test/mcp", ServerState::SignedIn),
                           server("https://b.test/mcp", ServerState::SignedIn)}));
        QAction *b = tray.serverAction(QStringLiteral("https://b.test/mcp"));
        tray.update(model({server("https://b.test/mcp", ServerState::SignedIn)}));
        QVERIFY(!tray.serverAction(QStringLiteral("https://a.test/mcp")));
        QCOMPARE(tray.serverAction(QStringLiteral("https://b.test/mcp")), b);
        QCOMPARE(visibleTexts(tray.menu()).first(), QStringLiteral("● b.test — expires 14:05"));
    }

    void fixedItemsSignal()
    {
        TrayMenu tray;
        QSignalSpy quit(&tray, &TrayMenu::quitRequested);
        QSignalSpy about(&tray, &TrayMenu::aboutRequested);
        find(tray.menu(), QStringLiteral("Quit"))->trigger();
        find(tray.menu(), QStringLiteral("About MCP Auth Agent"))->trigger();
        QCOMPARE(quit.size(), 1);
        QCOMPARE(about.size(), 1);
    }
};

QTEST_MAIN(TestTrayMenu)
#include "TestTrayMenu.moc"
