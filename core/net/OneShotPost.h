#pragma once

#include <QByteArray>
#include <QNetworkRequest>

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpauth {

/// POST that Qt can send at most once. By default QNetworkAccessManager silently sends a POST again
/// when the connection drops before the answer; RFC 9110 §9.2.2 forbids that for non-idempotent
/// requests, and for OAuth it is worse than a duplicate tool call: a refresh request sent twice
/// presents a rotated refresh token twice, which the authorization server treats as theft and
/// answers by revoking the grant. The body is a sequential device that cannot be rewound, so a
/// dropped connection surfaces as an error (ContentReSendError) instead.
class OneShotPost
{
public:
    static QNetworkReply *post(QNetworkAccessManager *nam, QNetworkRequest request, const QByteArray &body);
};

} // namespace mcpauth
