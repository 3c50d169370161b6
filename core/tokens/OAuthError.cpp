#include "tokens/OAuthError.h"

#include "common/Json.h"
#include "tokens/FormBody.h"

namespace mcpauth {

namespace {
constexpr qsizetype kMaxCode = 64;
constexpr qsizetype kMaxText = 200;
constexpr qsizetype kMinSecretLength = 4; // shorter strings are too common to cut out meaningfully
} // namespace

std::optional<OAuthError> OAuthError::parse(const QByteArray &body, const QStringList &secrets)
{
    const auto json = parseJsonObject(body, QStringLiteral("error response"));
    if (!json)
        return std::nullopt;
    OAuthError e;
    e.code = sanitizeCode(jsonString(json.value(), "error"));
    if (e.code.isEmpty())
        return std::nullopt;
    e.description = sanitizeText(jsonString(json.value(), "error_description"), secrets);
    return e;
}

QString OAuthError::describe() const
{
    return description.isEmpty() ? code : code + QStringLiteral(": ") + description;
}

QString OAuthError::sanitizeCode(const QString &code)
{
    QString out;
    for (const QChar c : code) {
        if (out.size() >= kMaxCode)
            break;
        const char16_t u = c.unicode();
        const bool ok = (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') ||
                        u == u'_' || u == u'-' || u == u'.';
        if (ok)
            out += c;
    }
    return out;
}

QString OAuthError::sanitizeText(const QString &text, const QStringList &secrets)
{
    // Cut secrets out first, on the raw text, so sanitising cannot hide a partial match. A server
    // that echoes its raw request body shows them form-encoded, so those spellings go too.
    QString scrubbed = text;
    for (const QString &secret : secrets) {
        if (secret.size() < kMinSecretLength)
            continue;
        const QString spellings[] = {secret, QString::fromLatin1(FormBody::encode(secret)),
                                     QString::fromLatin1(secret.toUtf8().toPercentEncoding())};
        for (const QString &s : spellings)
            scrubbed.replace(s, QStringLiteral("[redacted]"));
    }

    // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. Anything else (control
    // characters, newlines that could forge log lines, non-ASCII look-alikes) becomes "?".
    QString out;
    for (const QChar c : std::as_const(scrubbed)) {
        if (out.size() >= kMaxText) {
            out += QStringLiteral("...");
            break;
        }
        const char16_t u = c.unicode();
        out += (u >= 0x20 && u <= 0x7e && u != u'"' && u != u'\\') ? c : QLatin1Char('?');
    }
    return out.trimmed();
}

} // namespace mcpauth
