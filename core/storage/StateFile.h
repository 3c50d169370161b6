#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QString>

#include <functional>
#include <optional>

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
    /// Several owners share the file, each writing its own top-level keys (the engine its servers
    /// and clients, the approvals their grants): change the last loaded or saved document with
    /// `change` and save it, so no owner overwrites another's keys with a stale copy. Loads first
    /// when nothing was loaded yet (a file that cannot be read counts as empty).
    Status update(const std::function<void(Json &document)> &change);
    /// The last loaded or saved document, loading it only when nothing was yet (a file that cannot
    /// be read counts as empty): owners that start after the engine read what it already loaded.
    Json document();

    /// `$XDG_DATA_HOME/mcp-auth-agent/state.json` (the platform's generic data folder elsewhere).
    static QString defaultPath();
    /// Largest state file load() accepts; anything bigger is treated as corrupt.
    static constexpr qint64 maxBytes = 32 * 1024 * 1024;

private:
    Error moveAside(const QString &why) const;

    QString m_path;
    mutable std::optional<Json> m_document; ///< what load() read or save() wrote last
};

} // namespace mcpauth
