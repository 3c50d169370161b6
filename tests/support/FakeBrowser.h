#pragma once

#include "login/Browser.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QUrlQuery>

#include <functional>

namespace mcpauth::test {

/// A Browser for engine tests: "visits" the authorization URL like a user who approves at once,
/// follows the authorization server's redirect to the loopback callback, and records launches.
/// `tamper` can rewrite the callback query (wrong state, wrong iss) to test refusals.
class FakeBrowser : public Browser
{
public:
    int launches = 0;
    QUrl lastUrl;
    std::function<void(QUrlQuery &)> tamper;

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
            if (tamper) {
                QUrlQuery q(callback);
                tamper(q);
                callback.setQuery(q);
            }
            QNetworkReply *page = m_nam.get(QNetworkRequest(callback));
            QObject::connect(page, &QNetworkReply::finished, page, &QObject::deleteLater);
        });
        return okStatus();
    }

private:
    QNetworkAccessManager m_nam;
};

} // namespace mcpauth::test
