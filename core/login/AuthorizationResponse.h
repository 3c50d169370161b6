#pragma once

#include "common/Result.h"

#include <QString>
#include <QUrlQuery>

namespace mcpauth {

/// Validates the authorization response that the browser delivers to the loopback redirect URI and
/// extracts the authorization code. Checks run in a fixed order so that a response which does not
/// belong to this request (wrong `state`, wrong `iss`) is dropped before anything in it is acted on
/// or shown — including the `error` and `error_description` an attacker could have written.
class AuthorizationResponse
{
public:
    /// Returns the code. Errors, in order of checking:
    /// - Security "state_mismatch": `state` missing, repeated or different (constant-time compare);
    /// - Security "iss_missing": `issParameterSupported` and no `iss` (RFC 9207 §2.4);
    /// - Security "iss_mismatch": `iss` present (advertised or not) and not string-identical, or repeated;
    /// - Protocol "<error>": the AS sent `error` (e.g. "access_denied"), sanitised description in the
    /// message;
    /// - Protocol "invalid_response": `code` missing, empty or repeated.
    static Result<QString> validate(const QUrlQuery &query, const QString &expectedState,
                                    const QString &expectedIssuer, bool issParameterSupported);

    /// `text` with non-printable characters replaced by spaces and cut to `maxChars` ("…" appended).
    /// For untrusted server text that ends up in messages.
    /// Whether `query` carries exactly one `state` equal to `expectedState` (constant-time compare).
    /// False when `expectedState` is empty. The loopback listener uses it to tell the one real
    /// callback from forged ones before anything else is looked at.
    static bool stateMatches(const QUrlQuery &query, const QString &expectedState);
    static QString sanitize(const QString &text, int maxChars = 200);
};

} // namespace mcpauth
