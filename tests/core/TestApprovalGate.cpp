#include "SameUserIdentity.h"
#include "approvals/ApprovalGate.h"
#include "common/Clock.h"
#include "storage/StateFile.h"

#include <QCoreApplication>
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

/// What one check() answered, and whether it answered at all.
struct Outcome
{
    bool answered = false;
    Status status = okStatus();
};

} // namespace

/// Issue 8.3: the user decides which app may act for them at which server.
class TestApprovalGate : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<StateFile> m_state;
    ManualClock m_clock{1'700'000'000};
    std::shared_ptr<FakeProcess> m_process;
    QList<std::shared_ptr<QObject>> m_contexts;

    std::unique_ptr<ApprovalGate> gate(ApprovalGate::Options options = {})
    {
        return std::make_unique<ApprovalGate>(*m_state, m_clock, options);
    }
    /// An app of ours: this test binary, as if it ran as pid 4242 behind `mcp-auth`.
    AccessRequest request(const char *server = "https://mcp.example.com/mcp", qint64 pid = 4242)
    {
        AccessRequest r;
        r.caller.known = true;
        r.caller.pid = 100;
        r.caller.processChain = {QStringLiteral("/usr/bin/mcp-auth"),
                                 QCoreApplication::applicationFilePath()};
        r.caller.app.pid = pid;
        r.caller.app.executable = QCoreApplication::applicationFilePath();
        r.caller.app.via = QStringLiteral("mcp-auth");
        r.caller.app.binaryPath = QCoreApplication::applicationFilePath();
        r.caller.app.fingerprint = QStringLiteral("test-binary");
        r.caller.app.process = m_process;
        r.method = QStringLiteral("token/get");
        r.resource = QUrl(QString::fromUtf8(server));
        r.scope = QStringLiteral("mcp:tools");
        return r;
    }
    /// Runs check() with a fresh context (a stand-in for the connection); the outcome fills in later.
    std::shared_ptr<Outcome> ask(ApprovalGate &g, const AccessRequest &r)
    {
        auto context = std::make_shared<QObject>();
        m_contexts << context;
        auto outcome = std::make_shared<Outcome>();
        g.check(r, context.get(), [outcome](Status st) {
            outcome->answered = true;
            outcome->status = st;
        });
        return outcome;
    }
    static QString pendingId(const ApprovalGate &g, int i = 0)
    {
        return jsonString(g.pending()[size_t(i)], "id");
    }
    static QString reason(const Outcome &o) { return o.status ? QString() : o.status.error().reason; }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/mcpag-XXXXXX"));
        m_state = std::make_unique<StateFile>(m_dir->filePath(QStringLiteral("state.json")));
        QVERIFY(m_state->load());
        m_process = std::make_shared<FakeProcess>();
        m_contexts.clear();
    }
    void cleanup()
    {
        m_contexts.clear();
        m_state.reset();
        m_dir.reset();
    }

    void offLetsEveryoneThrough()
    {
        auto g = gate({false, 60});
        const auto o = ask(*g, request());
        QVERIFY(o->answered && o->status);
        QCOMPARE(g->pending().size(), size_t(0));
    }

    void anAppThatCannotBeToldIsDenied()
    {
        auto g = gate();
        AccessRequest r = request();
        r.caller.app = AppIdentity();
        const auto o = ask(*g, r);
        QVERIFY(o->answered && !o->status);
        QCOMPARE(reason(*o), QStringLiteral("identity"));
    }

    void concurrentRequestsShareOneDecisionAndOnceRemembersNothing()
    {
        auto g = gate();
        const auto a = ask(*g, request());
        const auto b = ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1)); // after the binary is hashed
        QCOMPARE(g->pending()[0].value("waiting", 0), 2);
        const Json p = g->pending()[0];
        QCOMPARE(jsonString(p, "server"), QStringLiteral("https://mcp.example.com/mcp"));
        QCOMPARE(jsonString(p, "app"), QStringLiteral("TestApprovalGate via mcp-auth"));
        QCOMPARE(jsonString(p, "scopes"), QStringLiteral("mcp:tools"));
        QCOMPARE(jsonInt(p, "expiresAt").value_or(0), m_clock.now() + 60);
        QVERIFY(!a->answered && !b->answered);
        QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::Once, AppIdentity()));
        QVERIFY(a->answered && a->status && b->answered && b->status);
        QCOMPARE(g->pending().size(), size_t(0));
        QCOMPARE(g->grants().size(), size_t(0));
        const auto c = ask(*g, request()); // once was once
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(!c->answered);
        // Another server of the same app is another question.
        ask(*g, request("https://other.example.com/mcp"));
        QTRY_COMPARE(g->pending().size(), size_t(2));
    }

    void denyAndTimeoutSayWhy()
    {
        auto g = gate({true, 1});
        const auto denied = ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::Deny, AppIdentity()));
        QVERIFY(denied->answered && !denied->status);
        QCOMPARE(reason(*denied), QStringLiteral("user"));
        QCOMPARE(denied->status.error().code, QStringLiteral("approval_denied"));

        const auto late = ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QTRY_VERIFY_WITH_TIMEOUT(late->answered, 3000);
        QCOMPARE(reason(*late), QStringLiteral("timeout"));
        QCOMPARE(g->pending().size(), size_t(0));
    }

    void alwaysSurvivesARestartAndIsKeyedOnTheBinary()
    {
        {
            auto g = gate();
            ask(*g, request());
            QTRY_COMPARE(g->pending().size(), size_t(1));
            QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::Always, AppIdentity()));
            QCOMPARE(g->grants().size(), size_t(1));
            QCOMPARE(jsonString(g->grants()[0], "kind"), QStringLiteral("always"));
            QCOMPARE(jsonString(g->grants()[0], "sha256").size(), 64);
        }
        StateFile reread(m_state->path());
        Result<Json> doc = reread.load();
        QVERIFY(doc && (*doc)["approvals"]["grants"].size() == 1); // in the state file, no secret in it
        m_state = std::make_unique<StateFile>(m_state->path());    // the agent starts again
        QVERIFY(m_state->load());
        auto g = gate();
        m_clock.advance(30);
        const auto o = ask(*g, request());
        QTRY_VERIFY(o->answered);
        QVERIFY(o->status);
        QCOMPARE(jsonInt(g->grants()[0], "lastUsedAt").value_or(0), m_clock.now());
        QCOMPARE(jsonInt(g->grants()[0], "uses").value_or(0), 1);
        // Another binary at the same path (an update, or a swap) is asked about again.
        AccessRequest swapped = request();
        swapped.caller.app.binaryPath = QStringLiteral("/bin/sh");
        swapped.caller.app.fingerprint = QStringLiteral("another-binary");
        const auto again = ask(*g, swapped);
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(!again->answered);
    }

    void whileRunningEndsWithTheApp()
    {
        auto g = gate();
        ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::WhileRunning, AppIdentity()));
        QCOMPARE(jsonString(g->grants()[0], "kind"), QStringLiteral("while-running"));
        const auto o = ask(*g, request());
        QTRY_VERIFY(o->answered && o->status);
        // Not another process of the same program.
        ask(*g, request("https://mcp.example.com/mcp", 5151));
        QTRY_COMPARE(g->pending().size(), size_t(1));
        m_process->running = false;
        const auto after = ask(*g, request());
        QTest::qWait(50);
        QVERIFY(!after->answered);
        StateFile reread(m_state->path());
        QVERIFY(!reread.load()->contains("approvals") || (*reread.load())["approvals"]["grants"].empty());
    }

    // The broker's hot path asks allowsNow(): yes only for a standing grant (or approvals off),
    // counted as a use; never for "once", an unhashed binary, a revoked grant or an exited app.
    void allowsNowOnlyForAStandingGrant()
    {
        QVERIFY(gate({false, 60})->allowsNow(request()));
        auto g = gate();
        QVERIFY(!g->allowsNow(request())); // nothing decided, binary not even hashed yet
        ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::Once, AppIdentity()));
        QVERIFY(!g->allowsNow(request())); // once was once
        ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::WhileRunning, AppIdentity()));
        m_clock.advance(5);
        QVERIFY(g->allowsNow(request()));
        QVERIFY(g->allowsNow(request()));
        QCOMPARE(g->grants()[0].value("uses", 0), 2);
        QCOMPARE(jsonInt(g->grants()[0], "lastUsedAt").value_or(0), m_clock.now());
        QVERIFY(!g->allowsNow(request("https://other.example.com/mcp")));
        QVERIFY(!g->allowsNow(request("https://mcp.example.com/mcp", 5151))); // another process
        m_process->running = false;
        QVERIFY(!g->allowsNow(request()));
    }

    void anAppCannotApproveItself()
    {
        auto g = gate();
        const AccessRequest r = request();
        ask(*g, r);
        QTRY_COMPARE(g->pending().size(), size_t(1));
        const Status st = g->decide(pendingId(*g), ApprovalGate::Decision::Always, r.caller.app);
        QVERIFY(!st);
        QCOMPARE(st.error().reason, QStringLiteral("identity"));
        QCOMPARE(g->pending().size(), size_t(1));
        QVERIFY(!g->decide(QStringLiteral("a-nothere"), ApprovalGate::Decision::Once, AppIdentity()));
    }

    void aCallerThatLeavesTakesItsRequestAway()
    {
        auto g = gate();
        ask(*g, request());
        QTRY_COMPARE(g->pending().size(), size_t(1));
        m_contexts.clear(); // the connection closed
        QCOMPARE(g->pending().size(), size_t(0));
    }

    void grantsAreRevokedByIdOrByApp()
    {
        auto g = gate();
        for (const char *server : {"https://a.example.com/mcp", "https://b.example.com/mcp"}) {
            ask(*g, request(server));
            QTRY_COMPARE(g->pending().size(), size_t(1));
            QVERIFY(g->decide(pendingId(*g), ApprovalGate::Decision::Always, AppIdentity()));
        }
        QCOMPARE(g->grants().size(), size_t(2));
        QCOMPARE(g->revoke(QString(), QCoreApplication::applicationFilePath(),
                           QStringLiteral("https://a.example.com/mcp")),
                 1);
        QCOMPARE(g->grants().size(), size_t(1));
        QCOMPARE(g->revoke(jsonString(g->grants()[0], "id"), QString(), QString()), 1);
        QCOMPARE(g->grants().size(), size_t(0));
        StateFile reread(m_state->path());
        QCOMPARE((*reread.load())["approvals"]["grants"].size(), size_t(0));
    }

    void aStoredPathGrantWithoutItsHashIsIgnored()
    {
        QVERIFY(!Grant::fromJson(
            Json{{"id", "g-1"}, {"kind", "always"}, {"appKey", "/usr/bin/x"}, {"server", "https://s/"}}));
        QVERIFY(Grant::fromJson(
            Json{{"id", "g-1"}, {"kind", "always"}, {"appKey", "flatpak:org.x"}, {"server", "https://s/"}}));
        QVERIFY(!Grant::fromJson(Json{{"id", "g-1"},
                                      {"kind", "while-running"},
                                      {"appKey", "flatpak:org.x"},
                                      {"server", "https://s/"}}));
    }

    void theEnginesSaveKeepsTheApprovals()
    {
        // Two owners of one state file: each writes its own keys.
        QVERIFY(m_state->update([](Json &doc) { doc["approvals"] = Json{{"grants", Json::array({1})}}; }));
        QVERIFY(m_state->update([](Json &doc) { doc["servers"] = Json{{"x", 1}}; }));
        StateFile reread(m_state->path());
        const Json doc = reread.load().value();
        QVERIFY(doc["approvals"]["grants"].size() == 1);
        QVERIFY(doc["servers"]["x"] == 1);
    }
};

QTEST_GUILESS_MAIN(TestApprovalGate)
#include "TestApprovalGate.moc"
