#include "login/AuthorizationResponse.h"

#include "common/Log.h"
#include "common/Redact.h"

#include <QRegularExpression>

#include <openssl/crypto.h>

namespace mcpauth {

namespace {

// Compare without an early exit on the first differing byte, so response timing does not tell
// an attacker how much of a guessed state was right. Only the length can leak.
bool constantTimeEquals(const QString &a, const QString &b)
{
    const QByteArray x = a.toUtf8();
    const QByteArray y = b.toUtf8();
    if (x.size() != y.size())
        return false;
    return CRYPTO_memcmp(x.constData(), y.constData(), size_t(x.size())) == 0;
}

// One response parameter. RFC 6749 §3.1: "Request and response parameters MUST NOT be included
// more than once", so a repeated security parameter is treated like a wrong one.
struct Param
{
    bool present = false;
    bool repeated = false;
    QString value;
};

Param param(const QUrlQuery &query, const QString &key)
{
    const QStringList values = query.allQueryItemValues(key, QUrl::FullyDecoded);
    Param p;
    p.present = !values.isEmpty();
    p.repeated = values.size() > 1;
    if (p.present)
        p.value = values.first();
    return p;
}

// RFC 6749 §4.1.2.1: error codes are limited to %x20-21 / %x23-5B / %x5D-7E; we accept the usual
// token shape for the machine-readable code and fall back to a fixed one otherwise.
QString errorCode(const QString &error)
{
    static const QRegularExpression token(QStringLiteral("^[A-Za-z0-9_.\\-]{1,64}$"));
    return token.match(error).hasMatch() ? error : QStringLiteral("authorization_error");
}

} // namespace

QString AuthorizationResponse::sanitize(const QString &text, int maxChars)
{
    QString out;
    out.reserve(qMin<qsizetype>(text.size(), maxChars));
    for (const QChar c : text) {
        if (out.size() >= maxChars) {
            out += QChar(0x2026);
            break;
        }
        out += c.isPrint() ? c : QLatin1Char(' ');
    }
    return out.trimmed();
}

bool AuthorizationResponse::stateMatches(const QUrlQuery &query, const QString &expectedState)
{
    const Param state = param(query, QStringLiteral("state"));
    return state.present && !state.repeated && !expectedState.isEmpty() &&
           constantTimeEquals(state.value, expectedState);
}

Result<QString> AuthorizationResponse::validate(const QUrlQuery &query, const QString &expectedState,
                                                const QString &expectedIssuer, bool issParameterSupported)
{
    // MCP 2025-11-25 "Open Redirection": discard any result without the original state, and show
    // nothing from it — error/error_description may come from whoever forged the redirect.
    if (!stateMatches(query, expectedState)) {
        const Param state = param(query, QStringLiteral("state"));
        qCWarning(lcLogin) << "authorization response refused: state mismatch, got" << redact(state.value);
        return Error::security(QStringLiteral("state_mismatch"),
                               QStringLiteral("the sign-in response does not belong to this sign-in "
                                              "(state mismatch) and was ignored"));
    }

    // RFC 9207 §2.4 / MCP 2026-07-28 "Authorization Response Validation".
    const Param iss = param(query, QStringLiteral("iss"));
    if (issParameterSupported && !iss.present) {
        qCWarning(lcLogin) << "authorization response refused: iss missing, expected" << expectedIssuer;
        return Error::security(QStringLiteral("iss_missing"),
                               QStringLiteral("the authorization server %1 advertises the iss parameter but "
                                              "the sign-in response has none; it was ignored")
                                   .arg(expectedIssuer));
    }
    // Simple string comparison, no normalisation: "https://as.example" and "https://as.example/" differ.
    // Compared even when not advertised. On mismatch, error/error_description are not acted on or shown.
    if (iss.present && (iss.repeated || iss.value != expectedIssuer)) {
        qCWarning(lcLogin) << "authorization response refused: iss" << sanitize(iss.value) << "expected"
                           << expectedIssuer;
        return Error::security(QStringLiteral("iss_mismatch"),
                               QStringLiteral("the sign-in response names issuer \"%1\", not the expected %2 "
                                              "(possible mix-up attack); it was ignored")
                                   .arg(sanitize(iss.value), expectedIssuer));
    }

    // RFC 6749 §4.1.2.1: the AS refused or failed; surface its (untrusted, so sanitised) words.
    const Param error = param(query, QStringLiteral("error"));
    if (error.present) {
        const QString code = errorCode(error.value);
        const QString description =
            sanitize(query.queryItemValue(QStringLiteral("error_description"), QUrl::FullyDecoded));
        QString message = QStringLiteral("the authorization server refused: ") + code;
        if (!description.isEmpty())
            message += QStringLiteral(" (") + description + QLatin1Char(')');
        qCInfo(lcLogin) << "authorization response carries error" << code;
        return Error::protocol(code, message);
    }

    const Param code = param(query, QStringLiteral("code"));
    if (!code.present || code.repeated || code.value.isEmpty()) {
        return Error::protocol(QStringLiteral("invalid_response"),
                               QStringLiteral("the sign-in response carries no authorization code"));
    }
    return code.value;
}

} // namespace mcpauth
