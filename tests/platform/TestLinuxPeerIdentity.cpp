#include "LinuxPeerIdentity.h"
#include "PlatformPeerIdentity.h"
#include "broker/BrokerServer.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace mcpauth;

namespace {
constexpr QFile::Permissions kOwnerDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
const QString kPeerClient = QStringLiteral(MCPAUTH_PEER_CLIENT);

/// Answers every request, so a client that is let in provably gets a line back.
void answerEverything(BrokerServer &server)
{
    QObject::connect(&server, &BrokerServer::connectionAccepted, &server, [](JsonRpcConnection *c) {
        QObject::connect(c, &JsonRpcConnection::requestReceived, c,
                         [c](const Json &id, const QString &, const Json &) {
                             c->sendResult(id, Json{{"ok", true}});
                         });
    });
}

/// Run `program args` without blocking the event loop (the server under test lives on it).
QString runClient(const QString &program, const QStringList &args)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, args);
    if (!process.waitForStarted(5000))
        return QStringLiteral("FAILED TO START ") + program;
    (void)QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, 10000);
    if (process.state() != QProcess::NotRunning) {
        process.kill(); // our own child, by handle
        process.waitForFinished(2000);
        return QStringLiteral("TIMEOUT");
    }
    return QString::fromUtf8(process.readAll());
}
} // namespace

