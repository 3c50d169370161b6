#pragma once

#include <QByteArray>
#include <QString>

namespace mcpauth {

/// Cryptographically secure randomness for PKCE verifiers, `state` values and other one-time secrets.
/// Backed by OpenSSL's CSPRNG; if that ever fails the process aborts rather than fall back to a weak
/// generator, because a predictable `state` or verifier silently defeats the protections built on it.
class Random
{
public:
    /// `n` bytes from OpenSSL RAND_bytes. `n` <= 0 gives an empty array.
    static QByteArray bytes(int n);
    /// `nBytes` random bytes as base64url without padding (RFC 4648 §5), safe in URLs and forms.
    static QString urlSafeToken(int nBytes = 32);
};

} // namespace mcpauth
