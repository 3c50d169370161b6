#include "common/Redact.h"

#include <QCryptographicHash>
#include <QUrlQuery>

namespace mcpauth {

QString redact(const QByteArray &secret)
{
    if (secret.isEmpty())
        return QStringLiteral("‹empty›");
    const QByteArray digest = QCryptographicHash::hash(secret, QCryptographicHash::Sha256).toHex().left(8);
    return QStringLiteral("‹redacted sha256:") + QString::fromLatin1(digest) + QStringLiteral("›");
}

QString redact(QStringView secret)
{
    return redact(secret.toUtf8());
}

QString redactUrl(const QUrl &url)
{
    static const QStringList secretKeys = {
        QStringLiteral("code"),         QStringLiteral("state"),         QStringLiteral("code_verifier"),
        QStringLiteral("access_token"), QStringLiteral("refresh_token"), QStringLiteral("client_secret"),
        QStringLiteral("id_token"),     QStringLiteral("token"),         QStringLiteral("code_challenge"),
    };
    QUrl copy = url;
    copy.setUserInfo({});
    copy.setFragment({});
    if (copy.hasQuery()) {
        QUrlQuery query(copy);
        const auto items = query.queryItems(QUrl::FullyDecoded);
        QUrlQuery out;
        for (const auto &[key, value] : items)
            out.addQueryItem(key, secretKeys.contains(key) ? redact(value) : value);
        copy.setQuery(out);
    }
    return copy.toString();
}

} // namespace mcpauth
