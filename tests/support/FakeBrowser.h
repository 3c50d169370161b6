#pragma once

#include "login/Browser.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QUrlQuery>

#include <functional>

namespace mcpauth::test {

/// A Browser for engine tests: "visits" the authorization URL like a user who approves at once,
/// follows the authorization server's redirect to the loopback callback, and records launches.
/// `tamper` can rewrite the callback query (wrong state, wrong iss) to test refusals; with
/// `thenRealCallback` the tampered callback goes first, as a forger's would, and the real one after
/// it has been answered (`tamperedStatus`).
class FakeBrowser : public Browser
{
public:
    int launches = 0;
    QUrl lastUrl;
    std::function<void(QUrlQuery &)> tamper;
    bool thenRealCallback = false;
    int tamperedStatus = 0;

    Status open(const QUrl &url) override
    {
        ++launches;
        lastUrl = url;
        QNetworkRequest req(url);
        req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        QNetworkReply *reply = m_nam.get(req);
        QObject::connect(reply, &QNetworkReply::finished, &m_nam, [this, reply] {
            reply->deleteLater();
            QUrl callback = QUrl::fromEncoded(reply->rawHeader("Location"));
            if (!callback.isValid())
                return;
            const QUrl real = callback;
            if (tamper) {
                QUrlQuery q(callback);
                tamper(q);
                callback.setQuery(q);
            }
            QNetworkReply *page = m_nam.get(QNetworkRequest(callback));
            QObject::connect(page, &QNetworkReply::finished, page, [this, page, real] {
                page->deleteLater();
                if (!tamper || !thenRealCallback)
                    return;
                tamperedStatus = page->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                QNetworkReply *second = m_nam.get(QNetworkRequest(real));
                QObject::connect(second, &QNetworkReply::finished, second, &QObject::deleteLater);
            });
        });
        return okStatus();
    }

private:
    QNetworkAccessManager m_nam;
};

} // namespace mcpauth::test
