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

    // Issue 8.2: the app a user approves is the first process that is not a wrapper.
    void resolveApp_data()
    {
        QTest::addColumn<QStringList>("chain");
        QTest::addColumn<QString>("app");
        QTest::addColumn<QString>("display");
        const auto row = [](const char *name, std::initializer_list<const char *> exes, const char *app,
                            const char *display) {
            QStringList chain;
            for (const char *exe : exes)
                chain << QString::fromUtf8(exe);
            QTest::newRow(name) << chain << QString::fromUtf8(app) << QString::fromUtf8(display);
        };
        row("proxy, shell, app",
            {"/usr/bin/mcp-auth", "/usr/bin/dash", "/opt/Cursor/cursor", "/usr/lib/systemd/systemd"},
            "/opt/Cursor/cursor", "cursor via mcp-auth");
        row("npx launched by an app",
            {"/usr/bin/mcp-auth", "/usr/bin/node", "/usr/bin/npm", "/usr/bin/claude"}, "/usr/bin/claude",
            "claude via mcp-auth");
        row("env and timeout", {"/usr/bin/mcp-auth", "/usr/bin/timeout", "/usr/bin/env", "/usr/bin/code"},
            "/usr/bin/code", "code via mcp-auth");
        row("python launched by nobody else",
            {"/usr/bin/mcp-auth", "/usr/bin/python3.11", "/usr/lib/systemd/systemd"}, "/usr/bin/python3.11",
            "python3.11 via mcp-auth");
        row("uvx under a terminal",
            {"/usr/bin/mcp-auth", "/usr/bin/uvx", "/usr/bin/bash", "/usr/libexec/gnome-terminal-server"},
            "/usr/libexec/gnome-terminal-server", "gnome-terminal-server via mcp-auth");
        row("the app itself", {"/usr/bin/claude", "/usr/bin/bash"}, "/usr/bin/claude", "claude");
        row("wrappers only", {"/usr/bin/mcp-auth", "/usr/bin/bash", "/usr/lib/systemd/systemd"},
            "/usr/bin/bash", "bash via mcp-auth");
        row("alone", {"/usr/bin/mcp-auth"}, "/usr/bin/mcp-auth", "mcp-auth");
    }
    void resolveApp()
    {
        QFETCH(QStringList, chain);
        QFETCH(QString, app);
        QFETCH(QString, display);
        QList<ProcessInfo> processes;
        qint64 pid = 100;
        for (const QString &exe : chain)
            processes.append(ProcessInfo{pid++, exe, {}, {}});
        const AppIdentity resolved = mcpauth::resolveApp(processes);
        QCOMPARE(resolved.executable, app);
        QCOMPARE(resolved.displayName(), display);
        QCOMPARE(resolved.key(), app);
        QCOMPARE(resolved.pid, 100 + chain.indexOf(app));
    }

    void sandboxedAppsAreNamedByTheirId()
    {
        QList<ProcessInfo> chain = {
            {10, QStringLiteral("/usr/bin/mcp-auth"), {}, {}},
            {11, QStringLiteral("/usr/bin/sh"), QStringLiteral("com.visualstudio.code"), {}},
            {12, QStringLiteral("/app/code/code"), QStringLiteral("com.visualstudio.code"), {}}};
        AppIdentity app = mcpauth::resolveApp(chain);
        QCOMPARE(app.pid, qint64(11)); // the sandbox is the app, even where it runs a shell
        QCOMPARE(app.key(), QStringLiteral("flatpak:com.visualstudio.code"));
        QCOMPARE(app.displayName(), QStringLiteral("com.visualstudio.code via mcp-auth"));
        chain[1].flatpakId.clear();
        chain[2].flatpakId.clear();
        chain[2].snapName = QStringLiteral("code");
        app = mcpauth::resolveApp(chain);
        QCOMPARE(app.key(), QStringLiteral("snap:code"));
        QCOMPARE(app.displayName(), QStringLiteral("code via mcp-auth"));
        QVERIFY(!mcpauth::resolveApp({}).isKnown());
    }
};

QTEST_GUILESS_MAIN(TestPeerInfo)
#include "TestPeerInfo.moc"
