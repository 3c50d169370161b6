#include "ProcessHardening.h"

#include <algorithm>

#include <sys/prctl.h>
#include <sys/resource.h>

namespace mcpauth {

bool hardenProcess()
{
    // setrlimit(2): a soft and hard limit of 0 writes no core at all, whatever core_pattern says,
    // except for a pipe handler (systemd-coredump), which PR_SET_DUMPABLE 0 stops as well.
    const struct rlimit none = {0, 0};
    const bool noCore = ::setrlimit(RLIMIT_CORE, &none) == 0;
    // prctl(2): not dumpable also makes /proc/<pid>/{mem,environ,...} root-owned and forbids
    // ptrace attach by same-uid processes without CAP_SYS_PTRACE. It survives exec only for
    // set-uid programs, so children we start (the browser, the agent) are untouched; the agent
    // hardens itself.
    const bool notDumpable = ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    return noCore && notDumpable;
}

long raiseOpenFileLimit(long wanted)
{
    struct rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    const rlim_t target =
        limit.rlim_max == RLIM_INFINITY ? rlim_t(wanted) : std::min(rlim_t(wanted), limit.rlim_max);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
        limit.rlim_cur = target;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
            (void)::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur == RLIM_INFINITY ? wanted : long(limit.rlim_cur);
}

} // namespace mcpauth
