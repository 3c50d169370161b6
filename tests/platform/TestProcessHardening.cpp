#include "ProcessHardening.h"

#include <QTest>

#include <algorithm>

#include <sys/prctl.h>
#include <sys/resource.h>

using namespace mcpauth;

/// Issue 6.4: after hardenProcess() a crash writes no core and no peer can read our memory.
/// (The e2e attack tests check the real binaries from outside, through /proc.)
class TestProcessHardening : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void openFileLimitIsRaisedWithinTheHardLimit()
    {
        struct rlimit limit = {};
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &limit), 0);
        const rlim_t hard = limit.rlim_max;
        limit.rlim_cur = 256; // as low as a desktop might start us
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &limit), 0);
        const long wanted = hard == RLIM_INFINITY ? 4096 : long(std::min<rlim_t>(4096, hard));
        QCOMPARE(mcpauth::raiseOpenFileLimit(4096), wanted);
        QCOMPARE(::getrlimit(RLIMIT_NOFILE, &limit), 0);
        QCOMPARE(long(limit.rlim_cur), wanted);
        QCOMPARE(limit.rlim_max, hard);                     // the hard limit is never touched
        QCOMPARE(mcpauth::raiseOpenFileLimit(100), wanted); // never lowered
    }
    void noCoreAndNotDumpable()
    {
        QCOMPARE(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1); // what every process starts with
        QVERIFY(hardenProcess());
        QCOMPARE(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
        struct rlimit core = {};
        QCOMPARE(::getrlimit(RLIMIT_CORE, &core), 0);
        QCOMPARE(core.rlim_cur, rlim_t(0));
        QCOMPARE(core.rlim_max, rlim_t(0)); // the hard limit too: nothing can raise it again
        QVERIFY(hardenProcess());           // idempotent
    }
};

QTEST_GUILESS_MAIN(TestProcessHardening)
#include "TestProcessHardening.moc"
