#include "LocalLineClient.h"
#include "SameUserIdentity.h"
#include "broker/BrokerServer.h"
#include "broker/RpcErrors.h"

#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

constexpr QFile::Permissions kGroupOther = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                           QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;

/// The shared test identity, reporting a proxy started by VS Code as the peer.
struct FakeIdentity : test::SameUserIdentity
{
    FakeIdentity()
    {
        pid = 4321;
        processChain = {QStringLiteral("/usr/bin/mcp-auth"), QStringLiteral("/usr/bin/code")};
    }
};

/// Leaves a socket file with nobody listening, as an agent that crashed does.
bool makeStaleSocket(const QString &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(path);
    if (size_t(p.size()) >= sizeof(addr.sun_path)) {
        ::close(fd);
        return false;
    }
    memcpy(addr.sun_path, p.constData(), size_t(p.size()));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok && QFileInfo::exists(path);
}

} // namespace

class TestBrokerServer : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_tmp;
    QString m_path;

    /// Answers every request with {"echo": method} so a round trip proves the connection works.
    static void echo(BrokerServer &server)
    {
        QObject::connect(&server, &BrokerServer::connectionAccepted, &server, [](JsonRpcConnection *c) {
            QObject::connect(c, &JsonRpcConnection::requestReceived, c,
                             [c](const Json &id, const QString &method, const Json &) {
                                 c->sendResult(id, Json{{"echo", toStd(method)}});
                             });
        });
    }
    static bool roundTrip(LocalLineClient &client, int id)
    {
        const qsizetype before = client.lines.size();
        client.send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "agent/status"}});
        if (!client.waitForLines(before + 1))
            return false;
        const Json reply = client.last();
        return reply.value("id", -1) == id && reply.contains("result") &&
               reply["result"].value("echo", "") == "agent/status";
    }

