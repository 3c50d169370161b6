#pragma once

#include "common/Json.h"

#include <QString>
#include <QStringList>
#include <QUrl>

// Small field helpers shared by the discovery metadata parsers and the challenge parser.

namespace mcpauth {

/// True for a valid absolute URL with a host (any scheme): the minimum every metadata URL must be.
inline bool isAbsoluteUrl(const QUrl &url)
{
    return url.isValid() && !url.isRelative() && !url.host().isEmpty();
}

/// True for an absolute http or https URL with a host.
inline bool isHttpUrl(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    return isAbsoluteUrl(url) && (scheme == QLatin1String("https") || scheme == QLatin1String("http"));
}

/// Parses a URL from a metadata document strictly; an empty QUrl unless it is absolute with a host.
inline QUrl parseAbsoluteUrl(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    return isAbsoluteUrl(url) ? url : QUrl();
}

/// A JSON array of strings.
inline Json jsonArray(const QStringList &values)
{
    Json array = Json::array();
    for (const QString &v : values)
        array.push_back(toStd(v));
    return array;
}

} // namespace mcpauth
