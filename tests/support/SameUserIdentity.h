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
        return info;
    }
    qint64 currentUid() const override { return qint64(::geteuid()); }

    bool known = true;
    qint64 peerUid = qint64(::geteuid());
    qint64 pid = 1;
    QStringList processChain;
    mutable int calls = 0;
};

} // namespace mcpauth::test
