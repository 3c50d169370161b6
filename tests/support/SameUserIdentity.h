#pragma once

#include "broker/PeerIdentity.h"

#include <QStringList>

#include <unistd.h>

namespace mcpauth::test {

/// A PeerIdentityProvider for in-process tests whose answer the test sets: by default every peer
/// is "pid 1 of our own user" (the real, SO_PEERCRED one lives in platform/). `peerUid` makes it
/// report another user, `known = false` an unidentifiable peer; `pid` and `processChain` are what
/// it reports for the peer's process.
class SameUserIdentity : public PeerIdentityProvider
{
public:
    PeerInfo identify(QLocalSocket *) const override
    {
        ++calls;
        PeerInfo info;
        info.known = known;
        info.uid = peerUid;
        info.pid = pid;
        info.processChain = processChain;
        for (const QString &exe : processChain)
            info.processes.append(ProcessInfo{pid, exe, {}, {}});
        info.app = resolveApp(info.processes);
        info.connector = connector;
        return info;
    }
    qint64 currentUid() const override { return qint64(::geteuid()); }

    bool known = true;
    qint64 peerUid = qint64(::geteuid());
    qint64 pid = 1;
    QStringList processChain;
    std::shared_ptr<ProcessHandle> connector; ///< what connectorAlive() asks; none by default
    mutable int calls = 0;
};

/// A process the test ends by setting `running` to false.
struct FakeProcess : ProcessHandle
{
    bool running = true;
    bool alive() const override { return running; }
};

} // namespace mcpauth::test