private Q_SLOTS:
    void init()
    {
        // Short paths: sun_path is limited to 108 bytes.
        m_tmp = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/mcpb-XXXXXX"));
        QVERIFY(m_tmp->isValid());
        m_path = m_tmp->path() + QStringLiteral("/run/agent.sock");
    }
    void cleanup() { m_tmp.reset(); }

    void acceptsSameUserAndServes()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        echo(server);
        QSignalSpy accepted(&server, &BrokerServer::connectionAccepted);
        QVERIFY(server.listen(m_path).ok());
        QVERIFY(server.isListening());

        LocalLineClient client;
        QVERIFY(client.connectTo(m_path));
        QTRY_COMPARE(accepted.size(), 1);
        auto *connection = accepted.first().at(0).value<JsonRpcConnection *>();
        QCOMPARE(connection->peer().pid, 4321);
        QCOMPARE(connection->peer().displayName(), QStringLiteral("code via mcp-auth"));
        QCOMPARE(connection->parent(), &server);
        QVERIFY(roundTrip(client, 1));
        QVERIFY(roundTrip(client, 2));
        QCOMPARE(server.connectionCount(), 1);
    }

    void socketAndDirectoryArePrivate()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        QVERIFY(server.listen(m_path).ok());
        const QFileInfo socket(m_path);
        QVERIFY(socket.exists());
        QCOMPARE(socket.permissions() & (kGroupOther | QFile::ExeOwner),
                 QFile::Permissions()); // 0600
        QCOMPARE(socket.permissions() & (QFile::ReadOwner | QFile::WriteOwner),
                 QFile::ReadOwner | QFile::WriteOwner);
        QCOMPARE(QFileInfo(socket.absolutePath()).permissions() & kGroupOther, QFile::Permissions()); // 0700
        QCOMPARE(QFileInfo(socket.absolutePath()).ownerId(), uint(::geteuid()));
    }

    void refusesOtherUser_data()
    {
        QTest::addColumn<bool>("known");
        QTest::addColumn<qint64>("uid");
        const qint64 me = qint64(::geteuid());
        QTest::newRow("other uid") << true << me + 1;
        QTest::newRow("root (or nobody) is another user too")
            << true << (me == 0 ? qint64(65534) : qint64(0));
        QTest::newRow("credentials unavailable") << false << me;
    }
    void refusesOtherUser()
    {
        QFETCH(bool, known);
        QFETCH(qint64, uid);
        FakeIdentity identity;
        identity.known = known;
        identity.peerUid = uid;
        BrokerServer server(identity);
        echo(server);
        QSignalSpy accepted(&server, &BrokerServer::connectionAccepted);
        QVERIFY(server.listen(m_path).ok());

        LocalLineClient client;
        QVERIFY(client.connectTo(m_path));
        client.send(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "token/get"}});
        QVERIFY(client.waitForDisconnect());
        QTRY_COMPARE(identity.calls, 1);
        QTest::qWait(20);
        QCOMPARE(accepted.size(), 0);
        QCOMPARE(client.lines.size(), 0); // not a byte back
        QCOMPARE(server.connectionCount(), 0);

        // The server is unaffected: a legitimate peer still gets in.
        identity.known = true;
        identity.peerUid = identity.currentUid();
        LocalLineClient good;
        QVERIFY(good.connectTo(m_path));
        QVERIFY(roundTrip(good, 1));
    }

    void replacesStaleSocket()
    {
        QVERIFY(QDir().mkpath(QFileInfo(m_path).absolutePath()));
        QVERIFY(QFile::setPermissions(QFileInfo(m_path).absolutePath(),
                                      QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        QVERIFY(makeStaleSocket(m_path));
        FakeIdentity identity;
        BrokerServer server(identity);
        echo(server);
        const auto listened = server.listen(m_path);
        QVERIFY2(listened.ok(), qPrintable(listened.ok() ? QString() : listened.error().message));
        LocalLineClient client;
        QVERIFY(client.connectTo(m_path));
        QVERIFY(roundTrip(client, 1));
    }

    void detectsRunningAgent()
    {
        FakeIdentity identity;
        BrokerServer first(identity);
        echo(first);
        QVERIFY(first.listen(m_path).ok());

        BrokerServer second(identity);
        const auto r = second.listen(m_path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Config);
        QCOMPARE(r.error().code, QStringLiteral("agent_running"));
        QVERIFY(!second.isListening());

        // The running agent keeps its socket, even after the loser is destroyed.
        second.close();
        QVERIFY(QFileInfo::exists(m_path));
        LocalLineClient client;
        QVERIFY(client.connectTo(m_path));
        QVERIFY(roundTrip(client, 1));
    }

    void refusesUnsafeDirectory()
    {
        const QString dir = QFileInfo(m_path).absolutePath();
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                               QFile::WriteGroup | QFile::ExeGroup));
        FakeIdentity identity;
        BrokerServer server(identity);
        const auto r = server.listen(m_path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
        QVERIFY(!QFileInfo::exists(m_path));
    }

    void unboundedLineThenNewClient()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        echo(server);
        QVERIFY(server.listen(m_path).ok());

        LocalLineClient greedy;
        QVERIFY(greedy.connectTo(m_path));
        greedy.sendRaw(QByteArray(2 * 1024 * 1024, 'x'));
        QVERIFY(greedy.waitForLines(1, 5000));
        QCOMPARE(greedy.message(0)["error"]["code"].get<int>(), int(RpcError::InvalidRequest));
        QVERIFY(greedy.waitForDisconnect());
        QTRY_COMPARE(server.connectionCount(), 0);

        LocalLineClient next;
        QVERIFY(next.connectTo(m_path));
        QVERIFY(roundTrip(next, 1));
    }

    void connectionIsDeletedAfterClose()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        QSignalSpy accepted(&server, &BrokerServer::connectionAccepted);
        QVERIFY(server.listen(m_path).ok());
        auto client = std::make_unique<LocalLineClient>();
        QVERIFY(client->connectTo(m_path));
        QTRY_COMPARE(accepted.size(), 1);
        QPointer<JsonRpcConnection> connection = accepted.first().at(0).value<JsonRpcConnection *>();
        QSignalSpy closed(connection.data(), &JsonRpcConnection::closed);
        client.reset();
        QTRY_COMPARE(closed.size(), 1);
        QTRY_VERIFY(connection.isNull());
        QCOMPARE(server.connectionCount(), 0);
    }

    void capsConnections()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        server.setMaxConnections(2);
        echo(server);
        QVERIFY(server.listen(m_path).ok());
        LocalLineClient a, b, c;
        QVERIFY(a.connectTo(m_path));
        QVERIFY(b.connectTo(m_path));
        QTRY_COMPARE(server.connectionCount(), 2);
        QVERIFY(c.connectTo(m_path));
        QVERIFY(c.waitForLines(1));
        QCOMPARE(c.message(0)["error"]["code"].get<int>(), int(RpcError::Busy));
        QVERIFY(c.waitForDisconnect());
        QVERIFY(roundTrip(a, 1));

        a.socket.disconnectFromServer();
        QTRY_COMPARE(server.connectionCount(), 1);
        LocalLineClient d;
        QVERIFY(d.connectTo(m_path));
        QVERIFY(roundTrip(d, 1));
    }

    // Issue 6.6: at the limit, a client that stopped midway (an unfinished line) gives its slot to
    // a newcomer; a well-behaved idle client keeps its own.
    void evictsStalledConnectionForNewcomer()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        server.setMaxConnections(3);
        echo(server);
        QVERIFY(server.listen(m_path).ok());
        LocalLineClient idle, half1, half2;
        QVERIFY(idle.connectTo(m_path));
        QVERIFY(roundTrip(idle, 1));
        QVERIFY(half1.connectTo(m_path));
        half1.sendRaw(R"({"jsonrpc":"2.0","id":1,)");
        QTest::qWait(30); // half1 stalled first
        QVERIFY(half2.connectTo(m_path));
        half2.sendRaw(R"({"jsonrpc":"2.0",)");
        QTRY_COMPARE(server.connectionCount(), 3);
        QTest::qWait(30);

        LocalLineClient newcomer;
        QVERIFY(newcomer.connectTo(m_path));
        QVERIFY(roundTrip(newcomer, 7));
        QVERIFY(half1.waitForDisconnect()); // the longest-stalled one went
        QCOMPARE(half2.socket.state(), QLocalSocket::ConnectedState);
        QVERIFY(roundTrip(idle, 2));
        QCOMPARE(server.connectionCount(), 3);
    }

    void unfinishedLinesShareOneBudget()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        server.setLineBudget(300 * 1024);
        echo(server);
        QVERIFY(server.listen(m_path).ok());
        LocalLineClient a, b;
        QVERIFY(a.connectTo(m_path));
        QVERIFY(b.connectTo(m_path));
        a.sendRaw(QByteArray(200 * 1024, 'a')); // under the 1 MiB line cap, no newline
        QTest::qWait(100);
        QCOMPARE(a.socket.state(), QLocalSocket::ConnectedState);
        b.sendRaw(QByteArray(200 * 1024, 'b')); // together over the budget: b is cut
        QVERIFY(b.waitForDisconnect());
        QVERIFY(b.waitForLines(1));
        QVERIFY(b.message(0)["error"]["message"].get<std::string>().find("busy") != std::string::npos);
        QCOMPARE(a.socket.state(), QLocalSocket::ConnectedState);
        LocalLineClient c;
        QVERIFY(c.connectTo(m_path));
        QVERIFY(roundTrip(c, 1));
    }

    // A refresh storm: many clients connect before the agent's event loop accepts any of them.
    // They must queue in the listen backlog, not be refused with EAGAIN (Qt's default backlog is
    // 50). Raw non-blocking sockets, as a Node.js host uses: QLocalSocket would retry by itself.
    void burstOfConnectionsIsQueued()
    {
        FakeIdentity identity;
        BrokerServer server(identity);
        echo(server);
        QVERIFY(server.listen(m_path).ok());
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        const QByteArray path = QFile::encodeName(m_path);
        QVERIFY(size_t(path.size()) < sizeof(addr.sun_path));
        std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
        std::vector<int> fds;
        int refused = 0;
        for (int i = 0; i < 200; ++i) {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            QVERIFY(fd >= 0);
            fds.push_back(fd);
            if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0)
                ++refused; // EAGAIN: the backlog is full
        }
        QTRY_COMPARE_WITH_TIMEOUT(server.connectionCount(), 200 - refused, 10000);
        for (const int fd : fds)
            ::close(fd);
        QCOMPARE(refused, 0);
    }

    void closeRemovesSocketAndClosesConnections()
    {
        FakeIdentity identity;
        auto server = std::make_unique<BrokerServer>(identity);
        QVERIFY(server->listen(m_path).ok());
        LocalLineClient client;
        QVERIFY(client.connectTo(m_path));
        QTRY_COMPARE(server->connectionCount(), 1);
        server->close();
        QVERIFY(!server->isListening());
        QVERIFY(!QFileInfo::exists(m_path));
        QVERIFY(client.waitForDisconnect());
        // And the path can be used again at once.
        QVERIFY(server->listen(m_path).ok());
    }
};

QTEST_GUILESS_MAIN(TestBrokerServer)
#include "TestBrokerServer.moc"
