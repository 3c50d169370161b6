#include "net/Origin.h"

namespace mcpauth {

int Origin::effectivePort(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const int fallback = scheme == QLatin1String("https") ? 443 : scheme == QLatin1String("http") ? 80 : -1;
    return url.port(fallback);
}

bool Origin::same(const QUrl &a, const QUrl &b)
{
    if (!a.isValid() || !b.isValid() || a.host().isEmpty())
        return false;
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0 &&
           a.host().compare(b.host(), Qt::CaseInsensitive) == 0 && effectivePort(a) == effectivePort(b);
}

} // namespace mcpauth