class TestLinuxPeerIdentity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void identifiesOwnProcess()
    {
        QTemporaryDir dir;
        QLocalServer server;
        QVERIFY(server.listen(dir.filePath(QStringLiteral("s.sock"))));
        QLocalSocket client;
        client.connectToServer(server.fullServerName());
        QTRY_VERIFY(server.hasPendingConnections());
        QLocalSocket *accepted = server.nextPendingConnection();

        LinuxPeerIdentity identity;
        const PeerInfo info = identity.identify(accepted);
        QVERIFY(info.known);
        QCOMPARE(info.uid, qint64(::geteuid()));
        QCOMPARE(info.uid, identity.currentUid());
        QCOMPARE(info.pid, QCoreApplication::applicationPid());
        QVERIFY(!info.processChain.isEmpty());
        QVERIFY(info.processChain.size() <= LinuxPeerIdentity::maxChainDepth);
        QCOMPARE(QFileInfo(info.processChain.first()).canonicalFilePath(),
                 QFileInfo(QCoreApplication::applicationFilePath()).canonicalFilePath());
        QCOMPARE(info.displayName(), QStringLiteral("TestLinuxPeerIdentity"));
    }

    void chainFollowsParents()
    {
        // The test's own chain: itself, then whoever started it (ctest, a shell, ...), never pid 1.
        const QStringList chain = LinuxPeerIdentity::processChain(QCoreApplication::applicationPid());
        QVERIFY(chain.size() >= 1);
        if (::getppid() > 1) {
            QVERIFY(chain.size() >= 2);
            const QString parentExe = QFile::symLinkTarget(QStringLiteral("/proc/%1/exe").arg(::getppid()));
            QCOMPARE(chain.at(1), parentExe);
        }
        QVERIFY(LinuxPeerIdentity::processChain(1).isEmpty());
        QVERIFY(LinuxPeerIdentity::processChain(0).isEmpty());
        QVERIFY(LinuxPeerIdentity::processChain(999'999'999).isEmpty()); // no such process
    }

    void unknownWithoutSocket()
    {
        LinuxPeerIdentity identity;
        QVERIFY(!identity.identify(nullptr).known);
        QLocalSocket unconnected;
        QVERIFY(!identity.identify(&unconnected).known);
        QVERIFY(createPeerIdentityProvider() != nullptr);
    }

    void identifiesChildProcessThroughBroker()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("run/agent.sock"));
        LinuxPeerIdentity identity;
        BrokerServer server(identity);
        answerEverything(server);
        // Copy the peer when it is accepted: the connection is deleted once the client exits.
        QList<PeerInfo> peers;
        connect(&server, &BrokerServer::connectionAccepted, this,
                [&](JsonRpcConnection *c) { peers << c->peer(); });
        QVERIFY(server.listen(path).ok());

        QProcess client;
        client.start(kPeerClient, {path});
        QVERIFY(client.waitForStarted(5000));
        const qint64 clientPid = client.processId();
        QTRY_COMPARE(peers.size(), 1);
        const PeerInfo peer = peers.first();
        QCOMPARE(peer.pid, clientPid);
        QCOMPARE(peer.uid, identity.currentUid());
        QVERIFY(peer.processChain.size() >= 2);
        QCOMPARE(QFileInfo(peer.processChain.at(0)).fileName(), QStringLiteral("mcpauth-peer-client"));
        QCOMPARE(QFileInfo(peer.processChain.at(1)).canonicalFilePath(),
                 QFileInfo(QCoreApplication::applicationFilePath()).canonicalFilePath());
        QTRY_COMPARE(client.state(), QProcess::NotRunning);
        QVERIFY(client.readAllStandardOutput().contains("LINE {"));
    }

    void sandboxIdsFromCgroup()
    {
        using P = std::pair<QString, QString>;
        QCOMPARE(LinuxPeerIdentity::sandboxIds("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                               "app-flatpak-com.visualstudio.code-81234.scope\n"),
                 P(QStringLiteral("com.visualstudio.code"), QString()));
        QCOMPARE(LinuxPeerIdentity::sandboxIds("12:pids:/user.slice/snap.cursor.cursor-3f1c.scope\n"
                                               "0::/user.slice/snap.cursor.cursor-3f1c.scope\n"),
                 P(QString(), QStringLiteral("cursor")));
        QCOMPARE(LinuxPeerIdentity::sandboxIds("0::/user.slice/user-1000.slice/session-2.scope\n"), P());
        QCOMPARE(LinuxPeerIdentity::sandboxIds("0::/app.slice/app-gnome-org.gnome.Terminal-1234.scope"), P());
        QCOMPARE(LinuxPeerIdentity::sandboxIds(""), P());
    }

    // Issue 8.2: the app is the executable behind the wrappers, read from the kernel, never a name
    // the caller sent: here our client program starts `sh -c "…/mcp-auth SOCKET"`.
    void theAppIsWhatStartedTheWrappers()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("run/agent.sock"));
        LinuxPeerIdentity identity;
        BrokerServer server(identity);
        answerEverything(server);
        QList<PeerInfo> peers;
        connect(&server, &BrokerServer::connectionAccepted, this, [&](JsonRpcConnection *c) {
            peers << c->peer();
            QVERIFY(c->peer().app.process && c->peer().app.process->alive()); // the app runs
        });
        QVERIFY(server.listen(path).ok());
        const QString wrapper = dir.filePath(QStringLiteral("mcp-auth")); // our CLI's name
        QVERIFY(QFile::copy(kPeerClient, wrapper));
        const QString out = runClient(
            kPeerClient, {QStringLiteral("--spawn"), QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                          wrapper + QLatin1Char(' ') + path + QStringLiteral("; true")});
        QVERIFY2(out.contains(QStringLiteral("LINE {")), qPrintable(out));
        QCOMPARE(peers.size(), 1);
        const PeerInfo peer = peers.first();
        QVERIFY(peer.processes.size() >= 3);
        QCOMPARE(QFileInfo(peer.processes[0].executable).fileName(), QStringLiteral("mcp-auth"));
        QCOMPARE(QFileInfo(peer.processes[1].executable).fileName(),
                 QFileInfo(QStringLiteral("/bin/sh")).canonicalFilePath().section(QLatin1Char('/'), -1));
        QCOMPARE(QFileInfo(peer.app.executable).canonicalFilePath(),
                 QFileInfo(kPeerClient).canonicalFilePath());
        QCOMPARE(peer.app.via, QStringLiteral("mcp-auth"));
        QCOMPARE(peer.displayName(), QStringLiteral("mcpauth-peer-client via mcp-auth"));
        QCOMPARE(peer.app.pid, peer.processes[2].pid);
        QCOMPARE(peer.app.binaryPath, QStringLiteral("/proc/%1/exe").arg(peer.app.pid));
        QVERIFY(!peer.app.fingerprint.isEmpty());
        QVERIFY(peer.refusal.isEmpty());
        QTRY_VERIFY(!peer.app.process->alive()); // "while it runs" can end
        QVERIFY(!peer.connectorAlive());
    }

    // Issue 8.2: the pid SO_PEERCRED gives belongs to the process that connected only while that
    // process runs. One that hands its socket to a child and exits is not believed.
    void aConnectorThatExitedIsNeverBelieved()
    {
        QTemporaryDir dir;
        QLocalServer server;
        QVERIFY(server.listen(dir.filePath(QStringLiteral("s.sock"))));
        QProcess opener;
        opener.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        opener.start(kPeerClient, {QStringLiteral("--handoff"), server.fullServerName()});
        QVERIFY(opener.waitForStarted(5000));
        const qint64 openerPid = opener.processId();
        QVERIFY(opener.waitForFinished(5000)); // connected, forked, gone (and reaped by QProcess)
        QCOMPARE(opener.exitCode(), 0);
        QTRY_VERIFY(server.hasPendingConnections());
        QLocalSocket *accepted = server.nextPendingConnection();
        LinuxPeerIdentity identity;
        const PeerInfo info = identity.identify(accepted);
        QVERIFY(info.known);
        QCOMPARE(info.pid, openerPid);
        QVERIFY2(info.refusal.contains(QStringLiteral("exited")), qPrintable(info.refusal));
        QVERIFY(!info.connectorAlive());
        // The child that holds the socket now is not described as anyone.
        QVERIFY(info.processes.isEmpty() || info.processes.first().pid == openerPid);
        QTRY_VERIFY_WITH_TIMEOUT(accepted->bytesAvailable() > 0, 5000); // the child's request did arrive
    }

    void aLiveConnectorIsBelievedUntilItExits()
    {
        QTemporaryDir dir;
        QLocalServer server;
        QVERIFY(server.listen(dir.filePath(QStringLiteral("s.sock"))));
        QProcess client;
        client.start(kPeerClient, {server.fullServerName()});
        QVERIFY(client.waitForStarted(5000));
        QTRY_VERIFY(server.hasPendingConnections());
        LinuxPeerIdentity identity;
        const PeerInfo info = identity.identify(server.nextPendingConnection());
        QVERIFY(info.refusal.isEmpty());
        QVERIFY(info.connector);
        QVERIFY(info.connectorAlive());
        QVERIFY(client.waitForFinished(5000)); // it waits 3 s for an answer that never comes
        QVERIFY(!info.connectorAlive());
    }

    /// The real uid check, end to end: a client running as `nobody` reaches the socket (directory
    /// and socket opened up for this test only, so file permissions are not what stops it) and is
    /// still cut off without a byte, while the same client as the current user is answered.
    void refusesAnotherUserForReal()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        const QString setpriv = QStandardPaths::findExecutable(QStringLiteral("setpriv"));
        if (setpriv.isEmpty())
            QSKIP("setpriv not found");

        QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/mcpauth-peer-XXXXXX"));
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("run/agent.sock"));
        LinuxPeerIdentity identity;
        BrokerServer server(identity);
        answerEverything(server);
        QSignalSpy accepted(&server, &BrokerServer::connectionAccepted);
        QVERIFY(server.listen(path).ok());

        // Open the way for nobody: traverse-only directories, a world-writable socket, and a copy
        // of the client where nobody can execute it.
        const QFile::Permissions traverse = kOwnerDir | QFile::ExeGroup | QFile::ExeOther;
        QVERIFY(QFile::setPermissions(dir.path(), traverse));
        QVERIFY(QFile::setPermissions(dir.filePath(QStringLiteral("run")), traverse));
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup |
                                                QFile::WriteGroup | QFile::ReadOther | QFile::WriteOther));
        const QString clientCopy = dir.filePath(QStringLiteral("mcpauth-peer-client"));
        QVERIFY(QFile::copy(kPeerClient, clientCopy));
        QVERIFY(QFile::setPermissions(clientCopy, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                                      QFile::ReadOther | QFile::ExeOther));

        const QString asNobody =
            runClient(setpriv, {QStringLiteral("--reuid=nobody"), QStringLiteral("--regid=nogroup"),
                                QStringLiteral("--clear-groups"), clientCopy, path});
        QVERIFY2(asNobody.contains(QStringLiteral("CONNECTED")), qPrintable(asNobody)); // reached the socket
        QVERIFY2(asNobody.contains(QStringLiteral("CLOSED")), qPrintable(asNobody));    // and was cut off
        QVERIFY2(!asNobody.contains(QStringLiteral("LINE")), qPrintable(asNobody));     // without a byte
        QCOMPARE(accepted.size(), 0);

        // Control: the same client as the current user is served.
        const QString asUs = runClient(clientCopy, {path});
        QVERIFY2(asUs.contains(QStringLiteral("LINE {")), qPrintable(asUs));
        QCOMPARE(accepted.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestLinuxPeerIdentity)
#include "TestLinuxPeerIdentity.moc"
