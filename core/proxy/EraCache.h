#pragma once

#include <QString>
#include <QUrl>

#include <optional>

namespace mcpauth {

/// What the proxy learned of each MCP endpoint's era, kept across launches (mcp-2026-07-28.md
/// checklist B.10; basic/versioning.mdx: clients "MAY persist it across restarts … re-probing if
/// the cached assumption later fails"). A host may start `mcp-auth proxy` many times a day (SDK v2
/// even twice per connection); a server known to speak only 2025-11-25 then gets its `initialize`
/// straight away instead of a `server/discover` first.
///
/// One small JSON file per user (`$XDG_CACHE_HOME/mcp-auth-agent/eras.json`, 0600, written
/// atomically). Endpoints are stored as the SHA-256 of their URL, never the URL itself: a URL may
/// carry a key in its query. Entries older than maxAgeSeconds are ignored and dropped; beyond
/// maxEntries the oldest go. A file that cannot be read is a cache miss, never an error: the proxy
/// probes as if it had never seen the server.
class EraCache
{
public:
    enum class Era { Modern, Legacy };
    struct Entry
    {
        Era era = Era::Legacy;
        QString version;      ///< the version last spoken (2026-07-28, 2025-11-25, …)
        qint64 checkedAt = 0; ///< Unix seconds
    };

    /// An empty path remembers nothing (tests, or no cache folder).
    explicit EraCache(QString path = {});

    std::optional<Entry> lookup(const QUrl &endpoint) const;
    void remember(const QUrl &endpoint, Era era, const QString &version);
    void forget(const QUrl &endpoint);

    const QString &path() const { return m_path; }

    static QString defaultPath();
    static constexpr int maxEntries = 256;
    static constexpr qint64 maxAgeSeconds = 30 * 24 * 3600;

private:
    static QString keyOf(const QUrl &endpoint);

    QString m_path;
};

} // namespace mcpauth
