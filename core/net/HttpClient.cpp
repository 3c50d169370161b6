#include "net/HttpClient.h"

#include "net/HttpErrors.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "net/OneShotPost.h"
#include "net/UrlPolicy.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include <memory>

namespace mcpauth {

HttpRequest HttpRequest::get(const QUrl &url)
{
    HttpRequest r;
    r.url = url;
    r.headers.emplaceBack(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    return r;
}

HttpRequest HttpRequest::postForm(const QUrl &url, const QByteArray &formBody)
{
    HttpRequest r;
    r.method = Method::Post;
    r.url = url;
    r.body = formBody;
    r.followRedirects = false;
    r.headers.emplaceBack(QByteArrayLiteral("Content-Type"),
                          QByteArrayLiteral("application/x-www-form-urlencoded"));
    r.headers.emplaceBack(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    return r;
}

HttpRequest HttpRequest::postJson(const QUrl &url, const QByteArray &jsonBody)
{
    HttpRequest r;
    r.method = Method::Post;
    r.url = url;
    r.body = jsonBody;
    r.followRedirects = false;
    r.headers.emplaceBack(QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json"));
    r.headers.emplaceBack(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    return r;
}

QByteArray HttpResponse::header(const QByteArray &name) const
{
    for (const auto &[key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

QList<QByteArray> HttpResponse::headerValues(const QByteArray &name) const
{
    QList<QByteArray> out;
    for (const auto &[key, value] : headers)
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            out << value;
    return out;
}

HttpClient::HttpClient(QNetworkAccessManager *nam) : HttpClient(nam, Options{}) {}

HttpClient::HttpClient(QNetworkAccessManager *nam, Options options)
    : m_nam(nam), m_options(std::move(options))
{}

namespace {

// How much of a body Qt may read ahead of us (see setReadBufferSize in sendHop).
constexpr qint64 kReadChunkBytes = 64 * 1024;

// Why a reply ended without a usable response; set before abort() so finished() can tell.
enum class AbortReason { None, TooLarge, Deadline, InsecureRedirect, RedirectLoop, Cancelled };

Error transportError(QNetworkReply *reply, AbortReason reason, const HttpClient::Options &options)
{
    const QString where = reply->url().host();
    switch (reason) {
    case AbortReason::TooLarge:
        return Error::network(
            QStringLiteral("response_too_large"),
            QStringLiteral("response from %1 exceeds %2 bytes").arg(where).arg(options.maxBodyBytes));
    case AbortReason::Deadline:
        return Error::network(QStringLiteral("timeout"), QStringLiteral("%1 did not answer within %2 s")
                                                             .arg(where)
                                                             .arg(options.timeoutMs / 1000.0, 0, 'g', 3));
    case AbortReason::InsecureRedirect:
        return Error::security(QStringLiteral("insecure_redirect"),
                               QStringLiteral("%1 redirected to a non-HTTPS URL").arg(where));
    case AbortReason::RedirectLoop:
        return Error::network(QStringLiteral("redirect_loop"),
                              QStringLiteral("%1 redirects too many times").arg(where));
    case AbortReason::Cancelled:
        return Error::cancelled();
    case AbortReason::None:
        break;
    }
    switch (reply->error()) {
    case QNetworkReply::OperationCanceledError: // transfer timeout fires as a cancel
    case QNetworkReply::TimeoutError:
        return Error::network(QStringLiteral("timeout"), QStringLiteral("%1 did not answer within %2 s")
                                                             .arg(where)
                                                             .arg(options.timeoutMs / 1000.0, 0, 'g', 3));
    default:
        return HttpErrors::fromReply(reply);
    }
}

} // namespace

QPointer<QNetworkReply> HttpClient::send(const HttpRequest &request, QObject *context, Callback done) const
{
    return sendHop(m_nam, m_options, request, context, std::move(done), m_options.maxRedirects);
}

// One hop of a request. Redirects are followed here rather than by Qt, so every hop gets the same
// checks: the hop count, and the HTTPS-except-loopback rule (a redirect is only followed for GET).
QPointer<QNetworkReply> HttpClient::sendHop(QNetworkAccessManager *nam, const Options &options,
                                            const HttpRequest &request, QObject *context, Callback done,
                                            int hopsLeft)
{
    if (!request.url.isValid() || request.url.host().isEmpty()) {
        QTimer::singleShot(0, context, [done] {
            done(Error::protocol(QStringLiteral("invalid_url"), QStringLiteral("not a valid absolute URL")));
        });
        return {};
    }
    if (request.requireSecure && !isSecureEndpoint(request.url)) {
        const QString host = request.url.host();
        QTimer::singleShot(0, context, [done, host] {
            done(Error::security(
                QStringLiteral("insecure_url"),
                QStringLiteral("refusing plain HTTP to %1: HTTPS is required except on loopback").arg(host)));
        });
        return {};
    }

    QNetworkRequest req(request.url);
    req.setTransferTimeout(options.timeoutMs);
    req.setHeader(QNetworkRequest::UserAgentHeader, options.userAgent);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    req.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    for (const auto &[name, value] : request.headers)
        req.setRawHeader(name, value);

    QNetworkReply *reply = nullptr;
    switch (request.method) {
    case HttpRequest::Method::Get:
        reply = nam->get(req);
        break;
    case HttpRequest::Method::Post:
        // Never resent by Qt: a token request sent twice could spend a rotated refresh token twice.
        reply = OneShotPost::post(nam, req, request.body);
        break;
    case HttpRequest::Method::Delete:
        reply = nam->deleteResource(req);
        break;
    }
    // Back-pressure for the size cap. Without a read buffer limit Qt's HTTP thread reads a streamed
    // body (no Content-Length) as fast as the server sends it, and downloadProgress (throttled to one
    // per 100 ms) reports it late: the hostile e2e test found the agent holding a whole 10 MB body,
    // and hundreds of MB when given them, before the abort. With a small read buffer that readyRead
    // drains into `body`, Qt reads only as fast as this thread counts. (Qt's own limit is not byte
    // exact, so it is not the cap itself: the count below is.)
    reply->setReadBufferSize(kReadChunkBytes);
    qCDebug(lcNet) << "request" << redactUrl(request.url);

    auto reason = std::make_shared<AbortReason>(AbortReason::None);

    // Overall deadline: the transfer timeout alone does not catch a server that trickles bytes.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    QObject::connect(deadline, &QTimer::timeout, reply, [reply, reason] {
        *reason = AbortReason::Deadline;
        reply->abort();
    });
    deadline->start(options.timeoutMs * 2);

    auto checkSize = [reply, reason, maxBytes = options.maxBodyBytes](qint64 received) {
        if (received > maxBytes && *reason == AbortReason::None) {
            *reason = AbortReason::TooLarge;
            reply->abort();
        }
    };
    QObject::connect(reply, &QNetworkReply::metaDataChanged, reply, [reply, checkSize] {
        const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
        if (length.isValid())
            checkSize(length.toLongLong());
    });
    auto body = std::make_shared<QByteArray>();
    QObject::connect(reply, &QNetworkReply::readyRead, reply, [reply, reason, body, checkSize] {
        if (*reason != AbortReason::None)
            return;
        body->append(reply->readAll());
        checkSize(body->size());
    });

    // The reply is freed when it finishes even if `context` is gone by then (its lambda below is
    // then disconnected and never runs).
    QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    QObject::connect(reply, &QNetworkReply::finished, context,
                     [nam, options, request, context, done, hopsLeft, reply, reason, body] {
                         if (reply->property("mcpauth_cancelled").toBool())
                             *reason = AbortReason::Cancelled;
                         const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
                         if (*reason != AbortReason::None || !status.isValid()) {
                             done(transportError(reply, *reason, options));
                             return;
                         }
                         HttpResponse response;
                         response.status = status.toInt();
                         response.url = reply->url();
                         const auto raw = reply->rawHeaderPairs();
                         for (const auto &pair : raw)
                             response.headers.emplaceBack(pair.first, pair.second);
                         body->append(reply->readAll());
                         response.body = std::move(*body);
                         if (response.body.size() > options.maxBodyBytes) {
                             done(transportError(reply, AbortReason::TooLarge, options));
                             return;
                         }
                         qCDebug(lcNet) << "response" << response.status << "from" << redactUrl(response.url);

                         const bool isRedirect = response.status == 301 || response.status == 302 ||
                                                 response.status == 303 || response.status == 307 ||
                                                 response.status == 308;
                         const QByteArray location = response.header(QByteArrayLiteral("Location"));
                         if (request.followRedirects && request.method == HttpRequest::Method::Get &&
                             isRedirect && !location.isEmpty()) {
                             if (hopsLeft <= 0) {
                                 done(transportError(reply, AbortReason::RedirectLoop, options));
                                 return;
                             }
                             HttpRequest next = request;
                             next.url = response.url.resolved(QUrl::fromEncoded(location));
                             if (request.requireSecure && !isSecureEndpoint(next.url)) {
                                 done(transportError(reply, AbortReason::InsecureRedirect, options));
                                 return;
                             }
                             sendHop(nam, options, next, context, done, hopsLeft - 1);
                             return;
                         }
                         done(std::move(response));
                     });
    return reply;
}

void HttpClient::cancel(const QPointer<QNetworkReply> &reply)
{
    if (!reply)
        return;
    reply->setProperty("mcpauth_cancelled", true);
    reply->abort();
}

} // namespace mcpauth
