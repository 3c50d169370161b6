#include "FakeAuthServer.h"
#include "FakeBrowser.h"
#include "engine/AuthEngine.h"
#include "storage/MemorySecretStore.h"
#include "storage/StateFile.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {
QStringList g_log;
void capture(QtMsgType, const QMessageLogContext &ctx, const QString &msg)
{
    g_log << QString::fromLatin1(ctx.category ? ctx.category : "") + QLatin1Char(' ') + msg;
}
} // namespace

/// Turns every logging category on at every level, runs sign-in, refresh, a failed refresh and
/// sign-out, and checks that no token, code, state, verifier or client secret reached the log.
class TestNoSecretsInLogs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noSecretInAnyLogLine()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("*=true\n*.debug=true\nqt.*=false"));
        const QtMessageHandler previous = qInstallMessageHandler(capture);

        QTemporaryDir dir;
        FakeAuthServer server;
        QVERIFY(server.listen());
        server.registrationAuthMethod = QStringLiteral("client_secret_post");
        FakeBrowser browser;
        ManualClock clock;
        QNetworkAccessManager nam;
        HttpClient http(&nam);
        MemorySecretStore store;
        StateFile stateFile(dir.filePath(QStringLiteral("state.json")));
        AuthEngine engine(http, clock, store, stateFile, browser, AuthEngine::Options{});
        bool started = false;
        engine.start(&engine, [&](Status) { started = true; });
        QTRY_VERIFY(started);

        int answers = 0;
        engine.login(server.mcpUrl(), QString(), &engine, [&](Result<TokenSet> r) {
            QVERIFY(r.ok());
            ++answers;
        });
        QTRY_COMPARE(answers, 1);
        clock.advance(7200);
        engine.token(server.mcpUrl(), QString(), 60, &engine, [&](Result<TokenSet> r) {
            QVERIFY(r.ok());
            ++answers;
        });
        QTRY_COMPARE(answers, 2);
        clock.advance(7200);
        server.tokenFailure = FakeAuthServer::TokenFailure::InvalidGrant;
        engine.token(server.mcpUrl(), QString(), 60, &engine, [&](Result<TokenSet> r) {
            QVERIFY(!r.ok());
            ++answers;
        });
        QTRY_COMPARE(answers, 3);
        server.tokenFailure = FakeAuthServer::TokenFailure::None;
        engine.login(server.mcpUrl(), QString(), &engine, [&](Result<TokenSet> r) {
            QVERIFY(r.ok());
            ++answers;
        });
        QTRY_COMPARE(answers, 4);
        engine.logout(server.mcpUrl(), &engine, [&](Result<bool> r) {
            QVERIFY(r.ok());
            ++answers;
        });
        QTRY_COMPARE(answers, 5);

        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());

        QVERIFY2(g_log.size() > 10, "logging was not captured; the test would prove nothing");
        const QStringList secrets = server.issuedSecrets();
        QVERIFY(secrets.size() >= 8);
        for (const QString &line : std::as_const(g_log))
            for (const QString &secret : secrets)
                QVERIFY2(!line.contains(secret),
                         qPrintable(QStringLiteral("secret in log line: ") + line.left(80)));
        // PKCE verifiers never leave the process except to the token endpoint: check those too.
        for (const QUrlQuery &q : std::as_const(server.tokenRequests)) {
            const QString verifier = q.queryItemValue(QStringLiteral("code_verifier"));
            for (const QString &line : std::as_const(g_log))
                QVERIFY(verifier.isEmpty() || !line.contains(verifier));
        }
    }
};

QTEST_GUILESS_MAIN(TestNoSecretsInLogs)
#include "TestNoSecretsInLogs.moc"
