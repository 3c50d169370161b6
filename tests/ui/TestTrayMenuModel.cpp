#include "TrayMenuModel.h"

#include <QIcon>
#include <QImage>
#include <QPixmap>
#include <QTest>

using namespace mcpauth;

namespace {

const QTimeZone kUtc = QTimeZone::utc();
const QDateTime kNow = QDateTime(QDate(2026, 12, 2), QTime(12, 0), kUtc);

ServerStatus server(const char *url, ServerState state, qint64 expiresAt = 0, const char *error = "")
{
    ServerStatus s;
    s.resource = QString::fromLatin1(url);
    s.issuer = QStringLiteral("https://login.example.com");
    s.state = state;
    s.expiresAt = expiresAt;
    s.lastError = QString::fromUtf8(error);
    return s;
}

} // namespace

class TestTrayMenuModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsForEachState_data()
    {
        QTest::addColumn<int>("state");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("canSignIn");
        QTest::addColumn<bool>("canSignOut");
        QTest::addColumn<bool>("canRefresh");
        using S = ServerState;
        QTest::newRow("signed in") << int(S::SignedIn) << QStringLiteral("● mcp.example.com — expires 14:05")
                                   << false << true << true;
        QTest::newRow("expired") << int(S::Expired)
                                 << QStringLiteral("● mcp.example.com — renews on next use") << false << true
                                 << true;
        QTest::newRow("refreshing") << int(S::Refreshing) << QStringLiteral("↻ mcp.example.com — refreshing…")
                                    << false << true << false;
        QTest::newRow("signing in") << int(S::SigningIn) << QStringLiteral("↻ mcp.example.com — signing in…")
                                    << false << false << false;
        QTest::newRow("sign-in required")
            << int(S::SignInRequired) << QStringLiteral("⚠ mcp.example.com — sign-in required") << true
            << true << false;
        QTest::newRow("error") << int(S::Error) << QStringLiteral("⚠ mcp.example.com — server unreachable")
                               << true << true << true;
        QTest::newRow("signed out") << int(S::SignedOut) << QStringLiteral("○ mcp.example.com — signed out")
                                    << true << false << false;
    }
    void rowsForEachState()
    {
        QFETCH(int, state);
        QFETCH(QString, text);
        QFETCH(bool, canSignIn);
        QFETCH(bool, canSignOut);
        QFETCH(bool, canRefresh);
        const qint64 at1405 = QDateTime(QDate(2026, 12, 2), QTime(14, 5), kUtc).toSecsSinceEpoch();
        const TrayMenuModel m = TrayMenuModel::build(
            {server("https://mcp.example.com/mcp", ServerState(state), at1405, "server unreachable")},
            Json::array(), kNow, kUtc);
        QCOMPARE(m.servers.size(), 1);
        QCOMPARE(m.servers.first().text, text);
        QCOMPARE(m.servers.first().canSignIn, canSignIn);
        QCOMPARE(m.servers.first().canSignOut, canSignOut);
        QCOMPARE(m.servers.first().canRefresh, canRefresh);
    }

    void anExpiryOnAnotherDayShowsTheDate()
    {
        const qint64 tomorrow = QDateTime(QDate(2026, 12, 3), QTime(9, 30), kUtc).toSecsSinceEpoch();
        const TrayMenuModel m =
            TrayMenuModel::build({server("https://mcp.example.com/mcp", ServerState::SignedIn, tomorrow)},
                                 Json::array(), kNow, kUtc);
        QCOMPARE(m.servers.first().text, QStringLiteral("● mcp.example.com — expires 3 Dec 09:30"));
    }

    void approvalsComeFirstAndSetTheIcon()
    {
        const Json pending =
            Json::array({Json{{"id", "a-1"}, {"app", "Cursor"}, {"server", "https://mcp.example.com/mcp"}},
                         Json{{"id", "a-2"}, {"app", ""}, {"server", "https://other.test/api"}}});
        const TrayMenuModel m = TrayMenuModel::build(
            {server("https://mcp.example.com/mcp", ServerState::SignInRequired)}, pending, kNow, kUtc);
        QCOMPARE(m.approvals.size(), 2);
        QCOMPARE(m.approvals[0].id, QStringLiteral("a-1"));
        QCOMPARE(m.approvals[0].text, QStringLiteral("Cursor wants mcp.example.com"));
        QCOMPARE(m.approvals[1].text, QStringLiteral("An app wants other.test/api"));
        QCOMPARE(agentStateName(m.overall), agentStateName(AgentState::ApprovalWaiting));
        QCOMPARE(m.iconPath, QStringLiteral(":/icons/state-approval-waiting.svg"));
        QVERIFY(m.toolTip.contains(QLatin1String("2 apps")));
    }

    void theOverallStateChoosesTheIcon()
    {
        TrayMenuModel m = TrayMenuModel::build({}, Json::array(), kNow, kUtc);
        QCOMPARE(m.iconPath, QStringLiteral(":/icons/state-no-servers.svg"));
        m = TrayMenuModel::build(
            {server("https://a.test/mcp", ServerState::SignedIn, kNow.toSecsSinceEpoch() + 60),
             server("https://b.test/mcp", ServerState::SignInRequired)},
            Json::array(), kNow, kUtc);
        QCOMPARE(m.iconPath, QStringLiteral(":/icons/state-sign-in-needed.svg"));
        QCOMPARE(m.servers.size(), 2);
    }

    void labelsTellServersApart_data()
    {
        QTest::addColumn<QString>("resource");
        QTest::addColumn<QString>("label");
        QTest::newRow("plain") << QStringLiteral("https://mcp.example.com/mcp")
                               << QStringLiteral("mcp.example.com");
        QTest::newRow("root") << QStringLiteral("https://mcp.example.com")
                              << QStringLiteral("mcp.example.com");
        QTest::newRow("path") << QStringLiteral("https://api.example.com/v1/mcp")
                              << QStringLiteral("api.example.com/v1/mcp");
        QTest::newRow("port") << QStringLiteral("http://127.0.0.1:8123/mcp")
                              << QStringLiteral("127.0.0.1:8123");
        QTest::newRow("default port") << QStringLiteral("https://x.test:443/mcp") << QStringLiteral("x.test");
    }
    void labelsTellServersApart()
    {
        QFETCH(QString, resource);
        QFETCH(QString, label);
        QCOMPARE(TrayMenuModel::serverLabel(resource), label);
    }

    // Every state's icon is in the resources and renders (the SVG icon engine is there).
    void everyIconRenders()
    {
        for (AgentState s : {AgentState::NoServers, AgentState::SignedIn, AgentState::Refreshing,
                             AgentState::Error, AgentState::SignInNeeded, AgentState::ApprovalWaiting}) {
            const QIcon icon(TrayMenuModel::iconFor(s));
            QVERIFY2(!icon.isNull(), qPrintable(TrayMenuModel::iconFor(s)));
            const QImage image = icon.pixmap(22, 22).toImage();
            QCOMPARE(image.size(), QSize(22, 22));
            QVERIFY2(image.pixelColor(11, 11).alpha() > 0, "the shield covers the middle");
            QCOMPARE(image.pixelColor(0, 0).alpha(), 0); // transparent corner
        }
    }
};

QTEST_MAIN(TestTrayMenuModel)
#include "TestTrayMenuModel.moc"
