#include "net/HttpErrors.h"

#include <QNetworkReply>

namespace mcpauth {

Error HttpErrors::fromReply(const QNetworkReply *reply)
{
    const QString host = reply->url().host();
    switch (reply->error()) {
    case QNetworkReply::SslHandshakeFailedError:
        return Error::security(QStringLiteral("tls_failed"),
                               QStringLiteral("TLS handshake with %1 failed").arg(host));
    case QNetworkReply::InsecureRedirectError:
        return Error::security(QStringLiteral("insecure_redirect"),
                               QStringLiteral("%1 redirected from HTTPS to HTTP").arg(host));
    case QNetworkReply::ConnectionRefusedError:
        return Error::network(QStringLiteral("unreachable"),
                              QStringLiteral("%1 refused the connection").arg(host));
    case QNetworkReply::HostNotFoundError:
        return Error::network(QStringLiteral("unreachable"), QStringLiteral("host %1 not found").arg(host));
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ContentReSendError: // closed before the answer; OneShotPost does not resend
        return Error::network(QStringLiteral("connection_lost"),
                              QStringLiteral("%1 closed the connection").arg(host));
    case QNetworkReply::OperationCanceledError: // a transfer timeout fires as a cancel
    case QNetworkReply::TimeoutError:
        return Error::network(QStringLiteral("timeout"),
                              QStringLiteral("%1 did not answer in time").arg(host));
    case QNetworkReply::TooManyRedirectsError:
        return Error::network(QStringLiteral("redirect_loop"),
                              QStringLiteral("%1 redirects too many times").arg(host));
    default:
        return Error::network(QStringLiteral("unreachable"),
                              QStringLiteral("request to %1 failed: %2").arg(host, reply->errorString()));
    }
}

Error HttpErrors::fromStatus(const QString &what, int status, const QByteArray &body)
{
    QString message = QStringLiteral("%1 answered HTTP %2").arg(what).arg(status);
    if (const QString quoted = excerpt(body); !quoted.isEmpty())
        message += QStringLiteral(": ") + quoted;
    // RFC 9110 §15.6: 5xx is the server's trouble, 429 a request to come back later.
    if (status >= 500 || status == 429)
        return Error::network(QStringLiteral("server_error"), message);
    return Error::protocol(QStringLiteral("http_error"), message);
}

QString HttpErrors::excerpt(const QByteArray &body)
{
    QString text = QString::fromUtf8(body.left(200)).simplified();
    if (body.size() > 200)
        text += QStringLiteral("…");
    return text;
}

} // namespace mcpauth
