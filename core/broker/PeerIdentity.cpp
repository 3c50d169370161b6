#include "broker/PeerIdentity.h"

#include <QFileInfo>

namespace mcpauth {

namespace {

// Our own command-line client: when it is the peer, the interesting app is whoever started it.
const QString kClientName = QStringLiteral("mcp-auth");

QString baseName(const QString &path)
{
    return QFileInfo(path).fileName();
}

} // namespace

QString PeerInfo::displayName() const
{
    if (processChain.isEmpty())
        return pid >= 0 ? QStringLiteral("process %1").arg(pid) : QStringLiteral("unknown process");
    const QString peer = baseName(processChain.first());
    // "cursor via mcp-auth": a host running `mcp-auth proxy` is identified by the host, not by the
    // proxy every host shares. Skip nested mcp-auth processes to reach the app that started them.
    if (peer != kClientName)
        return peer;
    for (qsizetype i = 1; i < processChain.size(); ++i) {
        const QString ancestor = baseName(processChain.at(i));
        if (!ancestor.isEmpty() && ancestor != kClientName)
            return ancestor + QStringLiteral(" via ") + peer;
    }
    return peer;
}

} // namespace mcpauth
