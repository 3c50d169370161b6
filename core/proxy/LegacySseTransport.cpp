#include "proxy/LegacySseTransport.h"

#include "common/JsonRpc.h"
#include "net/HttpErrors.h"
#include "net/Origin.h"

#include "common/Log.h"
#include "common/Redact.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

namespace mcpauth {

LegacySseTransport::LegacySseTransport(QNetworkAccessManager *nam, QUrl sseUrl, McpHttp::Headers extraHeaders,
                                       QObject *parent)
    : McpTransport(parent), m_nam(nam), m_sseUrl(std::move(sseUrl)), m_extraHeaders(std::move(extraHeaders)),
      m_connectTimer(new QTimer(this))
{
    m_connectTimer->setSingleShot(true);
    connect(m_connectTimer, &QTimer::timeout, this, [this] {
        if (m_stream)
            m_stream->abort();
    });
}

LegacySseTransport::~LegacySseTransport()
{
    stopAll();
}

void LegacySseTransport::stopAll()
{
    m_connectTimer->stop();
    QList<QNetworkReply *> replies(m_posts.cbegin(), m_posts.cend());
    m_posts.clear();
    if (m_stream)
        replies << m_stream;
    m_stream = nullptr;
    for (QNetworkReply *reply : std::as_const(replies)) {
        QObject::disconnect(reply, nullptr, this, nullptr);
        reply->abort();
        reply->deleteLater();
    }
}

void LegacySseTransport::setTimeouts(int connectTimeoutMs, int postTimeoutMs)
{
    m_connectTimeoutMs = connectTimeoutMs;
    m_postTimeoutMs = postTimeoutMs;
}

void LegacySseTransport::start()
{
    if (m_state == State::Idle || m_state == State::NeedsToken)
        openStream();
}

void LegacySseTransport::setAccessToken(const QString &token)
{
    m_token = token;
    if (m_state == State::NeedsToken && !token.isEmpty())
        openStream();
}

void LegacySseTransport::openStream()
{
    m_state = State::Connecting;
    m_streamOpen = false;
    m_parser = SseParser();
    QNetworkRequest req =
        McpHttp::request(m_sseUrl, QByteArrayLiteral("text/event-stream"), m_extraHeaders, m_token);
    qCDebug(lcProxy) << "legacy SSE: GET" << redactUrl(m_sseUrl);
    m_stream = m_nam->get(req);
    m_connectTimer->start(m_connectTimeoutMs);
    connect(m_stream, &QNetworkReply::metaDataChanged, this, [this] {
        if (McpHttp::status(m_stream) == 200 && McpHttp::mediaType(m_stream) == McpHttp::eventStreamType) {
            m_streamOpen = true;
            m_connectTimer->stop(); // the stream itself is long-lived
        }
    });
    connect(m_stream, &QNetworkReply::readyRead, this, &LegacySseTransport::onStreamData);
    connect(m_stream, &QNetworkReply::finished, this, &LegacySseTransport::onStreamFinished);
}

void LegacySseTransport::onStreamData()
{
    if (!m_stream || !m_streamOpen)
        return;
    const Result<QList<SseEvent>> events = m_parser.feed(m_stream->readAll());
    if (!events) {
        abandon(events.error());
        return;
    }
    for (const SseEvent &event : *events) {
        handleEvent(event);
        if (m_state == State::Closed)
            return;
    }
}

void LegacySseTransport::handleEvent(const SseEvent &event)
{
    if (event.event == QLatin1String("endpoint")) {
        const QUrl url = m_sseUrl.resolved(QUrl(event.data.trimmed()));
        // 2024-11-05 transport: the endpoint must be on the server we trust with the token.
        if (!url.isValid() || !Origin::same(url, m_sseUrl)) {
            abandon(
                Error::security(QStringLiteral("cross_origin_endpoint"),
                                QStringLiteral("the server named a message endpoint on another origin (%1)")
                                    .arg(redactUrl(url))));
            return;
        }
        const bool first = m_postUrl.isEmpty();
        m_postUrl = url;
        if (first) {
            m_state = State::Open;
            const QList<Json> queued = std::exchange(m_queued, {});
            for (const Json &message : queued)
                post(message);
        }
        return;
    }
    if (event.event != QLatin1String("message") || event.data.trimmed().isEmpty())
        return;
    const Result<QList<Json>> messages =
        McpHttp::parseMessages(event.data.toUtf8(), QStringLiteral("server-sent event"));
    if (!messages) {
        qCWarning(lcProxy) << "legacy SSE: skipping an event:" << messages.error().message;
        return;
    }
    for (const Json &message : *messages) {
        if (message.contains("id") && !message.contains("method"))
            m_owed.removeIf([&message](const Json &owed) { return owed["id"] == message["id"]; });
        Q_EMIT messageReceived(message);
        if (m_state == State::Closed)
            return;
    }
}

void LegacySseTransport::onStreamFinished()
{
    QNetworkReply *reply = m_stream;
    if (!reply)
        return;
    reply->deleteLater();
    m_stream = nullptr;
    m_connectTimer->stop();
    if (m_state == State::Closed)
        return;
    const int status = McpHttp::status(reply);
    if (status == 401 || status == 403) {
        m_state = State::NeedsToken;
        Q_EMIT authorizationRequired(Json(), status, McpHttp::challenge(reply));
        return;
    }
    if (m_streamOpen) {
        if (const QByteArray rest = reply->readAll(); !rest.isEmpty())
            if (const auto events = m_parser.feed(rest); events)
                for (const SseEvent &event : *events)
                    handleEvent(event);
        abandon(Error::network(QStringLiteral("stream_broken"),
                               QStringLiteral("%1 ended the SSE stream").arg(m_sseUrl.host())));
        return;
    }
    const QString host = m_sseUrl.host();
    if (status == 400 || status == 404 || status == 405) {
        abandon(
            Error::protocol(QStringLiteral("transport_unsupported"),
                            QStringLiteral("%1 does not speak HTTP+SSE (HTTP %2)").arg(host).arg(status)));
    } else if (status >= 500) {
        abandon(HttpErrors::fromStatus(host, status, reply->readAll()));
    } else if (status != 0) {
        abandon(Error::protocol(QStringLiteral("transport_unsupported"),
                                QStringLiteral("%1 answered the SSE GET with HTTP %2 %3")
                                    .arg(host)
                                    .arg(status)
                                    .arg(QString::fromLatin1(McpHttp::mediaType(reply)))));
    } else {
        abandon(HttpErrors::fromReply(reply));
    }
}

void LegacySseTransport::send(const Json &message)
{
    if (m_state == State::Closed) {
        QTimer::singleShot(0, this, [this, message] {
            Q_EMIT sendFailed(message, Error::cancelled(QStringLiteral("the transport is closed")));
        });
        return;
    }
    if (m_state != State::Open) {
        m_queued << message;
        if (m_state == State::Idle)
            openStream();
        return;
    }
    post(message);
}

void LegacySseTransport::post(const Json &message, const QUrl &url, int redirects)
{
    QNetworkRequest req =
        McpHttp::request(url.isEmpty() ? m_postUrl : url,
                         QByteArrayLiteral("application/json, text/event-stream"), m_extraHeaders, m_token);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setTransferTimeout(m_postTimeoutMs);
    // Sent at most once (see McpHttp::postOnce); same-origin 307/308 are followed below.
    QNetworkReply *reply = McpHttp::postOnce(m_nam, req, toBytes(message));
    m_posts.insert(reply);
    if (JsonRpc::isRequest(message) && redirects == 0)
        m_owed << message;
    connect(reply, &QNetworkReply::finished, this, [this, reply, message, redirects] {
        reply->deleteLater();
        m_posts.remove(reply);
        const int status = McpHttp::status(reply);
        if (status >= 200 && status < 300)
            return; // the answer comes on the stream
        if (const QUrl target = McpHttp::redirectTarget(reply);
            !target.isEmpty() && redirects < McpHttp::maxRedirects && m_state == State::Open)
            return post(message, target, redirects + 1);
        m_owed.removeIf([&message](const Json &owed) { return owed == message; });
        if (status == 401 || status == 403) {
            Q_EMIT authorizationRequired(message, status, McpHttp::challenge(reply));
        } else if (status != 0) {
            Q_EMIT sendFailed(message, HttpErrors::fromStatus(m_postUrl.host(), status, reply->readAll()));
        } else {
            Q_EMIT sendFailed(message, HttpErrors::fromReply(reply));
        }
    });
}

void LegacySseTransport::abandon(const Error &error)
{
    if (m_state == State::Closed)
        return;
    qCWarning(lcProxy) << "legacy SSE:" << error.message;
    QList<Json> failed = std::exchange(m_queued, {});
    failed += std::exchange(m_owed, {});
    m_state = State::Closed;
    stopAll();
    if (failed.isEmpty() && !m_streamOpen) {
        Q_EMIT sendFailed(Json(), error); // why the stream could not be opened
    }
    for (const Json &message : std::as_const(failed))
        Q_EMIT sendFailed(message, error);
    Q_EMIT closed();
}

void LegacySseTransport::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_queued.clear();
    m_owed.clear();
    stopAll();
    QTimer::singleShot(0, this, [this] { Q_EMIT closed(); });
}

} // namespace mcpauth

#include "moc_LegacySseTransport.cpp"
