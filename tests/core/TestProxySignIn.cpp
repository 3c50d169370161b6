#include "FakeAgent.h"
#include "broker/AgentClient.h"
#include "proxy/ProxySignIn.h"

#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

Q_DECLARE_METATYPE(mcpauth::ProxySignIn::Outcome)

// The proxy's sign-in flow against a fake agent: when it asks the agent first, when it signs in,
// what it asks for, and that it ends exactly once.
class TestProxySignIn : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_tmp;
    std::unique_ptr<FakeAgent> m_agent;
    std::unique_ptr<AgentClient> m_client;

    ProxySignIn::Outcome run(ProxySignIn::Request request, bool cancelAtOnce = false)
    {
        request.resource = QUrl(QStringLiteral("http://127.0.0.1:9/mcp"));
        ProxySignIn flow(m_client.get(), request);
        QSignalSpy done(&flow, &ProxySignIn::finished);
        flow.start();
        if (cancelAtOnce)
            flow.cancel();
        if (!QTest::qWaitFor([&] { return done.size() > 0; }, 5000))
            return {Error::internal(QStringLiteral("no outcome")), nullptr, false};
        QTest::qWait(20);
        [&] { QCOMPARE(done.size(), 1); }(); // exactly one terminal signal
        return done[0][0].value<ProxySignIn::Outcome>();
    }
    int logins() const { return int(m_agent->callsOf(QStringLiteral("login/start")).size()); }

private Q_SLOTS:
    void init()
    {
        m_tmp = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/mcps-XXXXXX"));
        m_agent = std::make_unique<FakeAgent>();
        QVERIFY(m_agent->listen(m_tmp->path() + QStringLiteral("/run/agent.sock")));
        m_client = std::make_unique<AgentClient>(m_agent->server.socketPath(), m_agent->identity);
        bool connected = false;
        m_client->connectOnly(3000, [&](Status st) { connected = st.ok(); });
        QTRY_VERIFY(connected);
    }
    void cleanup()
    {
        m_client.reset();
        m_agent.reset();
        m_tmp.reset();
    }

    void aFresherTokenNeedsNoSignIn()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-new");
        ProxySignIn::Request r;
        r.refusedToken = QStringLiteral("tok-old");
        const ProxySignIn::Outcome o = run(r);
        QVERIFY(o.status.ok());
        QCOMPARE(jsonString(o.token, "accessToken"), QStringLiteral("tok-new"));
        QVERIFY(!o.signedIn);
        QCOMPARE(logins(), 0);
    }

    void theRefusedTokenIsReplacedBySigningInAgain()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-old");
        ProxySignIn::Request r;
        r.refusedToken = QStringLiteral("tok-old");
        const ProxySignIn::Outcome o = run(r);
        QVERIFY(o.status.ok());
        QVERIFY(o.signedIn);
        QCOMPARE(logins(), 1);
        QVERIFY(m_agent->callsOf(QStringLiteral("login/start"))[0].params.value("force", false));
        QVERIFY(jsonString(o.token, "accessToken") != QStringLiteral("tok-old"));
    }

    void stepUpSignsInWithTheScopeAtOnce()
    {
        m_agent->signedIn = true;
        m_agent->token = QStringLiteral("tok-old");
        ProxySignIn::Request r;
        r.kind = ProxySignIn::Kind::StepUp;
        r.scope = QStringLiteral("mcp:basic mcp:write");
        r.challenge.present = true;
        r.challenge.scope = QStringLiteral("mcp:write");
        const ProxySignIn::Outcome o = run(r);
        QVERIFY(o.status.ok());
        QCOMPARE(m_agent->callsOf(QStringLiteral("token/get")).size(), 1); // only the one after the sign-in
        const Json params = m_agent->callsOf(QStringLiteral("login/start"))[0].params;
        QCOMPARE(jsonString(params, "scope"), QStringLiteral("mcp:basic mcp:write"));
        QCOMPARE(jsonString(params["challenge"], "scope"), QStringLiteral("mcp:write"));
    }

    void aFailedSignInIsTheOutcome()
    {
        m_agent->loginError = Error::network(QStringLiteral("unreachable"), QStringLiteral("AS down"));
        const ProxySignIn::Outcome o = run({});
        QVERIFY(!o.status.ok());
        QCOMPARE(o.status.error().code, QStringLiteral("unreachable"));
        QVERIFY(o.signedIn);
    }

    void cancelEndsItOnce()
    {
        m_agent->loginDelayMs = 200;
        const ProxySignIn::Outcome o = run({}, true);
        QCOMPARE(o.status.error().category, Error::Category::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestProxySignIn)
#include "TestProxySignIn.moc"
