#include "storage/MemorySecretStore.h"

#include <QTest>

using namespace mcpauth;

class TestMemorySecretStore : public QObject
{
    Q_OBJECT
private:
    template<typename R, typename Call> std::optional<R> wait(Call call)
    {
        std::optional<R> out;
        call([&](R r) { out.emplace(std::move(r)); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 2000);
        return out;
    }
    std::optional<Result<std::optional<QByteArray>>> read(MemorySecretStore &store, const QString &key)
    {
        return wait<Result<std::optional<QByteArray>>>([&](auto cb) { store.read(key, this, cb); });
    }
    std::optional<Status> write(MemorySecretStore &store, const QString &key, const QByteArray &value)
    {
        return wait<Status>([&](auto cb) { store.write(key, value, this, cb); });
    }
    std::optional<Status> remove(MemorySecretStore &store, const QString &key)
    {
        return wait<Status>([&](auto cb) { store.remove(key, this, cb); });
    }

private Q_SLOTS:
    void writeReadOverwriteRemove()
    {
        MemorySecretStore store;
        auto missing = read(store, QStringLiteral("k"));
        QVERIFY(missing && missing->ok());
        QVERIFY(!missing->value().has_value());

        QVERIFY(write(store, QStringLiteral("k"), "one")->ok());
        QCOMPARE(read(store, QStringLiteral("k"))->value(), std::optional<QByteArray>("one"));
        QVERIFY(write(store, QStringLiteral("k"), "two")->ok());
        QCOMPARE(read(store, QStringLiteral("k"))->value(), std::optional<QByteArray>("two"));
        QCOMPARE(store.size(), 1);

        QVERIFY(remove(store, QStringLiteral("k"))->ok());
        QVERIFY(!read(store, QStringLiteral("k"))->value().has_value());
        QVERIFY(remove(store, QStringLiteral("k"))->ok()); // removing a missing entry succeeds
    }

    void keepsBinaryData()
    {
        MemorySecretStore store;
        QByteArray binary;
        for (int i = 0; i < 256; ++i)
            binary.append(char(i));
        QVERIFY(write(store, QStringLiteral("bin"), binary)->ok());
        QCOMPARE(read(store, QStringLiteral("bin"))->value(), std::optional<QByteArray>(binary));
    }

    void callbacksAreNeverSynchronous()
    {
        MemorySecretStore store;
        int calls = 0;
        store.write(QStringLiteral("k"), "v", this, [&](Status) { ++calls; });
        store.read(QStringLiteral("k"), this, [&](Result<std::optional<QByteArray>>) { ++calls; });
        store.remove(QStringLiteral("k"), this, [&](Status) { ++calls; });
        QCOMPARE(calls, 0);
        QTRY_COMPARE(calls, 3);
        QTest::qWait(20);
        QCOMPARE(calls, 3); // each exactly once
    }

    void readSeesValueAtCallTime()
    {
        MemorySecretStore store;
        QVERIFY(write(store, QStringLiteral("k"), "old")->ok());
        std::optional<QByteArray> seen;
        bool done = false;
        store.read(QStringLiteral("k"), this, [&](Result<std::optional<QByteArray>> r) {
            seen = r.value();
            done = true;
        });
        store.write(QStringLiteral("k"), "new", this, [](Status) {});
        QTRY_VERIFY(done);
        QCOMPARE(seen, std::optional<QByteArray>("old"));
    }

    void noCallbackAfterContextDies()
    {
        MemorySecretStore store;
        bool called = false;
        auto *context = new QObject;
        store.write(QStringLiteral("k"), "v", context, [&](Status) { called = true; });
        delete context;
        QTest::qWait(20);
        QVERIFY(!called);
    }

    void failingSimulatesLockedKeychain()
    {
        MemorySecretStore store;
        QVERIFY(write(store, QStringLiteral("k"), "v")->ok());
        store.setFailing(true);
        const auto r = read(store, QStringLiteral("k"));
        QVERIFY(r && !r->ok());
        QCOMPARE(r->error().category, Error::Category::Keychain);
        QCOMPARE(r->error().code, QStringLiteral("keychain_unavailable"));
        QCOMPARE(write(store, QStringLiteral("k"), "w")->error().category, Error::Category::Keychain);
        QCOMPARE(remove(store, QStringLiteral("k"))->error().category, Error::Category::Keychain);
        store.setFailing(false);
        QCOMPARE(read(store, QStringLiteral("k"))->value(),
                 std::optional<QByteArray>("v")); // nothing changed
    }

    void describesItself()
    {
        MemorySecretStore store;
        QCOMPARE(store.backendName(), QStringLiteral("memory (not persisted)"));
        QVERIFY(!store.isPersistent());
    }
};

QTEST_GUILESS_MAIN(TestMemorySecretStore)
#include "TestMemorySecretStore.moc"
