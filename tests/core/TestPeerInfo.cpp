#include "broker/PeerIdentity.h"

#include <QTest>

using namespace mcpauth;

class TestPeerInfo : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void displayName_data()
    {
        QTest::addColumn<QStringList>("chain");
        QTest::addColumn<qint64>("pid");
        QTest::addColumn<QString>("expected");
        QTest::newRow("host via proxy")
            << QStringList{QStringLiteral("/usr/bin/mcp-auth"), QStringLiteral("/opt/Cursor/cursor"),
                           QStringLiteral("/usr/lib/systemd/systemd")}
            << qint64(10) << QStringLiteral("cursor via mcp-auth");
        QTest::newRow("nested proxies skipped")
            << QStringList{QStringLiteral("/usr/bin/mcp-auth"), QStringLiteral("/usr/local/bin/mcp-auth"),
                           QStringLiteral("/usr/bin/code")}
            << qint64(10) << QStringLiteral("code via mcp-auth");
        QTest::newRow("proxy without ancestor")
            << QStringList{QStringLiteral("/usr/bin/mcp-auth")} << qint64(10) << QStringLiteral("mcp-auth");
        QTest::newRow("direct client")
            << QStringList{QStringLiteral("/usr/bin/claude"), QStringLiteral("/bin/bash")} << qint64(10)
            << QStringLiteral("claude");
        QTest::newRow("name only") << QStringList{QStringLiteral("mcp-auth"), QStringLiteral("node")}
                                   << qint64(10) << QStringLiteral("node via mcp-auth");
        QTest::newRow("no chain") << QStringList{} << qint64(77) << QStringLiteral("process 77");
        QTest::newRow("nothing known") << QStringList{} << qint64(-1) << QStringLiteral("unknown process");
    }
    void displayName()
    {
        QFETCH(QStringList, chain);
        QFETCH(qint64, pid);
        QFETCH(QString, expected);
        PeerInfo info;
        info.known = true;
        info.pid = pid;
        info.processChain = chain;
        QCOMPARE(info.displayName(), expected);
    }
};

QTEST_GUILESS_MAIN(TestPeerInfo)
#include "TestPeerInfo.moc"
