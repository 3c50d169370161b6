#pragma once

#include "common/Result.h"

#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpauth {

struct HttpRequest
{
    enum class Method { Get, Post, Delete };
    Method method = Method::Get;
    QUrl url;
    QList<QPair<QByteArray, QByteArray>> headers; ///< extra request headers
    QByteArray body;                              ///< for POST
    bool followRedirects = true;                  ///< same-or-safer hops only, each checked by requireSecure
    bool requireSecure = true; ///< refuse http:// to non-loopback hosts (initial URL and hops)

    static HttpRequest get(const QUrl &url);
    /// application/x-www-form-urlencoded POST (token, revocation endpoints). Never follows redirects.
    static HttpRequest postForm(const QUrl &url, const QByteArray &formBody);
    /// application/json POST (registration endpoint). Never follows redirects.
    static HttpRequest postJson(const QUrl &url, const QByteArray &jsonBody);
};

/// An HTTP response of any status. Non-2xx is not an Error at this level: callers read 401
/// challenges and OAuth error bodies from it.
struct HttpResponse
{
    int status = 0;
    QUrl url; ///< final URL after redirects
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    bool isSuccess() const { return status >= 200 && status < 300; }
    /// First value of a header (case-insensitive name), or empty.
    QByteArray header(const QByteArray &name) const;
    /// Every value of a header, in order (several WWW-Authenticate lines, for instance).
    QList<QByteArray> headerValues(const QByteArray &name) const;
};

/// Bounded HTTP for everything core sends to a server it does not control. Every request has a
/// transfer timeout and an overall deadline, a response-size cap, a redirect limit, and the
/// HTTPS-except-loopback rule on the URL and every redirect hop. Failures to get any response
/// (refused, timeout, too large, TLS, redirect loop) are Error::network; an insecure URL is
/// Error::security. Uses the injected QNetworkAccessManager; never a nested event loop.
class HttpClient
{
public:
    struct Options
    {
        int timeoutMs = 15'000;
        qint64 maxBodyBytes = 1024 * 1024;
        int maxRedirects = 5;
        QByteArray userAgent = QByteArrayLiteral("mcp-auth-agent/" MCPAUTH_VERSION);
    };
    using Callback = std::function<void(Result<HttpResponse>)>;

    explicit HttpClient(QNetworkAccessManager *nam);
    HttpClient(QNetworkAccessManager *nam, Options options);

    /// Sends the request; `done` runs exactly once on the event loop, unless `context` is destroyed
    /// first. Returns the reply so the caller can cancel() it (done then gets Error::cancelled).
    QPointer<QNetworkReply> send(const HttpRequest &request, QObject *context, Callback done) const;
    /// Aborts a request sent by send(); its callback receives Error::cancelled.
    static void cancel(const QPointer<QNetworkReply> &reply);

    const Options &options() const { return m_options; }
    QNetworkAccessManager *networkAccessManager() const { return m_nam; }

private:
    static QPointer<QNetworkReply> sendHop(QNetworkAccessManager *nam, const Options &options,
                                           const HttpRequest &request, QObject *context, Callback done,
                                           int hopsLeft);
    QNetworkAccessManager *m_nam;
    Options m_options;
};

} // namespace mcpauth
