#pragma once

#include <QString>

namespace mcpauth {

/// A PKCE pair (RFC 7636) for one authorization request: the secret `verifier`, kept by the client
/// and sent only to the token endpoint, and its S256 `challenge`, sent in the authorization request.
/// Only S256 is offered: MCP 2025-11-25 requires it and `plain` protects nothing once observed.
struct Pkce
{
    QString verifier;
    QString challenge;

    /// A fresh pair: 32 random bytes as base64url (43 characters of the RFC 7636 §4.1 unreserved set).
    static Pkce generate();
    /// RFC 7636 §4.2 S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), no padding.
    static QString challengeFor(const QString &verifier);
};

} // namespace mcpauth
