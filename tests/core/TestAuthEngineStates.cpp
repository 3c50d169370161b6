#include "EngineFixture.h"
#include "engine/AuthEngine.h"

#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

/// AuthEngine's one source of truth for server state (issue 9.1): every change is published once
/// through serverChanged(), carrying exactly what servers() lists from then on.
class TestAuthEngineStates : public QObject
{
    Q_OBJECT

    /// Records every published state, checking each against servers() at the moment it fires.
    struct Recorder
    {
        QList<ServerState> states;
        bool agreed = true;
        void attach(AuthEngine *engine)
        {
            QObject::connect(engine, &AuthEngine::serverChanged, engine,
                             [this, engine](const ServerStatus &st) {
                                 states << st.state;
                                 const QList<ServerStatus> listed = engine->servers();
                                 agreed = agreed && listed.size() == 1 && listed.first() == st;
                             });
        }
        QStringList names() const
        {
            QStringList out;
            for (ServerState s : states)
                out << serverStateName(s);
            return out;
        }
    };

    static QStringList names(std::initializer_list<ServerState> states)
    {
        QStringList out;
        for (ServerState s : states)
            out << serverStateName(s);
        return out;
    }

private Q_SLOTS:
    void signInRefreshAndSignOutArePublishedOnceEach()
    {
        EngineFixture f;
        f.startEngine();
        Recorder r;
        r.attach(f.engine.get());
        QVERIFY(f.login().ok());
        QCOMPARE(r.names(), names({ServerState::SigningIn, ServerState::SignedIn}));
        QVERIFY(f.token().ok()); // a cached token changes nothing
        QCOMPARE(r.states.size(), 2);

        f.clock.advance(3600);
        QVERIFY(f.token().ok()); // refreshed: a new expiry
        QCOMPARE(r.names(), names({ServerState::SigningIn, ServerState::SignedIn, ServerState::Refreshing,
                                   ServerState::SignedIn}));

        std::optional<Result<bool>> out;
        f.engine->logout(f.server.mcpUrl(), f.engine.get(), [&](Result<bool> res) { out.emplace(res); });
        QTRY_VERIFY(out.has_value());
        QCOMPARE(r.names().mid(4), names({ServerState::SigningOut, ServerState::SignedOut}));
        QVERIFY2(r.agreed, "serverChanged() and servers() agree at every step");
        QCOMPARE(f.engine->servers().first().state, ServerState::SignedOut);
    }

    void aLostGrantNeedsSignInAcrossRestarts()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        Recorder r;
        r.attach(f.engine.get());
        f.server.revokeAll();
        f.clock.advance(3600);
        QVERIFY(!f.token().ok());
        QCOMPARE(r.names(), names({ServerState::Refreshing, ServerState::SignInRequired}));
        QVERIFY(r.agreed);
        QVERIFY(!f.engine->servers().first().lastError.isEmpty());

        // A new agent still says so (from the state file): not "signed out", which the user chose.
        f.startEngine();
        QCOMPARE(f.engine->servers().first().state, ServerState::SignInRequired);
        QVERIFY(f.login().ok());
        QCOMPARE(f.engine->servers().first().state, ServerState::SignedIn);
    }

    void anExpiredTokenWithoutARefreshTokenNeedsSignIn()
    {
        EngineFixture f;
        f.server.issueRefreshTokens = false;
        f.startEngine();
        QVERIFY(f.login().ok());
        QCOMPARE(f.engine->servers().first().state, ServerState::SignedIn);
        f.clock.advance(3600);
        QCOMPARE(f.engine->servers().first().state, ServerState::SignInRequired);
        f.startEngine(); // from the record, before the keychain is read
        QCOMPARE(f.engine->servers().first().state, ServerState::SignInRequired);
    }

    void anExpiredTokenThatCanBeRefreshedIsExpiredNotLost()
    {
        EngineFixture f;
        f.startEngine();
        QVERIFY(f.login().ok());
        f.clock.advance(3600);
        QCOMPARE(f.engine->servers().first().state, ServerState::Expired);
    }

    // The tray's "Refresh now": one refresh grant, published like any other.
    void refreshNowRefreshes()
    {
        EngineFixture f;
        f.startEngine();
        const auto refreshNow = [&] {
            std::optional<Result<TokenSet>> out;
            f.engine->refreshNow(f.server.mcpUrl(), f.engine.get(),
                                 [&](Result<TokenSet> r) { out.emplace(r); });
            (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
            return out ? *out : Result<TokenSet>(Error::internal(QStringLiteral("no answer")));
        };
        const Result<TokenSet> before = refreshNow();
        QVERIFY(!before.ok());
        QCOMPARE(before.error().category, Error::Category::LoginRequired);
        const Result<TokenSet> in = f.login();
        QVERIFY(in.ok());
        Recorder r;
        r.attach(f.engine.get());
        const Result<TokenSet> renewed = refreshNow();
        QVERIFY(renewed.ok());
        QCOMPARE(f.server.refreshGrants, 1);
        QVERIFY(renewed.value().accessToken != in.value().accessToken);
        QCOMPARE(r.names(), names({ServerState::Refreshing, ServerState::SignedIn}));
    }

    void aFailedFirstSignInIsAnError()
    {
        EngineFixture f;
        f.browser.tamper = [&](QUrlQuery &q) {
            q.removeAllQueryItems(QStringLiteral("iss"));
            q.addQueryItem(QStringLiteral("iss"), f.server.issuer() + QStringLiteral("/"));
        };
        f.startEngine();
        Recorder r;
        r.attach(f.engine.get());
        QVERIFY(!f.login().ok());
        QCOMPARE(r.names(), names({ServerState::SigningIn, ServerState::Error}));
        QVERIFY(r.agreed);
    }
};

QTEST_GUILESS_MAIN(TestAuthEngineStates)
#include "TestAuthEngineStates.moc"
