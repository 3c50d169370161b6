#include "broker/SocketPath.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace mcpauth;

namespace {
constexpr QFile::Permissions kOwnerDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
constexpr QFile::Permissions kGroupOther = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                           QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;

/// Sets an environment variable for one scope.
class EnvGuard
{
public:
    EnvGuard(const char *name, const QByteArray &value) : m_name(name), m_had(qEnvironmentVariableIsSet(name))
    {
        m_old = qgetenv(name);
        if (value.isNull())
            qunsetenv(name);
        else
            qputenv(name, value);
    }
    ~EnvGuard()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char *m_name;
    bool m_had;
    QByteArray m_old;
};
} // namespace

class TestSocketPath : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void honoursMcpAuthSock()
    {
        EnvGuard sock("MCP_AUTH_SOCK", "/somewhere/custom.sock");
        QCOMPARE(SocketPath::defaultPath(::geteuid()).value(), QStringLiteral("/somewhere/custom.sock"));
    }

    void usesXdgRuntimeDir()
    {
        QTemporaryDir tmp; // 0700, ours
        EnvGuard sock("MCP_AUTH_SOCK", QByteArray());
        EnvGuard runtime("XDG_RUNTIME_DIR", tmp.path().toUtf8());
        QCOMPARE(SocketPath::defaultPath(::geteuid()).value(),
                 tmp.path() + QStringLiteral("/mcp-auth-agent/agent.sock"));
    }

    void emptyMcpAuthSockIsIgnored()
    {
        QTemporaryDir tmp;
        EnvGuard sock("MCP_AUTH_SOCK", "");
        EnvGuard runtime("XDG_RUNTIME_DIR", tmp.path().toUtf8());
        QCOMPARE(SocketPath::defaultPath(::geteuid()).value(),
                 tmp.path() + QStringLiteral("/mcp-auth-agent/agent.sock"));
    }

    // Issue 6.1: without a runtime directory of our own the socket never goes to a shared temp
    // folder (Qt's fallback), where another user may already be listening.
    void neverFallsBackToSharedTemp_data()
    {
        QTest::addColumn<QByteArray>("runtime");
        QTest::newRow("unset") << QByteArray();
        QTest::newRow("shared temp") << QByteArray("/tmp");
        QTest::newRow("missing") << QByteArray("/nonexistent/run");
        QTest::newRow("relative") << QByteArray("run");
    }
    void neverFallsBackToSharedTemp()
    {
        QFETCH(QByteArray, runtime);
        QTemporaryDir home;
        QTemporaryDir tmp;
        EnvGuard sock("MCP_AUTH_SOCK", QByteArray());
        EnvGuard xdg("XDG_RUNTIME_DIR", runtime);
        EnvGuard tmpdir("TMPDIR", tmp.path().toUtf8());
        EnvGuard homeEnv("HOME", home.path().toUtf8());
        // A uid with no /run/user directory on any machine, so the home fallback is what is left…
        const qint64 uid = ::geteuid();
        const Result<QString> path = SocketPath::defaultPath(uid);
        QVERIFY(path.ok());
        QVERIFY2(!path->startsWith(tmp.path()), qPrintable(*path));
        QVERIFY2(*path != QStringLiteral("/tmp/mcp-auth-agent/agent.sock"), qPrintable(*path));
        const QString logind = QStringLiteral("/run/user/%1/").arg(uid);
        QVERIFY2(path->startsWith(logind) ||
                     *path == home.path() + QStringLiteral("/.mcp-auth-agent/agent.sock"),
                 qPrintable(*path));
    }

    void runtimeDirOfAnotherUserIsIgnored()
    {
        QTemporaryDir home;
        EnvGuard sock("MCP_AUTH_SOCK", QByteArray());
        EnvGuard xdg("XDG_RUNTIME_DIR", "/"); // root's, 0755: neither ours (unless root) nor private
        EnvGuard homeEnv("HOME", home.path().toUtf8());
        const Result<QString> path = SocketPath::defaultPath(::geteuid());
        QVERIFY(path.ok());
        QVERIFY2(!path->startsWith(QStringLiteral("//")) &&
                     *path != QStringLiteral("/mcp-auth-agent/agent.sock"),
                 qPrintable(*path));
    }

    void noPrivatePlaceIsAClearError()
    {
        EnvGuard sock("MCP_AUTH_SOCK", QByteArray());
        EnvGuard xdg("XDG_RUNTIME_DIR", QByteArray());
        EnvGuard homeEnv("HOME", "/tmp");     // not ours (root's for a user; and for root, still not private)
        const qint64 notUs = 4'000'000'000LL; // no /run/user/<uid>, owns nothing
        const Result<QString> path = SocketPath::defaultPath(notUs);
        QVERIFY(!path.ok());
        QCOMPARE(path.error().code, QStringLiteral("no_private_dir"));
        QVERIFY(path.error().message.contains(QStringLiteral("MCP_AUTH_SOCK")));
    }

    void checkDirectoryCreatesNothing()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("absent"));
        const Status st = SocketPath::checkDirectory(dir + QStringLiteral("/agent.sock"), ::geteuid());
        QVERIFY(!st.ok());
        QCOMPARE(st.error().code, QStringLiteral("socket_dir_missing"));
        QVERIFY(!QFileInfo::exists(dir));
    }

    void createsPrivateDirectory()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("x/mcp-auth-agent"));
        QVERIFY(SocketPath::prepareDirectory(dir + QStringLiteral("/agent.sock"), ::geteuid()).ok());
        QFileInfo info(dir);
        QVERIFY(info.isDir());
        QCOMPARE(info.permissions() & kGroupOther, QFile::Permissions());
        QCOMPARE(info.permissions() & kOwnerDir, kOwnerDir);
        QCOMPARE(info.ownerId(), uint(::geteuid()));
        // Idempotent: a second agent start accepts the directory it made.
        QVERIFY(SocketPath::prepareDirectory(dir + QStringLiteral("/agent.sock"), ::geteuid()).ok());
    }

    void refusesWideDirectory_data()
    {
        QTest::addColumn<int>("extra");
        QTest::newRow("group writable") << int(QFile::WriteGroup);
        QTest::newRow("group readable") << int(QFile::ReadGroup | QFile::ExeGroup);
        QTest::newRow("world traversable") << int(QFile::ExeOther);
        QTest::newRow("world writable") << int(QFile::WriteOther | QFile::ExeOther | QFile::ReadOther);
    }
    void refusesWideDirectory()
    {
        QFETCH(int, extra);
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("sock"));
        QVERIFY(QDir().mkdir(dir));
        QVERIFY(QFile::setPermissions(dir, kOwnerDir | QFile::Permissions(extra)));
        const auto r = SocketPath::prepareDirectory(dir + QStringLiteral("/agent.sock"), ::geteuid());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
        QCOMPARE(r.error().code, QStringLiteral("socket_dir_unsafe"));
        QVERIFY2(r.error().message.contains(dir), qPrintable(r.error().message));
        // Refusal leaves the directory as it was: it is not ours to fix silently.
        QCOMPARE(QFileInfo(dir).permissions() & kGroupOther, QFile::Permissions(extra) & kGroupOther);
    }

    void refusesSymlinkedDirectory()
    {
        QTemporaryDir tmp;
        const QString real = tmp.filePath(QStringLiteral("real"));
        const QString link = tmp.filePath(QStringLiteral("link"));
        QVERIFY(QDir().mkdir(real, kOwnerDir));
        QVERIFY(QFile::link(real, link));
        const auto r = SocketPath::prepareDirectory(link + QStringLiteral("/agent.sock"), ::geteuid());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
    }

    void refusesForeignOwner()
    {
        // /tmp exists, is owned by root and is world-writable: refused on both counts for a normal
        // user, and still refused (mode 1777) for root.
        const auto r = SocketPath::prepareDirectory(QStringLiteral("/tmp/agent.sock"), ::geteuid());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
    }

    void refusesFileInPlaceOfDirectory()
    {
        QTemporaryDir tmp;
        const QString file = tmp.filePath(QStringLiteral("f"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        QVERIFY(!SocketPath::prepareDirectory(file + QStringLiteral("/agent.sock"), ::geteuid()).ok());
    }
};

QTEST_GUILESS_MAIN(TestSocketPath)
#include "TestSocketPath.moc"
