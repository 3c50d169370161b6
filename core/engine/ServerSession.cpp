#include "engine/ServerSession.h"

#include "discovery/ResourceUri.h"

namespace mcpauth {

ServerSession::ServerSession(QUrl resource_, QObject *parent)
    : QObject(parent), resource(std::move(resource_))
{
    mcpUrl = resource;
    proactiveRefresh.setSingleShot(true);
    expiryTick.setSingleShot(true);
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
    // A token read from the keychain knows whether it can be refreshed; one not read yet answers
    // from its record (written with it).
    const bool refreshable =
        loaded ? tokens.hasRefreshToken() : jsonBool(record, "refreshable").value_or(true);
    if (activity == Activity::SigningIn)
        st.state = ServerState::SigningIn;
    else if (activity == Activity::Refreshing)
        st.state = ServerState::Refreshing;
    else if (activity == Activity::SigningOut)
        st.state = ServerState::SigningOut;
    else if (!present)
        st.state = signInRequired        ? ServerState::SignInRequired
                   : lastError.isEmpty() ? ServerState::SignedOut
                                         : ServerState::Error; // a first sign-in that failed
    else if (st.expiresAt > 0 && st.expiresAt <= now)
        st.state = refreshable ? ServerState::Expired : ServerState::SignInRequired;
    else if (!lastError.isEmpty())
        st.state = ServerState::Error; // a refresh failed (or the keychain refused); the token still serves
    else
        st.state = ServerState::SignedIn;
    return st;
}

} // namespace mcpauth

#include "moc_ServerSession.cpp"
