#include "proxy/EraCache.h"

#include "common/Json.h"
#include "common/Log.h"
#include "storage/StateFile.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QStandardPaths>

#include <algorithm>
#include <vector>

namespace mcpauth {

namespace {

constexpr const char *kModern = "modern";
constexpr const char *kLegacy = "legacy";

qint64 now()
{
    return QDateTime::currentSecsSinceEpoch();
}

/// The stored entries, or an empty object for a missing, unreadable or foreign file. Read
/// without StateFile::load(), which would move a bad file aside: a cache is simply rebuilt.
Json readEntries(const QString &path)
{
    QFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::ReadOnly) || file.size() > 1024 * 1024)
        return Json::object();
    auto parsed = parseJsonObject(file.readAll(), QStringLiteral("era cache"));
    if (!parsed || !parsed.value().contains("endpoints") || !parsed.value()["endpoints"].is_object())
        return Json::object();
    return parsed.value()["endpoints"];
}

} // namespace

EraCache::EraCache(QString path) : m_path(std::move(path)) {}

QString EraCache::defaultPath()
{
    const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
    return base.isEmpty() ? QString() : base + QStringLiteral("/mcp-auth-agent/eras.json");
}

QString EraCache::keyOf(const QUrl &endpoint)
{
    const QByteArray url = endpoint.adjusted(QUrl::RemoveFragment).toString(QUrl::FullyEncoded).toUtf8();
    return QString::fromLatin1(QCryptographicHash::hash(url, QCryptographicHash::Sha256).toHex());
}

std::optional<EraCache::Entry> EraCache::lookup(const QUrl &endpoint) const
{
    const Json entries = readEntries(m_path);
    const std::string key = toStd(keyOf(endpoint));
    if (!entries.contains(key) || !entries[key].is_object())
        return std::nullopt;
    const Json &e = entries[key];
    const QString era = jsonString(e, "era");
    Entry entry;
    entry.version = jsonString(e, "version").left(32);
    entry.checkedAt =
        e.contains("checkedAt") && e["checkedAt"].is_number_integer() ? e["checkedAt"].get<qint64>() : 0;
    if (era == QLatin1String(kModern))
        entry.era = Era::Modern;
    else if (era == QLatin1String(kLegacy))
        entry.era = Era::Legacy;
    else
        return std::nullopt;
    const qint64 age = now() - entry.checkedAt;
    if (age < 0 || age > maxAgeSeconds)
        return std::nullopt; // stale, or from a clock that jumped back: probe again
    return entry;
}

void EraCache::remember(const QUrl &endpoint, Era era, const QString &version)
{
    if (m_path.isEmpty())
        return;
    Json entries = readEntries(m_path);
    entries[toStd(keyOf(endpoint))] = Json{{"era", era == Era::Modern ? kModern : kLegacy},
                                           {"version", toStd(version.left(32))},
                                           {"checkedAt", now()}};
    // Drop what is stale, then the oldest beyond maxEntries.
    std::vector<std::pair<qint64, std::string>> ages;
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        const qint64 at =
            it->is_object() && it->contains("checkedAt") && (*it)["checkedAt"].is_number_integer()
                ? (*it)["checkedAt"].get<qint64>()
                : 0;
        ages.emplace_back(at, it.key());
    }
    std::sort(ages.begin(), ages.end(), std::greater<>());
    for (size_t i = 0; i < ages.size(); ++i)
        if (i >= size_t(maxEntries) || now() - ages[i].first > maxAgeSeconds)
            entries.erase(ages[i].second);
    if (const Status saved = StateFile(m_path).save(Json{{"endpoints", entries}}); !saved)
        qCDebug(lcProxy).noquote() << "era cache not written:" << saved.error().message;
}

void EraCache::forget(const QUrl &endpoint)
{
    if (m_path.isEmpty())
        return;
    Json entries = readEntries(m_path);
    if (entries.erase(toStd(keyOf(endpoint))) == 0)
        return;
    if (const Status saved = StateFile(m_path).save(Json{{"endpoints", entries}}); !saved)
        qCDebug(lcProxy).noquote() << "era cache not written:" << saved.error().message;
}

} // namespace mcpauth
