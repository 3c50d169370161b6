#pragma once

#include <QString>
#include <QUrl>

namespace mcpauth {

/// Stand-in for a secret in logs and messages: "‹redacted sha256:1a2b3c4d›". The short digest lets
/// two log lines be matched to the same value without revealing it; empty input gives "‹empty›".
QString redact(QStringView secret);
QString redact(const QByteArray &secret);

/// The URL with the values of secret-bearing query parameters (code, state, code_verifier,
/// access_token, refresh_token, client_secret, id_token, token) replaced, and any userinfo dropped.
QString redactUrl(const QUrl &url);

} // namespace mcpauth
