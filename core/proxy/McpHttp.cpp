#include "proxy/McpHttp.h"

#include <QIODevice>
#include <QNetworkAccessManager>
#include <QNetworkReply>

#include <algorithm>
#include <cstring>

namespace mcpauth {

namespace {

// A request body that can be read once and never rewound, so Qt cannot send it a second time.
class OneShotBody : public QIODevice
{
public:
    OneShotBody(QByteArray data, QObject *parent) : QIODevice(parent), m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    bool reset() override { return false; }
    qint64 bytesAvailable() const override { return m_data.size() - m_read + QIODevice::bytesAvailable(); }
    bool atEnd() const override { return m_read >= m_data.size() && QIODevice::bytesAvailable() == 0; }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        if (m_read >= m_data.size())
            return -1;
        const qint64 n = std::min(max, qint64(m_data.size()) - m_read);
        std::memcpy(out, m_data.constData() + m_read, size_t(n));
        m_read += n;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qint64 m_read = 0;
};

} // namespace

QNetworkRequest McpHttp::request(const QUrl &url, const QByteArray &accept, const Headers &extraHeaders,
                                 const QString &token)
{
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("mcp-auth-proxy/" MCPAUTH_VERSION));
    // The bearer token must never follow a redirect to another origin.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    req.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    req.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    req.setTransferTimeout(0);
    for (const auto &[name, value] : extraHeaders)
        req.setRawHeader(name, value);
    req.setRawHeader(QByteArrayLiteral("Accept"), accept);
    if (!token.isEmpty())
        req.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + token.toUtf8());
    return req;
}

QNetworkReply *McpHttp::postOnce(QNetworkAccessManager *nam, QNetworkRequest req, const QByteArray &body)
{
    // With a Content-Length Qt streams a sequential device instead of buffering it (and a buffer
    // could be rewound).
    req.setHeader(QNetworkRequest::ContentLengthHeader, body.size());
    req.setAttribute(QNetworkRequest::DoNotBufferUploadDataAttribute, true);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    auto *device = new OneShotBody(body, nullptr);
    QNetworkReply *reply = nam->post(req, device);
    device->setParent(reply);
    return reply;
}

QUrl McpHttp::redirectTarget(const QNetworkReply *reply)
{
    const int code = status(reply);
    if (code != 307 && code != 308)
        return {};
    const QUrl from = reply->url();
    const QUrl to = from.resolved(reply->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl());
    // The bearer token must never follow a redirect to another origin.
    if (!to.isValid() || to.scheme() != from.scheme() || to.host() != from.host() ||
        to.port(-1) != from.port(-1))
        return {};
    return to;
}

Result<QList<Json>> McpHttp::parseMessages(const QByteArray &body, const QString &what)
{
    const Json doc = Json::parse(body.constBegin(), body.constEnd(), nullptr, /*allow_exceptions=*/false);
    const auto malformed = [&what](const QString &why) {
        return Error::protocol(QStringLiteral("malformed_response"), what + QStringLiteral(" ") + why);
    };
    if (doc.is_discarded())
        return malformed(QStringLiteral("is not valid JSON"));
    QList<Json> out;
    if (doc.is_object()) {
        out << doc;
        return out;
    }
    if (!doc.is_array() || doc.empty())
        return malformed(QStringLiteral("is not a JSON-RPC message"));
    for (const Json &item : doc) {
        if (!item.is_object())
            return malformed(QStringLiteral("holds a batch entry that is not a JSON-RPC message"));
        out << item;
    }
    return out;
}

int McpHttp::status(const QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QByteArray McpHttp::mediaType(const QNetworkReply *reply)
{
    const QByteArray type = reply->rawHeader(QByteArrayLiteral("Content-Type"));
    const qsizetype semicolon = type.indexOf(';');
    return (semicolon < 0 ? type : type.left(semicolon)).trimmed().toLower();
}

BearerChallenge McpHttp::challenge(const QNetworkReply *reply)
{
    QList<QByteArray> values;
    for (const auto &[name, value] : reply->rawHeaderPairs())
        if (name.compare(QByteArrayLiteral("WWW-Authenticate"), Qt::CaseInsensitive) == 0)
            values << value;
    return WwwAuthenticate::bearer(values);
}

Error McpHttp::networkError(const QNetworkReply *reply)
{
    const QString host = reply->url().host();
    switch (reply->error()) {
    case QNetworkReply::SslHandshakeFailedError:
        return Error::security(QStringLiteral("tls_failed"),
                               QStringLiteral("TLS handshake with %1 failed").arg(host));
    case QNetworkReply::ConnectionRefusedError:
        return Error::network(QStringLiteral("unreachable"),
                              QStringLiteral("%1 refused the connection").arg(host));
    case QNetworkReply::HostNotFoundError:
        return Error::network(QStringLiteral("unreachable"), QStringLiteral("host %1 not found").arg(host));
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ContentReSendError: // closed before the answer; postOnce() does not resend
        return Error::network(QStringLiteral("connection_lost"),
                              QStringLiteral("%1 closed the connection").arg(host));
    default:
        return Error::network(QStringLiteral("unreachable"),
                              QStringLiteral("request to %1 failed: %2").arg(host, reply->errorString()));
    }
}

Error McpHttp::statusError(const QString &host, int status, const QByteArray &body)
{
    const QString message =
        QStringLiteral("%1 answered HTTP %2: %3").arg(host).arg(status).arg(excerpt(body));
    if (status >= 500)
        return Error::network(QStringLiteral("server_error"), message);
    return Error::protocol(QStringLiteral("http_error"), message);
}

QString McpHttp::excerpt(const QByteArray &body)
{
    QString text = QString::fromUtf8(body.left(200)).simplified();
    if (body.size() > 200)
        text += QStringLiteral("…");
    return text;
}

} // namespace mcpauth
