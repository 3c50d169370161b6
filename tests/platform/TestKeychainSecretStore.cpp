#include "KeychainSecretStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace mcpauth;

/// Runs against the real Secret Service: ctest starts this binary through with-keyring.sh (private
/// D-Bus session, unlocked throwaway gnome-keyring). failsClearlyWithoutKeychain runs as its own ctest
/// entry with MCPAUTH_TEST_NO_KEYCHAIN=1 and a D-Bus address that leads nowhere.
class TestKeychainSecretStore : public QObject
{
    Q_OBJECT
private:
    QString m_service;
    bool m_noKeychain = false;

    template<typename R, typename Call> std::optional<R> wait(Call call, int timeoutMs = 10000)
    {
        std::optional<R> out;
        call([&](R r) { out.emplace(std::move(r)); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, timeoutMs);
        return out;
    }
    using ReadResult = Result<std::optional<QByteArray>>;
    std::optional<ReadResult> read(KeychainSecretStore &store, const QString &key)
    {
        return wait<ReadResult>([&](auto cb) { store.read(key, this, cb); });
    }
    std::optional<Status> write(KeychainSecretStore &store, const QString &key, const QByteArray &value)
    {
        return wait<Status>([&](auto cb) { store.write(key, value, this, cb); });
    }
    std::optional<Status> remove(KeychainSecretStore &store, const QString &key)
    {
        return wait<Status>([&](auto cb) { store.remove(key, this, cb); });
    }
    static QString describe(const std::optional<Status> &s)
    {
        if (!s)
            return QStringLiteral("no answer");
        return s->ok() ? QStringLiteral("ok") : s->error().message;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_noKeychain = qEnvironmentVariableIntValue("MCPAUTH_TEST_NO_KEYCHAIN") == 1;
        // A service name of our own, so a developer's real entries can never be touched.
        m_service = QStringLiteral("mcp-auth-agent-test-%1").arg(QCoreApplication::applicationPid());
    }
    void init()
    {
        const bool isNoKeychainTest =
            QLatin1String(QTest::currentTestFunction()) == QLatin1String("failsClearlyWithoutKeychain");
        if (m_noKeychain != isNoKeychainTest)
            QSKIP(m_noKeychain ? "needs a keychain" : "runs as TestKeychainSecretStore_noKeychain");
    }

    void writeReadOverwriteRemove()
    {
        KeychainSecretStore store(m_service);
        const QString key = QStringLiteral("token:https://mcp.example.com/|https://auth.example.com");
        auto missing = read(store, key);
        QVERIFY(missing);
        QVERIFY2(missing->ok(), qPrintable(missing->ok() ? QString() : missing->error().message));
        QVERIFY(!missing->value().has_value());

        auto w = write(store, key, "secret-one");
        QVERIFY2(w && w->ok(), qPrintable(describe(w)));
        QCOMPARE(read(store, key)->value(), std::optional<QByteArray>("secret-one"));

        QVERIFY(write(store, key, "secret-two")->ok());
        QCOMPARE(read(store, key)->value(), std::optional<QByteArray>("secret-two"));

        QVERIFY(remove(store, key)->ok());
        QVERIFY(!read(store, key)->value().has_value());
        // Removing what is not there succeeds.
        auto again = remove(store, key);
        QVERIFY2(again && again->ok(), qPrintable(describe(again)));
    }

    void keepsBinaryData()
    {
        KeychainSecretStore store(m_service);
        QByteArray binary;
        for (int i = 0; i < 256; ++i)
            binary.append(char(i));
        binary.append(QByteArray(2000, '\0'));
        QVERIFY(write(store, QStringLiteral("bin"), binary)->ok());
        const auto r = read(store, QStringLiteral("bin"));
        QVERIFY(r && r->ok());
        QCOMPARE(r->value(), std::optional<QByteArray>(binary));
        QVERIFY(remove(store, QStringLiteral("bin"))->ok());
    }

    void servicesAndKeysAreSeparate()
    {
        KeychainSecretStore a(m_service + QStringLiteral("-a"));
        KeychainSecretStore b(m_service + QStringLiteral("-b"));
        QVERIFY(write(a, QStringLiteral("k"), "from-a")->ok());
        QVERIFY(write(a, QStringLiteral("k2"), "other-key")->ok());
        QVERIFY(!read(b, QStringLiteral("k"))->value().has_value());
        QCOMPARE(read(a, QStringLiteral("k"))->value(), std::optional<QByteArray>("from-a"));
        QVERIFY(remove(a, QStringLiteral("k"))->ok());
        QCOMPARE(read(a, QStringLiteral("k2"))->value(), std::optional<QByteArray>("other-key"));
        QVERIFY(remove(a, QStringLiteral("k2"))->ok());
    }

    void probeSucceeds()
    {
        KeychainSecretStore store(m_service);
        const auto r = wait<Status>([&](auto cb) { store.probe(this, cb, 10000); });
        QVERIFY2(r && r->ok(), qPrintable(describe(r)));
    }

    void noCallbackAfterContextDies()
    {
        KeychainSecretStore store(m_service);
        bool called = false;
        auto *context = new QObject;
        store.write(QStringLiteral("ctx"), "v", context, [&](Status) { called = true; });
        delete context;
        QTest::qWait(500);
        QVERIFY(!called);
        QVERIFY(remove(store, QStringLiteral("ctx"))->ok());
    }

    void describesItself()
    {
        KeychainSecretStore store;
        QCOMPARE(store.service(), QStringLiteral("mcp-auth-agent"));
        QCOMPARE(store.backendName(), QStringLiteral("Secret Service"));
        QVERIFY(store.isPersistent());
    }

    /// Runs after the others: it leaves the test keyring locked. No prompter can show here (no
    /// display), so the unlock prompt fails, as it does when the user dismisses it.
    void failsClearlyWhenLocked()
    {
        const QString dbusSend = QStandardPaths::findExecutable(QStringLiteral("dbus-send"));
        if (dbusSend.isEmpty())
            QSKIP("dbus-send not found");
        KeychainSecretStore store(m_service);
        QVERIFY(write(store, QStringLiteral("before-lock"), "v")->ok());
        QProcess lock;
        lock.start(dbusSend, {QStringLiteral("--session"), QStringLiteral("--print-reply"),
                              QStringLiteral("--dest=org.freedesktop.secrets"),
                              QStringLiteral("/org/freedesktop/secrets"),
                              QStringLiteral("org.freedesktop.Secret.Service.Lock"),
                              QStringLiteral("array:objpath:/org/freedesktop/secrets/collection/login")});
        QVERIFY(lock.waitForFinished(5000));
        QCOMPARE(lock.exitCode(), 0);

        store.setTimeoutMs(8000);
        QElapsedTimer elapsed;
        elapsed.start();
        const auto w = write(store, QStringLiteral("after-lock"), "never-in-a-message");
        QVERIFY2(w.has_value(), "no answer at all");
        QVERIFY(!w->ok());
        QCOMPARE(w->error().category, Error::Category::Keychain);
        QVERIFY2(w->error().message.startsWith(QStringLiteral("system keychain write failed")),
                 qPrintable(w->error().message));
        QVERIFY(!w->error().message.contains(QStringLiteral("never-in-a-message")));
        QVERIFY2(elapsed.elapsed() < 10000, "keychain failures must come within a bounded time");
        qInfo("locked keychain: \"%s\" after %lld ms", qPrintable(w->error().message), elapsed.elapsed());
    }

    void failsClearlyWithoutKeychain()
    {
        KeychainSecretStore store(m_service);
        store.setTimeoutMs(8000);
        QElapsedTimer elapsed;
        elapsed.start();

        const auto probe = wait<Status>([&](auto cb) { store.probe(this, cb, 14000); }, 15000);
        QVERIFY2(probe.has_value(), "no answer at all");
        QVERIFY(!probe->ok());
        QCOMPARE(probe->error().category, Error::Category::Keychain);
        QCOMPARE(probe->error().code, QStringLiteral("keychain_unavailable"));
        const QString message = probe->error().message;
        QVERIFY2(message.startsWith(QStringLiteral("system keychain write failed: ")), qPrintable(message));
        QVERIFY2(message.size() > 40, qPrintable(message)); // carries the backend's explanation
        QVERIFY2(!message.contains(QStringLiteral("probe")), qPrintable(message)); // no payload, no key

        const auto r = read(store, QStringLiteral("k"));
        QVERIFY(r && !r->ok());
        QCOMPARE(r->error().category, Error::Category::Keychain);
        const auto w = write(store, QStringLiteral("k"), "never-in-a-message");
        QVERIFY(w && !w->ok());
        QVERIFY(!w->error().message.contains(QStringLiteral("never-in-a-message")));
        QVERIFY2(elapsed.elapsed() < 20000, "keychain failures must come within a bounded time");
        qInfo("no keychain: \"%s\" after %lld ms", qPrintable(message), elapsed.elapsed());
    }
};

QTEST_GUILESS_MAIN(TestKeychainSecretStore)
#include "TestKeychainSecretStore.moc"
