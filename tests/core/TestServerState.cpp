#include "status/ServerState.h"

#include <QTest>

using namespace mcpauth;

namespace {

ServerStatus with(ServerState state)
{
    ServerStatus s;
    s.resource = QStringLiteral("https://mcp.example.com/mcp");
    s.state = state;
    return s;
}

} // namespace

Q_DECLARE_METATYPE(mcpauth::AgentState)

class TestServerState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // approval waiting > sign-in needed > error > refreshing > all signed in > no servers.
    void overallStatePrecedence_data()
    {
        QTest::addColumn<QList<ServerState>>("servers");
        QTest::addColumn<int>("pending");
        QTest::addColumn<AgentState>("expected");
        using S = ServerState;
        using A = AgentState;
        QTest::newRow("nothing") << QList<S>{} << 0 << A::NoServers;
        QTest::newRow("only signed out") << QList<S>{S::SignedOut, S::SignedOut} << 0 << A::NoServers;
        QTest::newRow("signed in") << QList<S>{S::SignedIn} << 0 << A::SignedIn;
        QTest::newRow("expired revives on use") << QList<S>{S::Expired, S::SignedIn} << 0 << A::SignedIn;
        QTest::newRow("signed out beside signed in")
            << QList<S>{S::SignedOut, S::SignedIn} << 0 << A::SignedIn;
        QTest::newRow("refreshing") << QList<S>{S::SignedIn, S::Refreshing} << 0 << A::Refreshing;
        QTest::newRow("signing in") << QList<S>{S::SigningIn} << 0 << A::Refreshing;
        QTest::newRow("signing out") << QList<S>{S::SigningOut, S::SignedIn} << 0 << A::Refreshing;
        QTest::newRow("error over refreshing")
            << QList<S>{S::Refreshing, S::Error, S::SignedIn} << 0 << A::Error;
        QTest::newRow("sign-in over error")
            << QList<S>{S::Error, S::SignInRequired, S::Refreshing} << 0 << A::SignInNeeded;
        QTest::newRow("approval over everything")
            << QList<S>{S::SignInRequired, S::Error, S::Refreshing, S::SignedIn} << 1 << A::ApprovalWaiting;
        QTest::newRow("approval with no servers") << QList<S>{} << 2 << A::ApprovalWaiting;
    }
    void overallStatePrecedence()
    {
        QFETCH(QList<ServerState>, servers);
        QFETCH(int, pending);
        QFETCH(AgentState, expected);
        QList<ServerStatus> list;
        for (ServerState s : servers)
            list << with(s);
        QCOMPARE(agentStateName(overallState(list, pending)), agentStateName(expected));
        // The order of the servers does not matter.
        std::reverse(list.begin(), list.end());
        QCOMPARE(agentStateName(overallState(list, pending)), agentStateName(expected));
    }

    void wireNamesRoundTrip()
    {
        const QList<ServerState> all{ServerState::SignedOut,  ServerState::SigningIn,
                                     ServerState::SignedIn,   ServerState::Expired,
                                     ServerState::Refreshing, ServerState::SignInRequired,
                                     ServerState::Error,      ServerState::SigningOut};
        QStringList names;
        for (ServerState s : all) {
            const QString name = serverStateName(s);
            QVERIFY2(!names.contains(name), qPrintable(name));
            names << name;
            QCOMPARE(serverStateFromName(name), std::optional<ServerState>(s));
        }
        // Names hosts already rely on (socket-protocol.md).
        QCOMPARE(serverStateName(ServerState::SignedIn), QStringLiteral("signed_in"));
        QCOMPARE(serverStateName(ServerState::Expired), QStringLiteral("expired"));
        QCOMPARE(serverStateName(ServerState::SignedOut), QStringLiteral("signed_out"));
        QCOMPARE(serverStateName(ServerState::SignInRequired), QStringLiteral("sign_in_required"));
        QVERIFY(!serverStateFromName(QStringLiteral("Signed_In")));
    }
};

QTEST_GUILESS_MAIN(TestServerState)
#include "TestServerState.moc"
