#include "SameUserIdentity.h"
#include "broker/AgentClient.h"

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mcpauth;
using namespace mcpauth::test;

/// The client end of the agent socket checks what the agent checks (issue 6.1, security.md §1):
/// a folder of ours with mode 0700, and a peer running as our user, before it sends a byte.
class TestAgentClient : public QObject
{
    Q_OBJECT
private:
    /// A listener that records every byte a client sends it: the impostor.
    struct Listener
    {
        QLocalServer server;
        QByteArray received;
        bool listen(const QString &path)
        {
            QObject::connect(&server, &QLocalServer::newConnection, &server, [this] {
                while (QLocalSocket *s = server.nextPendingConnection())
                    QObject::connect(s, &QLocalSocket::readyRead, s, [this, s] { received += s->readAll(); });
            });
            return server.listen(path);
        }
    };

    /// The outcome of connectOnly(); nullopt when it never came.
    static std::optional<Status> connectWith(AgentClient &client)
    {
        std::optional<Status> outcome;
        client.connectOnly(2000, [&outcome](Status st) { outcome = st; });
        (void)QTest::qWaitFor([&] { return outcome.has_value(); }, 5000);
        return outcome;
    }

private Q_SLOTS:
    void refusesPeerOfAnotherUserBeforeSendingAByte()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("run"));
        QVERIFY(QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        const QString path = dir + QStringLiteral("/agent.sock");
        Listener impostor;
        QVERIFY(impostor.listen(path));

        SameUserIdentity identity;
        identity.peerUid = identity.currentUid() + 1; // the kernel says: someone else listens
        AgentClient client(path, identity);
        const std::optional<Status> r = connectWith(client);
        QVERIFY(r.has_value());
        QVERIFY(!r->ok());
        QCOMPARE(r->error().category, Error::Category::Security);
        QCOMPARE(r->error().code, QStringLiteral("agent_impostor"));
        QVERIFY2(r->error().message.contains(QStringLiteral("another user")), qPrintable(r->error().message));

        // Nor does a call go out afterwards.
        bool answered = false;
        client.call(QStringLiteral("token/get"), Json{{"resource", "https://mcp.example.com"}},
                    [&answered](Result<Json> reply) { answered = !reply.ok(); });
        QTRY_VERIFY(answered);
        QTest::qWait(100);
        QVERIFY2(impostor.received.isEmpty(), impostor.received.constData());
    }

    void refusesUnidentifiablePeer()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("run"));
        QVERIFY(QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        Listener impostor;
        QVERIFY(impostor.listen(dir + QStringLiteral("/agent.sock")));
        SameUserIdentity identity;
        identity.known = false;
        AgentClient client(dir + QStringLiteral("/agent.sock"), identity);
        const std::optional<Status> r = connectWith(client);
        QVERIFY(r.has_value() && !r->ok());
        QCOMPARE(r->error().code, QStringLiteral("agent_impostor"));
        QTest::qWait(50);
        QVERIFY(impostor.received.isEmpty());
    }

    void refusesSocketInAnOpenFolder()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("shared"));
        QVERIFY(QDir().mkdir(dir));
        QVERIFY(QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                               QFile::ReadOther | QFile::WriteOther | QFile::ExeOther));
        Listener impostor;
        QVERIFY(impostor.listen(dir + QStringLiteral("/agent.sock")));
        SameUserIdentity identity; // even a peer of our own uid: the folder is not private
        AgentClient client(dir + QStringLiteral("/agent.sock"), identity);
        const std::optional<Status> r = connectWith(client);
        QVERIFY(r.has_value() && !r->ok());
        QCOMPARE(r->error().code, QStringLiteral("socket_dir_unsafe"));
        QTest::qWait(50);
        QCOMPARE(impostor.server.hasPendingConnections(), false);
        QVERIFY(impostor.received.isEmpty());
        QCOMPARE(identity.calls, 0); // refused before connecting at all
    }

    void talksToItsOwnAgent()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("run"));
        QVERIFY(QDir().mkdir(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        Listener agent;
        QVERIFY(agent.listen(dir + QStringLiteral("/agent.sock")));
        SameUserIdentity identity;
        AgentClient client(dir + QStringLiteral("/agent.sock"), identity);
        const std::optional<Status> r = connectWith(client);
        QVERIFY(r.has_value());
        QVERIFY2(r->ok(), qPrintable(r->ok() ? QString() : r->error().message));
        QCOMPARE(identity.calls, 1);
        client.call(QStringLiteral("agent/status"), Json(), [](Result<Json>) {});
        QTRY_VERIFY(agent.received.contains("agent/status"));
    }
};

QTEST_GUILESS_MAIN(TestAgentClient)
#include "TestAgentClient.moc"
