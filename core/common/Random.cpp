#include "common/Random.h"

#include <openssl/rand.h>

namespace mcpauth {

QByteArray Random::bytes(int n)
{
    if (n <= 0)
        return {};
    QByteArray out(n, Qt::Uninitialized);
    // RFC 7636 §7.1 / RFC 6749 §10.10: secrets must be unguessable. A failing CSPRNG is not an
    // error to report and carry on from: there is no safe fallback, so stop the process.
    if (RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), n) != 1)
        qFatal("mcpauth: OpenSSL RAND_bytes failed; refusing to continue without a secure random source");
    return out;
}

QString Random::urlSafeToken(int nBytes)
{
    return QString::fromLatin1(
        bytes(nBytes).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

} // namespace mcpauth
