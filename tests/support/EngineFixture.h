#pragma once

#include "FakeAuthServer.h"
#include "FakeBrowser.h"
#include "engine/AuthEngine.h"
#include "storage/MemorySecretStore.h"
#include "storage/StateFile.h"

#include <QNetworkAccessManager>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <optional>

namespace mcpauth::test {

/// A MemorySecretStore that remembers, for the test, what it held at any moment.
class RecordingStore : public MemorySecretStore
{
public:
    QHash<QString, QByteArray> current;
    int writes = 0;
    bool failWrites = false; ///< a keychain that answers reads but cannot store (locked, empty)
    void write(const QString &key, const QByteArray &secret, QObject *context, StatusCallback done) override
    {
        if (failWrites) {
            QTimer::singleShot(0, context,
                               [done] { done(Error::keychain(QStringLiteral("keychain locked"))); });
            return;
        }
        ++writes;
        current.insert(key, secret);
        MemorySecretStore::write(key, secret, context, std::move(done));
    }
    void remove(const QString &key, QObject *context, StatusCallback done) override
    {
        current.remove(key);
        MemorySecretStore::remove(key, context, std::move(done));
    }
    QString storedRefreshToken() const
    {
        for (auto it = current.begin(); it != current.end(); ++it)
            if (it.key().startsWith(QLatin1String("tokens|")))
                return TokenSet::fromSecretJson(it.value())->refreshToken;
        return {};
    }
};

/// An AuthEngine against a FakeAuthServer, a FakeBrowser and a RecordingStore, with a manual
/// clock; helpers wait for each call's answer.
struct EngineFixture
{
    QTemporaryDir dir;
    FakeAuthServer server;
    FakeBrowser browser;
    ManualClock clock{1'700'000'000};
    QNetworkAccessManager nam;
    HttpClient http{&nam};
    RecordingStore store;
    StateFile stateFile{dir.filePath(QStringLiteral("state.json"))};
    std::unique_ptr<AuthEngine> engine;

    EngineFixture() { QVERIFY2(server.listen(), "listen"); }
    void startEngine()
    {
        engine = std::make_unique<AuthEngine>(http, clock, store, stateFile, browser, AuthEngine::Options{});
        bool started = false;
        engine->start(engine.get(), [&](Status st) { started = st.ok(); });
        QTRY_VERIFY(started);
    }
    Result<TokenSet> login()
    {
        std::optional<Result<TokenSet>> out;
        engine->login(server.mcpUrl(), QString(), engine.get(), [&](Result<TokenSet> r) { out.emplace(r); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        return out ? *out : Result<TokenSet>(Error::internal(QStringLiteral("login: no answer")));
    }
    Result<TokenSet> loginWith(const QString &scope, const AuthEngine::LoginOptions &options)
    {
        std::optional<Result<TokenSet>> out;
        engine->login(server.mcpUrl(), scope, options, engine.get(),
                      [&](Result<TokenSet> r) { out.emplace(r); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        return out ? *out : Result<TokenSet>(Error::internal(QStringLiteral("login: no answer")));
    }
    Status configure(const Json &params)
    {
        Result<ServerConfig> config = ServerConfig::fromParams(params);
        if (!config)
            return config.error();
        std::optional<Status> out;
        engine->configure(server.mcpUrl(), config.value(), engine.get(), [&](Status st) { out.emplace(st); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 5000);
        return out ? *out : Status(Error::internal(QStringLiteral("configure: no answer")));
    }
    QString authorizeParam(const char *key) const
    {
        return server.authorizeRequests.last().queryItemValue(QLatin1String(key), QUrl::FullyDecoded);
    }
    QString tokenParam(const char *key) const
    {
        return server.tokenRequests.last().queryItemValue(QLatin1String(key), QUrl::FullyDecoded);
    }
    Result<TokenSet> token(qint64 minValid = 60)
    {
        std::optional<Result<TokenSet>> out;
        engine->token(server.mcpUrl(), QString(), minValid, engine.get(),
                      [&](Result<TokenSet> r) { out.emplace(r); });
        (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
        return out ? *out : Result<TokenSet>(Error::internal(QStringLiteral("token: no answer")));
    }
};

} // namespace mcpauth::test
