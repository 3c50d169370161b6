#pragma once

#include <QString>
#include <QStringList>

namespace mcpauth {

/// The user's own settings (`$XDG_CONFIG_HOME/mcp-auth-agent/settings.json`), read when the agent
/// starts. IT policy (a later layer) may force them; a user may only loosen what policy leaves open.
///
///     {"approvals": {"required": true, "timeoutSeconds": 60}}
///
/// A missing file means the defaults; a file that is not valid JSON, an unknown key or a bad value
/// is reported in `warnings` and that value keeps its default, so a typo never turns approvals off.
struct UserSettings
{
    /// Ask the user before an app gets a server's token for the first time (off: single-user
    /// machines where every process of the user is trusted alike).
    bool approvalsRequired = true;
    /// How long a request waits for the user's decision before it is denied (5 s … 1 h).
    int approvalTimeoutSeconds = 60;
    QStringList warnings;

    static QString defaultPath();
    static UserSettings load(const QString &path);
};

} // namespace mcpauth
