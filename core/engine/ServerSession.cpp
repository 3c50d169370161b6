#include "engine/ServerSession.h"

#include "discovery/ResourceUri.h"

namespace mcpauth {

ServerSession::ServerSession(QUrl resource_, QObject *parent)
    : QObject(parent), resource(std::move(resource_))
{
    mcpUrl = resource;
    proactiveRefresh.setSingleShot(true);
}

void ServerSession::resolve(QList<Waiter> &list, const Result<TokenSet> &result)
{
    const QList<Waiter> waiters = std::exchange(list, {});
    for (const Waiter &w : waiters)
        if (w.context)
            w.done(result);
}

QString ServerSession::resourceString() const
{
    return ResourceUri::toString(resource);
}

} // namespace mcpauth
