#include "status/ServerState.h"

#include <algorithm>
#include <array>
#include <utility>

namespace mcpauth {

namespace {

constexpr std::array<std::pair<ServerState, const char *>, 8> kServerStateNames{{
    {ServerState::SignedOut, "signed_out"},
    {ServerState::SigningIn, "signing_in"},
    {ServerState::SignedIn, "signed_in"},
    {ServerState::Expired, "expired"},
    {ServerState::Refreshing, "refreshing"},
    {ServerState::SignInRequired, "sign_in_required"},
    {ServerState::Error, "error"},
    {ServerState::SigningOut, "signing_out"},
}};

AgentState contribution(ServerState state)
{
    switch (state) {
    case ServerState::SignedOut:
        return AgentState::NoServers;
    case ServerState::SignedIn:
    case ServerState::Expired:
        return AgentState::SignedIn;
    case ServerState::SigningIn:
    case ServerState::Refreshing:
    case ServerState::SigningOut:
        return AgentState::Refreshing;
    case ServerState::Error:
        return AgentState::Error;
    case ServerState::SignInRequired:
        return AgentState::SignInNeeded;
    }
    return AgentState::Error;
}

} // namespace

QString serverStateName(ServerState state)
{
    for (const auto &[s, name] : kServerStateNames)
        if (s == state)
            return QString::fromLatin1(name);
    return QStringLiteral("error");
}

std::optional<ServerState> serverStateFromName(const QString &name)
{
    for (const auto &[s, n] : kServerStateNames)
        if (name == QLatin1String(n))
            return s;
    return std::nullopt;
}

AgentState overallState(const QList<ServerStatus> &servers, int pendingApprovals)
{
    if (pendingApprovals > 0)
        return AgentState::ApprovalWaiting;
    AgentState overall = AgentState::NoServers;
    for (const ServerStatus &s : servers)
        overall = std::max(overall, contribution(s.state));
    return overall;
}

QString agentStateName(AgentState state)
{
    switch (state) {
    case AgentState::NoServers:
        return QStringLiteral("no_servers");
    case AgentState::SignedIn:
        return QStringLiteral("signed_in");
    case AgentState::Refreshing:
        return QStringLiteral("refreshing");
    case AgentState::Error:
        return QStringLiteral("error");
    case AgentState::SignInNeeded:
        return QStringLiteral("sign_in_needed");
    case AgentState::ApprovalWaiting:
        return QStringLiteral("approval_waiting");
    }
    return QStringLiteral("error");
}

} // namespace mcpauth
