#include "approvals/Grants.h"

namespace mcpauth {

QString Grant::kindName(Kind kind)
{
    return kind == Kind::Always ? QStringLiteral("always") : QStringLiteral("while-running");
}

Json Grant::toJson() const
{
    Json j{{"id", toStd(id)},
           {"kind", toStd(kindName(kind))},
           {"appKey", toStd(appKey)},
           {"app", toStd(appName)},
           {"executable", toStd(executable)},
           {"server", toStd(server)},
           {"scopes", toStd(scopes)},
           {"createdAt", createdAt},
           {"lastUsedAt", lastUsedAt},
           {"uses", uses}};
    if (!sha256.isEmpty())
        j["sha256"] = toStd(sha256);
    if (kind == Kind::WhileRunning)
        j["pid"] = pid;
    return j;
}

std::optional<Grant> Grant::fromJson(const Json &json)
{
    if (!json.is_object())
        return std::nullopt;
    Grant g;
    g.id = jsonString(json, "id");
    g.appKey = jsonString(json, "appKey");
    g.appName = jsonString(json, "app");
    g.executable = jsonString(json, "executable");
    g.sha256 = jsonString(json, "sha256");
    g.server = jsonString(json, "server");
    g.scopes = jsonString(json, "scopes");
    g.createdAt = jsonInt(json, "createdAt").value_or(0);
    g.lastUsedAt = jsonInt(json, "lastUsedAt").value_or(0);
    g.uses = jsonInt(json, "uses").value_or(0);
    if (jsonString(json, "kind") != QLatin1String("always") || g.id.isEmpty() || g.appKey.isEmpty() ||
        g.server.isEmpty())
        return std::nullopt;
    // A path-keyed grant without its hash would trust any binary put at that path.
    if (!g.appKey.startsWith(QLatin1String("flatpak:")) && !g.appKey.startsWith(QLatin1String("snap:")) &&
        g.sha256.size() != 64)
        return std::nullopt;
    return g;
}

void GrantStore::load(const Json &section)
{
    m_grants.clear();
    if (!section.is_object() || !section.contains("grants") || !section["grants"].is_array())
        return;
    for (const Json &entry : section["grants"])
        if (std::optional<Grant> g = Grant::fromJson(entry); g && m_grants.size() < maxGrants)
            m_grants.append(*g);
}

Json GrantStore::section() const
{
    Json grants = Json::array();
    for (const Grant &g : m_grants)
        if (g.kind == Grant::Kind::Always)
            grants.push_back(g.toJson());
    return Json{{"grants", grants}};
}

Grant *GrantStore::find(const AppIdentity &app, const QString &sha256, const QString &server)
{
    const QString key = app.key();
    for (Grant &g : m_grants) {
        if (g.appKey != key || g.server != server || g.sha256 != sha256)
            continue;
        if (g.kind == Grant::Kind::WhileRunning && (g.pid != app.pid || !g.process || !g.process->alive()))
            continue;
        return &g;
    }
    return nullptr;
}

Grant &GrantStore::add(Grant grant)
{
    // One grant per app, binary, server and kind: a newer decision replaces the older one.
    removeIf([&](const Grant &g) {
        return g.appKey == grant.appKey && g.sha256 == grant.sha256 && g.server == grant.server &&
               g.kind == grant.kind && (g.kind == Grant::Kind::Always || g.pid == grant.pid);
    });
    if (m_grants.size() >= maxGrants)
        m_grants.removeFirst(); // the oldest
    m_grants.append(std::move(grant));
    return m_grants.last();
}

std::pair<int, bool> GrantStore::removeIf(const std::function<bool(const Grant &)> &match)
{
    int removed = 0;
    bool always = false;
    for (qsizetype i = m_grants.size() - 1; i >= 0; --i) {
        if (!match(m_grants.at(i)))
            continue;
        always = always || m_grants.at(i).kind == Grant::Kind::Always;
        m_grants.removeAt(i);
        ++removed;
    }
    return {removed, always};
}

} // namespace mcpauth
