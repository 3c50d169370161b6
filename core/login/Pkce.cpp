#include "login/Pkce.h"

#include "common/Random.h"

#include <QCryptographicHash>

namespace mcpauth {

Pkce Pkce::generate()
{
    // RFC 7636 §4.1: "It is RECOMMENDED that the output of a suitable random number generator be used
    // to create a 32-octet sequence", base64url-encoded to 43 characters.
    Pkce pkce;
    pkce.verifier = Random::urlSafeToken(32);
    pkce.challenge = challengeFor(pkce.verifier);
    return pkce;
}

QString Pkce::challengeFor(const QString &verifier)
{
    // RFC 7636 §4.2: ASCII(code_verifier); the verifier alphabet is ASCII, so Latin-1 is exact.
    const QByteArray digest = QCryptographicHash::hash(verifier.toLatin1(), QCryptographicHash::Sha256);
    return QString::fromLatin1(
        digest.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

} // namespace mcpauth
