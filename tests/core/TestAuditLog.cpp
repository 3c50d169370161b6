#include "audit/AuditLog.h"
#include "common/Clock.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;

/// Issue 8.4: the audit log, one JSON line per event, hand-outs counted, never on the hot path.
class TestAuditLog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eventsAreLinesAndHandOutsAreCounted()
    {
        QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/mcpaudit-XXXXXX"));
        const QString path = dir.filePath(QStringLiteral("state/audit.log"));
        ManualClock clock(1'700'000'000);
        AuditLog log(path, clock, AuditLog::Options{});
        for (int i = 0; i < 1000; ++i) {
            log.countToken(QStringLiteral("cursor via mcp-auth"), QStringLiteral("/opt/cursor"),
                           QStringLiteral("https://a.example/mcp"), QStringLiteral("ok"));
            clock.advance(i % 100 == 0 ? 1 : 0);
        }
        log.countToken(QStringLiteral("cursor via mcp-auth"), QStringLiteral("/opt/cursor"),
                       QStringLiteral("https://a.example/mcp"), QStringLiteral("denied: user"));
        QVERIFY(!QFile::exists(path)); // counting touches no disk
        log.record(QStringLiteral("signin"), Json{{"app", "cursor via mcp-auth"},
                                                  {"server", "https://a.example/mcp"},
                                                  {"issuer", "https://id.example"},
                                                  {"outcome", "ok"}});
        log.flush();
        QCOMPARE(QFile(path).permissions() &
                     (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
                 QFile::Permissions());
        const QList<Json> all = AuditLog::read(path, [](const Json &) { return true; });
        QCOMPARE(all.size(), 3);
        QCOMPARE(jsonString(all[0], "event"), QStringLiteral("signin"));
        QCOMPARE(jsonString(all[0], "time"), QStringLiteral("2023-11-14T22:13:30Z"));
        qint64 handedOut = 0;
        for (const Json &e : all)
            if (jsonString(e, "event") == QLatin1String("token") &&
                jsonString(e, "outcome") == QLatin1String("ok"))
                handedOut += jsonInt(e, "count").value_or(0);
        QCOMPARE(handedOut, 1000);
        const QList<Json> denied = AuditLog::read(
            path, [](const Json &e) { return jsonString(e, "outcome").startsWith(QLatin1String("denied")); });
        QCOMPARE(denied.size(), 1);
    }

    void rotatesBySizeAndKeepsReadingTheOldFiles()
    {
        QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/mcpaudit-XXXXXX"));
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        ManualClock clock;
        AuditLog log(path, clock, AuditLog::Options{2000, 2, 60'000});
        for (int i = 0; i < 100; ++i)
            log.record(QStringLiteral("refresh"), Json{{"server", "https://a.example/mcp"}, {"n", i}});
        QVERIFY(QFile::exists(path + QStringLiteral(".1")));
        QVERIFY(QFile::exists(path + QStringLiteral(".2")));
        QVERIFY(!QFile::exists(path + QStringLiteral(".3"))); // only keepFiles are kept
        QVERIFY(QFileInfo(path).size() <= 2000 + 200);
        const QList<Json> kept = AuditLog::read(
            path, [](const Json &) { return true; }, 2);
        QVERIFY(kept.size() > 10 && kept.size() < 100);
        QCOMPARE(kept.last().value("n", -1), 99); // oldest first, newest last
        for (qsizetype i = 1; i < kept.size(); ++i)
            QVERIFY(kept[i].value("n", 0) > kept[i - 1].value("n", 0));
    }

    void countsStayBoundedWhateverCallersSend()
    {
        QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/mcpaudit-XXXXXX"));
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        ManualClock clock;
        AuditLog log(path, clock, AuditLog::Options{});
        for (int i = 0; i < int(AuditLog::maxCounts) + 10; ++i)
            log.countToken(QStringLiteral("a"), QStringLiteral("/bin/a"),
                           QStringLiteral("https://s%1.example/").arg(i), QStringLiteral("login_required"));
        // Written early, not held: 50,000 distinct URLs must not grow the agent.
        QCOMPARE(AuditLog::read(path, [](const Json &) { return true; }).size(),
                 qsizetype(AuditLog::maxCounts));
    }

    void noPathRecordsNothing()
    {
        ManualClock clock;
        AuditLog log(QString(), clock, AuditLog::Options{});
        log.record(QStringLiteral("signin"), Json::object());
        log.countToken(QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("ok"));
        log.flush();
        QVERIFY(AuditLog::read(QString(), [](const Json &) { return true; }).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAuditLog)
#include "TestAuditLog.moc"
