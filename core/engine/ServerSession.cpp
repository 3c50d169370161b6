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

std::optional<ServerStatus> ServerSession::status(const Json &record, qint64 now) const
{
    if (issuer.isEmpty() && activity == Activity::Idle && lastError.isEmpty())
        return std::nullopt; // asked about once, never signed in, nothing to report
    ServerStatus st;
    st.resource = resourceString();
    st.issuer = issuer;
    st.lastError = lastError;
    const bool loaded = tokenState == TokenState::Present;
    const bool present =
        loaded || (tokenState == TokenState::Unknown && jsonBool(record, "signedIn").value_or(false));
    st.expiresAt = loaded ? tokens.expiresAt : jsonInt(record, "expiresAt").value_or(0);
    st.scope = loaded ? tokens.scope : jsonString(record, "scope");
    if (activity == Activity::SigningIn)
        st.state = QStringLiteral("signing_in");
    else if (activity == Activity::Refreshing)
        st.state = QStringLiteral("refreshing");
    else if (!present)
        st.state = QStringLiteral("signed_out");
    else if (st.expiresAt > 0 && st.expiresAt <= now)
        st.state = QStringLiteral("expired"); // a refresh on next use may still revive it
    else
        st.state = QStringLiteral("signed_in");
    return st;
}

} // namespace mcpauth

#include "moc_ServerSession.cpp"
