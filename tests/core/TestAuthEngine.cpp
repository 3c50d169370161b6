#include "EngineFixture.h"
#include "engine/AuthEngine.h"
#include "engine/ServerSession.h"
#include "storage/MemorySecretStore.h"
#include "storage/StateFile.h"
#include "tokens/TokenClient.h"

#include <QFile>
#include <QNetworkAccessManager>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace mcpauth;
using namespace mcpauth::test;

class TestAuthEngine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void signInThenToken()
    {
        EngineFixture f;
        f.startEngine();
        const Result<TokenSet> before = f.token();
        QVERIFY(!before);
        QCOMPARE(before.error().category, Error::Category::LoginRequired);

        const Result<TokenSet> in = f.login();
        QVERIFY2(in.ok(), qPrintable(in ? QString() : in.error().message));
        QCOMPARE(f.browser.launches, 1);
        QCOMPARE(f.server.registrations, 1);
        QCOMPARE(f.server.codeGrants, 1);
        // RFC 8707: resource in the authorization request and the token request, identical.
        const QString resource = f.server.mcpUrl().toString();
        QCOMPARE(
            f.server.authorizeRequests.last().queryItemValue(QStringLiteral("resource"), QUrl::FullyDecoded),
            resource);
        QCOMPARE(f.server.tokenRequests.last().queryItemValue(QStringLiteral("resource"), QUrl::FullyDecoded),
                 resource);
        // offline_access is offered, so it is asked for, with prompt=consent.
        QVERIFY(f.server.authorizeRequests.last()
                    .queryItemValue(QStringLiteral("scope"))
                    .contains(QStringLiteral("offline_access")));
        QCOMPARE(f.server.authorizeRequests.last().queryItemValue(QStringLiteral("prompt")),
                 QStringLiteral("consent"));

        const Result<TokenSet> t = f.token();
        QVERIFY(t.ok());
        QCOMPARE(t->accessToken, f.server.lastAccessToken);
        QCOMPARE(f.server.refreshGrants, 0);
        QCOMPARE(f.store.storedRefreshToken(), f.server.lastRefreshToken);
    }

    void concurrentCallersShareOneRefresh()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.clock.advance(3600); // expired
        QList<Result<TokenSet>> results;
        for (int i = 0; i < 30; ++i)
            f.engine->token(f.server.mcpUrl(), QString(), 60, f.engine.get(),
                            [&](Result<TokenSet> r) { results << r; });
        QTRY_COMPARE(results.size(), 30);
        QCOMPARE(f.server.refreshGrants, 1);
        for (const auto &r : results) {
            QVERIFY(r.ok());
            QCOMPARE(r->accessToken, f.server.lastAccessToken);
        }
        f.clock.advance(3600);
        QVERIFY(f.token().ok());
        QCOMPARE(f.server.refreshGrants, 2);
        QCOMPARE(f.server.refreshTokenReuse, 0);
    }

    void rotatedRefreshTokenIsStoredBeforeTheAccessTokenIsHandedOut()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.clock.advance(3600);
        QString storedWhenHandedOut;
        bool done = false;
        f.engine->token(f.server.mcpUrl(), QString(), 60, f.engine.get(), [&](Result<TokenSet> r) {
            QVERIFY(r.ok());
            storedWhenHandedOut = f.store.storedRefreshToken();
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(storedWhenHandedOut, f.server.lastRefreshToken);
    }

    void refreshWithoutNewRefreshTokenKeepsTheOld()
    {
        EngineFixture f;
        f.server.rotateRefreshTokens = false;
        f.startEngine();
        QVERIFY(f.login().ok());
        const QString original = f.server.lastRefreshToken;
        f.clock.advance(3600);
        QVERIFY(f.token().ok());
        QCOMPARE(f.store.storedRefreshToken(), original);
        f.clock.advance(3600);
        QVERIFY(f.token().ok()); // the kept refresh token still works
        QCOMPARE(f.server.refreshGrants, 2);
    }

    void networkFailureDuringRefreshKeepsTokens_data()
    {
        QTest::addColumn<int>("failure");
        QTest::newRow("connection dropped") << int(FakeAuthServer::TokenFailure::Drop);
        QTest::newRow("server error") << int(FakeAuthServer::TokenFailure::ServerError);
    }
    void networkFailureDuringRefreshKeepsTokens()
    {
        QFETCH(int, failure);
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        const QString refresh = f.server.lastRefreshToken;
        f.clock.advance(3600);
        f.server.tokenFailure = FakeAuthServer::TokenFailure(failure);
        const Result<TokenSet> t = f.token();
        QVERIFY(!t.ok());
        QCOMPARE(t.error().category, Error::Category::Network);
        QCOMPARE(f.store.storedRefreshToken(), refresh); // nothing deleted
        f.server.tokenFailure = FakeAuthServer::TokenFailure::None;
        const Result<TokenSet> again = f.token();
        QVERIFY(again.ok());
        QCOMPARE(f.server.refreshTokenReuse, 0);
    }

    void networkFailureWhileTokenStillValidHandsOutCurrentToken()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        const QString access = f.server.lastAccessToken;
        f.clock.advance(3600 - 30); // 30 s left, caller wants 60
        f.server.tokenFailure = FakeAuthServer::TokenFailure::Drop;
        const Result<TokenSet> t = f.token(60);
        QVERIFY(t.ok());
        QCOMPARE(t->accessToken, access);
    }

    void invalidGrantMeansSignInRequired()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.server.revokeAll();
        f.clock.advance(3600);
        const Result<TokenSet> t = f.token();
        QVERIFY(!t.ok());
        QCOMPARE(t.error().category, Error::Category::LoginRequired);
        QVERIFY(f.store.storedRefreshToken().isEmpty());
        QCOMPARE(f.browser.launches, 1); // token/get never opens a browser
    }

    void invalidClientRegistersAgain()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.server.forgetClients();
        f.clock.advance(3600);
        const Result<TokenSet> t = f.token();
        QVERIFY(!t.ok());
        QCOMPARE(t.error().category, Error::Category::LoginRequired);
        QCOMPARE(f.server.registrations, 1);
        QVERIFY(f.login().ok());
        QCOMPARE(f.server.registrations, 2);
    }

    void concurrentSignInsOpenOneBrowser()
    {
        EngineFixture f;
        f.startEngine();
        QList<Result<TokenSet>> results;
        for (int i = 0; i < 5; ++i)
            f.engine->login(f.server.mcpUrl(), QString(), f.engine.get(),
                            [&](Result<TokenSet> r) { results << r; });
        QTRY_COMPARE(results.size(), 5);
        QCOMPARE(f.browser.launches, 1);
        QCOMPARE(f.server.authorizations, 1);
        for (const auto &r : results)
            QVERIFY(r.ok());
    }

    void restartUsesStoredTokensWithoutSignIn()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        const QString access = f.server.lastAccessToken;
        f.startEngine(); // a new engine over the same state file and secret store
        const Result<TokenSet> t = f.token();
        QVERIFY(t.ok());
        QCOMPARE(t->accessToken, access);
        QCOMPARE(f.browser.launches, 1);
        f.clock.advance(3600);
        QVERIFY(f.token().ok()); // and it can refresh: metadata and client came back from the state file
        QCOMPARE(f.server.refreshGrants, 1);
    }

    void clientSecretSurvivesRestart()
    {
        EngineFixture f;
        f.server.registrationAuthMethod = QStringLiteral("client_secret_basic");
        f.startEngine();
        QVERIFY(f.login().ok());
        f.startEngine();
        f.clock.advance(3600);
        const Result<TokenSet> t = f.token();
        QVERIFY2(t.ok(), qPrintable(t ? QString() : t.error().message));
        QCOMPARE(f.server.refreshGrants, 1);
        // The secret never reached the state file.
        QFile state(f.dir.filePath(QStringLiteral("state.json")));
        QVERIFY(state.open(QIODevice::ReadOnly));
        const QByteArray onDisk = state.readAll();
        for (const QString &secret : f.server.issuedSecrets())
            QVERIFY2(!onDisk.contains(secret.toUtf8()), "a secret reached the state file");
    }

    void logoutRevokesAndForgets()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        std::optional<Result<bool>> out;
        f.engine->logout(f.server.mcpUrl(), f.engine.get(), [&](Result<bool> r) { out.emplace(r); });
        QTRY_VERIFY(out.has_value());
        QVERIFY(out->ok());
        QVERIFY(out->value());
        QCOMPARE(f.server.revocations, 1);
        QVERIFY(f.store.storedRefreshToken().isEmpty());
        const Result<TokenSet> t = f.token();
        QVERIFY(!t.ok());
        QCOMPARE(t.error().category, Error::Category::LoginRequired);
    }

    // server/configure: a static client is used instead of DCR, its secret is only in the secret
    // store, and both survive a restart.
    void staticClientPersistedWithoutSecretInFile()
    {
        EngineFixture f;
        f.server.addClient(QStringLiteral("static-client"), QStringLiteral("static-Secret-Zq"));
        f.startEngine();
        QVERIFY(f.configure(Json{{"clientInfo",
                                  {{"client_id", "static-client"}, {"client_secret", "static-Secret-Zq"}}},
                                 {"clientMetadataUrl", "https://app.example/cimd.json"}})
                    .ok());
        QFile file(f.dir.filePath(QStringLiteral("state.json")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray state = file.readAll();
        QVERIFY(state.contains("static-client"));
        QVERIFY(!state.contains("static-Secret-Zq"));

        f.engine.reset();
        f.startEngine(); // a restart reads the config and the secret back
        const Result<TokenSet> in = f.login();
        QVERIFY2(in.ok(), qPrintable(in ? QString() : in.error().message));
        QCOMPARE(f.server.registrations, 0);
        QCOMPARE(f.authorizeParam("client_id"), QStringLiteral("static-client"));
        // A secret and an AS that takes client_secret_basic: HTTP Basic (conformance pre-registration).
        QCOMPARE(f.server.tokenAuthorizationHeaders.last(),
                 TokenClient::basicAuthHeader(QStringLiteral("static-client"),
                                              QStringLiteral("static-Secret-Zq")));
    }

    void staticClientPostOnlyServer()
    {
        EngineFixture f;
        f.server.tokenAuthMethods = {QStringLiteral("client_secret_post")};
        f.server.addClient(QStringLiteral("static-client"), QStringLiteral("static-Secret-Zq"));
        f.startEngine();
        QVERIFY(f.configure(Json{{"clientInfo",
                                  {{"client_id", "static-client"}, {"client_secret", "static-Secret-Zq"}}}})
                    .ok());
        QVERIFY(f.login().ok());
        QVERIFY(f.server.tokenAuthorizationHeaders.last().isEmpty());
        QCOMPARE(f.tokenParam("client_secret"), QStringLiteral("static-Secret-Zq"));
    }

    // CIMD: client_id = the document URL, no registration; only when the server advertises it.
    void clientMetadataDocument_data()
    {
        QTest::addColumn<bool>("advertised");
        QTest::newRow("advertised") << true;
        QTest::newRow("not advertised: DCR") << false;
    }
    void clientMetadataDocument()
    {
        QFETCH(bool, advertised);
        EngineFixture f;
        f.server.advertiseCimd = advertised;
        f.startEngine();
        const QString url = QStringLiteral("https://conformance-test.local/client-metadata.json");
        QVERIFY(f.configure(Json{{"clientMetadataUrl", toStd(url)}}).ok());
        const Result<TokenSet> in = f.login();
        QVERIFY2(in.ok(), qPrintable(in ? QString() : in.error().message));
        QCOMPARE(f.server.registrations, advertised ? 0 : 1);
        QCOMPARE(f.authorizeParam("client_id") == url, advertised);
        if (advertised)
            QCOMPARE(f.tokenParam("client_id"), url);
    }

    // Extra authorize params, the resource override in authorization, code and refresh requests,
    // and the configured DCR metadata (whitelisted) in the registration body.
    void authorizeParamsResourceOverrideAndMetadata()
    {
        EngineFixture f;
        f.startEngine();
        const QString resource = QStringLiteral("https://api.example.com/");
        QVERIFY(f.configure(Json{{"authorizeParams", {{"audience", "api"}, {"state", "evil"}}},
                                 {"resourceOverride", toStd(resource)},
                                 {"clientMetadata",
                                  {{"client_name", "My Host"},
                                   {"client_uri", "https://host.example"},
                                   {"redirect_uris", {"https://evil.example/cb"}},
                                   {"token_endpoint_auth_method", "client_secret_post"}}}})
                    .ok());
        QVERIFY(f.login().ok());
        QCOMPARE(f.authorizeParam("audience"), QStringLiteral("api"));
        QCOMPARE(f.server.authorizeRequests.last().allQueryItemValues(QStringLiteral("state")).size(), 1);
        QVERIFY(f.authorizeParam("state") != QLatin1String("evil"));
        QCOMPARE(f.authorizeParam("resource"), resource);
        QCOMPARE(f.tokenParam("resource"), resource);
        const Json reg = Json::parse(f.server.registrationBodies.last().toStdString());
        QCOMPARE(jsonString(reg, "client_name"), QStringLiteral("My Host"));
        QCOMPARE(jsonString(reg, "client_uri"), QStringLiteral("https://host.example"));
        QCOMPARE(jsonString(reg, "token_endpoint_auth_method"), QStringLiteral("none"));
        QVERIFY(!QString::fromUtf8(f.server.registrationBodies.last()).contains(QLatin1String("evil")));

        f.clock.advance(3600);
        QVERIFY(f.token().ok());
        QCOMPARE(f.tokenParam("grant_type"), QStringLiteral("refresh_token"));
        QCOMPARE(f.tokenParam("resource"), resource);
    }

    // login/start with the challenge the proxy saw: no probe, the challenge's scope is requested.
    void challengeSkipsProbeAndSetsScope()
    {
        EngineFixture f;
        f.startEngine();
        BearerChallenge c;
        c.present = true;
        c.resourceMetadata =
            QUrl(f.server.issuer() + QStringLiteral("/.well-known/oauth-protected-resource/mcp"));
        c.scope = QStringLiteral("mcp:special");
        const Result<TokenSet> in = f.loginWith(QString(), {c, false});
        QVERIFY2(in.ok(), qPrintable(in ? QString() : in.error().message));
        QCOMPARE(f.server.mcpRequests, 0);
        QCOMPARE(f.authorizeParam("scope"), QStringLiteral("mcp:special offline_access"));
    }

    // Step-up: the caller's full scope is requested exactly (plus offline_access, offered here);
    // the tokens held are replaced only when the new sign-in succeeds.
    void stepUpRequestsExactScopeAndKeepsTokensOnFailure()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        const QString before = f.server.lastAccessToken;
        f.server.tokenFailure = FakeAuthServer::TokenFailure::ServerError;
        QVERIFY(!f.loginWith(QStringLiteral("mcp:tools mcp:write"), {std::nullopt, true}).ok());
        QCOMPARE(f.authorizeParam("scope"), QStringLiteral("mcp:tools mcp:write offline_access"));
        Result<TokenSet> kept = f.token();
        QVERIFY(kept.ok());
        QCOMPARE(kept->accessToken, before);

        f.server.tokenFailure = FakeAuthServer::TokenFailure::None;
        QVERIFY(f.loginWith(QStringLiteral("mcp:write mcp:tools"), {std::nullopt, true}).ok());
        QCOMPARE(f.authorizeParam("scope"), QStringLiteral("mcp:write mcp:tools offline_access"));
        QCOMPARE(f.token()->accessToken, f.server.lastAccessToken);
    }

    // MCP 2025-03-26 servers: no PRM → the origin is the issuer; no metadata → /authorize, /token,
    // /register at the origin. `resource` is still sent. Works again after a restart (refresh).
    void legacyServerWithoutMetadata()
    {
        EngineFixture f;
        f.server.publishResourceMetadata = false;
        f.server.publishServerMetadata = false;
        f.startEngine();
        const Result<TokenSet> in = f.login();
        QVERIFY2(in.ok(), qPrintable(in ? QString() : in.error().message));
        QCOMPARE(f.server.registrations, 1);
        QCOMPARE(f.authorizeParam("resource"), f.server.mcpUrl().toString());
        QCOMPARE(f.tokenParam("resource"), f.server.mcpUrl().toString());
        f.engine.reset();
        f.startEngine();
        f.clock.advance(3600);
        QVERIFY(f.token().ok());
        QCOMPARE(f.server.refreshGrants, 1);
    }

    // Issue 6.7: a keychain that went away (or came back empty and locked) is "keychain
    // unavailable", never "not signed in"; once it works again, a missing entry is a sign-out.
    void keychainThatComesBackEmptyIsNotASignOut()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.engine.reset();
        const QStringList keys = f.store.current.keys();
        for (const QString &key : keys)
            f.store.remove(key, this, [](Status) {});
        QTRY_VERIFY(f.store.current.isEmpty());
        f.store.failWrites = true;
        f.startEngine();
        const Result<TokenSet> gone = f.token();
        QVERIFY(!gone.ok());
        QCOMPARE(gone.error().category, Error::Category::Keychain);
        QCOMPARE(f.engine->servers().first().state, ServerState::SignedIn); // nothing forgotten

        f.store.failWrites = false; // the keychain works: the entry really is gone
        const Result<TokenSet> absent = f.token();
        QVERIFY(!absent.ok());
        QCOMPARE(absent.error().category, Error::Category::LoginRequired);
    }

    // Issue 6.7: token/get and logout for servers nobody signed in to keep no state at all.
    void unknownServersLeaveNoState()
    {
        EngineFixture f;
        f.startEngine();
        int answered = 0;
        for (int i = 0; i < 2000; ++i) {
            const QUrl junk(QStringLiteral("http://127.0.0.1:9/junk/%1").arg(i));
            f.engine->token(junk, QString(), 60, f.engine.get(), [&answered](Result<TokenSet> r) {
                answered += !r && r.error().category == Error::Category::LoginRequired;
            });
        }
        bool revoked = true;
        f.engine->logout(QUrl(QStringLiteral("http://127.0.0.1:9/junk/x")), f.engine.get(),
                         [&](Result<bool> r) { revoked = r.ok() && r.value(); });
        QTRY_COMPARE(answered, 2000);
        QVERIFY(!revoked);
        QCOMPARE(f.engine->findChildren<ServerSession *>().size(), 0);
        QVERIFY(f.engine->servers().isEmpty());
        QFile state(f.dir.filePath(QStringLiteral("state.json")));
        QVERIFY(!state.exists() || (state.open(QIODevice::ReadOnly) && !state.readAll().contains("junk")));
    }

    void failedFirstSignInsAreCapped()
    {
        EngineFixture f;
        f.startEngine();
        const int n = 40;
        int failed = 0;
        for (int i = 0; i < n; ++i) // nothing listens on port 9: each fails at the probe
            f.engine->login(QUrl(QStringLiteral("http://127.0.0.1:9/failed/%1").arg(i)), QString(),
                            f.engine.get(), [&failed](Result<TokenSet> r) { failed += !r; });
        QTRY_COMPARE_WITH_TIMEOUT(failed, n, 20000);
        QTest::qWait(10); // deleteLater of the dropped sessions
        const QList<ServerStatus> listed = f.engine->servers();
        QVERIFY2(listed.size() <= 32, qPrintable(QString::number(listed.size())));
        QVERIFY(listed.size() >= 16);
        const QString latest = QStringLiteral("http://127.0.0.1:9/failed/%1").arg(n - 1);
        QVERIFY(std::any_of(listed.begin(), listed.end(),
                            [&](const ServerStatus &s) { return s.resource == latest; }));
        QVERIFY(!listed.first().lastError.isEmpty());
    }

    // Issue 6.2: a callback without the sign-in's state (anyone on the machine can send one) is
    // answered with an error page and ignored; the real one that follows still signs in.
    void forgedCallbackIsIgnoredAndTheRealOneSignsIn()
    {
        EngineFixture f;
        f.browser.tamper = [](QUrlQuery &q) {
            q.removeAllQueryItems(QStringLiteral("state"));
            q.addQueryItem(QStringLiteral("state"), QStringLiteral("forged"));
            q.removeAllQueryItems(QStringLiteral("code"));
            q.addQueryItem(QStringLiteral("code"), QStringLiteral("attacker-code"));
        };
        f.browser.thenRealCallback = true;
        f.startEngine();
        const Result<TokenSet> r = f.login();
        QVERIFY2(r.ok(), qPrintable(r ? QString() : r.error().message));
        QCOMPARE(f.browser.tamperedStatus, 400);
        QCOMPARE(f.server.codeGrants, 1); // only the real code was exchanged
    }

    void wrongIssInCallbackIsRefused()
    {
        EngineFixture f;
        f.browser.tamper = [&](QUrlQuery &q) {
            q.removeAllQueryItems(QStringLiteral("iss"));
            q.addQueryItem(QStringLiteral("iss"), f.server.issuer() + QStringLiteral("/"));
        };
        f.startEngine();
        const Result<TokenSet> r = f.login();
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("iss_mismatch"));
        QCOMPARE(f.server.codeGrants, 0);
    }
};

QTEST_GUILESS_MAIN(TestAuthEngine)
#include "TestAuthEngine.moc"
