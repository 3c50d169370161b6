#pragma once

#include "broker/PeerIdentity.h"
#include "common/Json.h"

#include <QList>
#include <QString>

#include <memory>

namespace mcpauth {

/// A remembered "yes": this app may have this server's tokens. "Always" grants live in the state
/// file (no secret in them) and survive restarts; "while running" grants live in memory and end
/// when the app's process exits.
struct Grant
{
    enum class Kind { Always, WhileRunning };
    QString id; ///< "g-" and 8 hex digits
    Kind kind = Kind::Always;
    QString appKey;     ///< AppIdentity::key()
    QString appName;    ///< for people: "cursor", "com.visualstudio.code"
    QString executable; ///< the binary's path when it was granted
    QString sha256;     ///< the binary's hash for path-keyed apps; empty for Flatpak/snap ids
    QString server;     ///< the MCP server's URL
    QString scopes;     ///< what was asked for when the user said yes (for display)
    qint64 createdAt = 0;
    qint64 lastUsedAt = 0;
    qint64 uses = 0;
    qint64 pid = -1;                        ///< WhileRunning: the app's process
    std::shared_ptr<ProcessHandle> process; ///< WhileRunning: ends the grant when it exits

    /// The socket's and the state file's form (no process handle).
    Json toJson() const;
    static std::optional<Grant> fromJson(const Json &json);
    static QString kindName(Kind kind);
};

/// The grants the agent holds, with the one matching rule: same app key, same binary hash (for
/// path-keyed apps), same server; a "while running" grant also needs the very process it was
/// given to, still running.
class GrantStore
{
public:
    /// The "always" grants of a state file section (`{"grants": [...]}`); bad entries are skipped.
    void load(const Json &section);
    /// The section to store: "always" grants only.
    Json section() const;

    Grant *find(const AppIdentity &app, const QString &sha256, const QString &server);
    Grant &add(Grant grant);
    /// Removes the grants `match` selects; returns how many, and whether any was an "always" one.
    std::pair<int, bool> removeIf(const std::function<bool(const Grant &)> &match);
    const QList<Grant> &all() const { return m_grants; }

    static constexpr int maxGrants = 1024;

private:
    QList<Grant> m_grants;
};

} // namespace mcpauth
