#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QString>

namespace mcpauth {

/// The agent's non-secret state as one JSON object on disk: server list, metadata cache,
/// registrations without their secrets, approvals (design.md "Storage"). Secrets never go here;
/// they live in a SecretStore. Writes are atomic (QSaveFile: a crash leaves the old file or the new
/// one, never half of one), the file is private to the user (0600, parent directory 0700), and a
/// file that cannot be read back is moved aside rather than overwritten, so nothing is lost.
class StateFile
{
public:
    explicit StateFile(QString path);

    const QString &path() const { return m_path; }

    /// The stored object; an empty object when the file does not exist yet. A file that cannot be
    /// read or is not a JSON object gives Error::config("state_corrupt") and is renamed to
    /// `<path>.corrupt-<UTC timestamp>` (the message says where), so the next save starts clean.
    Result<Json> load() const;
    /// Replace the file with `state` (must be an object), atomically, mode 0600.
    Status save(const Json &state) const;

    /// `$XDG_DATA_HOME/mcp-auth-agent/state.json` (the platform's generic data folder elsewhere).
    static QString defaultPath();
    /// Largest state file load() accepts; anything bigger is treated as corrupt.
    static constexpr qint64 maxBytes = 32 * 1024 * 1024;

private:
    Error moveAside(const QString &why) const;

    QString m_path;
};

} // namespace mcpauth
