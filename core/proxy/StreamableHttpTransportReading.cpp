#include "proxy/StreamableHttpTransport.h"

#include "common/JsonRpc.h"
#include "common/Log.h"
#include "net/HttpErrors.h"
#include "proxy/StreamableHttpStream_p.h"

// StreamableHttpTransport, part two: what comes back on an exchange (headers, JSON or SSE bodies,
// the end of a stream) and what it means. Part one (StreamableHttpTransport.cpp) opens and closes
// exchanges and the session.

namespace mcpauth {

namespace {

// Spec basic/transports §Session Management: the session ID holds visible ASCII only.
bool isValidSessionId(const QByteArray &id)
{
    if (id.isEmpty())
        return false;
    for (const char c : id)
        if (c < 0x21 || c > 0x7e)
            return false;
    return true;
}

} // namespace

void StreamableHttpTransport::onHeaders(quint64 key)
{
    Stream *s = find(key);
    if (!s || !s->reply)
        return;
    const int status = McpHttp::status(s->reply);
    if (s->kind == Stream::Kind::Post && s->isInitialize && status >= 200 && status < 300) {
        const QByteArray session = s->reply->rawHeader(streamable::sessionHeader);
        if (isValidSessionId(session))
            m_sessionId = QString::fromLatin1(session);
    }
    if (status == 200 && McpHttp::mediaType(s->reply) == McpHttp::eventStreamType) {
        // SSE streams are long-lived: no timeout once the server answered.
        s->phase = Stream::Phase::Streaming;
        s->timer->stop();
    }
}

void StreamableHttpTransport::onData(quint64 key)
{
    Stream *s = find(key);
    if (!s || !s->reply)
        return;
    if (s->phase != Stream::Phase::Streaming) {
        if (s->reply->bytesAvailable() > m_options.maxJsonBytes)
            fail(key, Error::protocol(
                          QStringLiteral("malformed_response"),
                          QStringLiteral("response larger than %1 bytes").arg(m_options.maxJsonBytes)));
        return; // read whole in onFinished
    }
    if (!feedEvents(key, s->reply->readAll()))
        return;
    s = find(key);
    // The response arrived: the server SHOULD end the stream; do not hold the connection for it.
    if (s && s->phase == Stream::Phase::Answered)
        removeStream(key);
}

// Parses more of a stream's SSE bytes and delivers the complete events. False when the stream is
// gone afterwards (a parse error failed it, or delivering ended it).
bool StreamableHttpTransport::feedEvents(quint64 key, const QByteArray &bytes)
{
    Stream *s = find(key);
    const Result<QList<SseEvent>> events = s->parser.feed(bytes);
    if (!events) {
        fail(key, events.error());
        return false;
    }
    return deliverEvents(key, *events);
}

bool StreamableHttpTransport::deliverEvents(quint64 key, const QList<SseEvent> &events)
{
    for (const SseEvent &event : events) {
        if (event.event != QLatin1String("message") || event.data.trimmed().isEmpty())
            continue; // SEP-1699 priming events carry an id and empty data
        if (Stream *s = find(key))
            s->attempts = 0; // progress: the reconnection budget starts over
        const Result<QList<Json>> messages =
            McpHttp::parseMessages(event.data.toUtf8(), QStringLiteral("server-sent event"));
        if (!messages) {
            fail(key, messages.error());
            return false;
        }
        for (const Json &message : *messages)
            if (!deliver(key, message))
                return false;
    }
    return find(key) != nullptr;
}

bool StreamableHttpTransport::deliver(quint64 key, const Json &message)
{
    Stream *s = find(key);
    if (!s)
        return false;
    const bool isResponse =
        !message.contains("method") && (message.contains("result") || message.contains("error"));
    if (isResponse && !s->requestId.is_null() && message.contains("id") && message["id"] == s->requestId) {
        s->phase = Stream::Phase::Answered;
        if (s->isInitialize && message.contains("result")) {
            const QString version = jsonString(message["result"], "protocolVersion");
            if (!version.isEmpty())
                m_protocolVersion = version;
        }
    }
    Q_EMIT messageReceived(message);
    // The receiver may have closed the transport or sent more: look the stream up again.
    return m_state == State::Open && find(key) != nullptr;
}

void StreamableHttpTransport::fail(quint64 key, const Error &error)
{
    Stream *s = find(key);
    if (!s)
        return;
    const Json message = s->message;
    const bool owesAnswer = s->kind != Stream::Kind::Listen;
    if (!owesAnswer)
        qCWarning(lcProxy) << "server-initiated stream:" << error.message;
    removeStream(key);
    if (owesAnswer && m_state == State::Open)
        Q_EMIT sendFailed(message, error);
}

void StreamableHttpTransport::onFinished(quint64 key)
{
    Stream *s = find(key);
    if (!s || !s->reply)
        return;
    QNetworkReply *reply = s->reply;
    reply->deleteLater();
    s->timer->stop();
    const int status = McpHttp::status(reply);

    if (s->phase == Stream::Phase::Streaming) {
        // Whatever arrived with the end of the stream.
        if (const QByteArray rest = reply->readAll(); !rest.isEmpty()) {
            if (!feedEvents(key, rest))
                return;
            s = find(key);
        }
        s->reply = nullptr;
        onStreamEnded(key, reply->error() == QNetworkReply::NoError ? Error{} : HttpErrors::fromReply(reply));
        return;
    }
    s->reply = nullptr;
    if (status == 0) {
        const Error error =
            s->phase == Stream::Phase::TimedOut
                ? Error::network(QStringLiteral("timeout"),
                                 QStringLiteral("%1 did not answer in time").arg(m_endpoint.host()))
                : HttpErrors::fromReply(reply);
        if (s->kind == Stream::Kind::Post)
            fail(key, error);
        else
            onStreamEnded(key, error);
        return;
    }
    if (s->kind == Stream::Kind::Post) {
        onPostFinished(key, reply, status);
        return;
    }

    // A GET (resume or the server-initiated stream) that did not open an SSE stream.
    if (status == 401 || status == 403) {
        if (s->kind == Stream::Kind::Listen) {
            const BearerChallenge challenge = McpHttp::challenge(reply);
            removeStream(key);
            m_listen = ListenState::NeedsToken; // re-opened by setAccessToken()
            Q_EMIT authorizationRequired(Json(), status, challenge);
        } else {
            fail(key, Error::network(
                          QStringLiteral("stream_broken"),
                          QStringLiteral("resuming the response stream was refused (HTTP %1)").arg(status)));
        }
        return;
    }
    if (s->kind == Stream::Kind::Listen && (status == 405 || status == 404 || status == 400)) {
        // Spec: 405 means the server offers no stream at this endpoint; that is fine.
        qCDebug(lcProxy) << "no server-initiated stream: HTTP" << status;
        removeStream(key);
        m_listen = ListenState::Stopped;
        return;
    }
    if (s->kind == Stream::Kind::Resume && status >= 400 && status < 500) {
        fail(key,
             Error::network(
                 QStringLiteral("stream_broken"),
                 QStringLiteral("the response stream broke and cannot be resumed (HTTP %1)").arg(status)));
        return;
    }
    onStreamEnded(key, HttpErrors::fromStatus(m_endpoint.host(), status, reply->readAll()));
}

void StreamableHttpTransport::onPostFinished(quint64 key, QNetworkReply *reply, int status)
{
    Stream *s = find(key);
    const QByteArray body = reply->readAll();
    const QString host = m_endpoint.host();

    if (status == 307 || status == 308) {
        // postOnce() follows no redirect itself: POST the same message again, same origin only.
        const QUrl target = McpHttp::redirectTarget(reply);
        if (target.isEmpty() || s->redirects >= McpHttp::maxRedirects) {
            fail(key,
                 Error::protocol(QStringLiteral("http_error"),
                                 QStringLiteral("%1 answered HTTP %2 with a redirect that is not followed "
                                                "(another origin, or too many)")
                                     .arg(host)
                                     .arg(status)));
            return;
        }
        ++s->redirects;
        s->postUrl = target;
        post(key);
        return;
    }
    if (status >= 200 && status < 300) {
        m_established = true;
        // Read any body as JSON, whatever its Content-Type says (some servers omit it).
        if (!body.trimmed().isEmpty()) {
            const Result<QList<Json>> messages = McpHttp::parseMessages(body, QStringLiteral("response"));
            if (!messages) {
                fail(key, messages.error());
                return;
            }
            for (const Json &message : *messages)
                if (!deliver(key, message))
                    return;
        }
        s = find(key);
        if (!s->requestId.is_null() && s->phase != Stream::Phase::Answered) {
            fail(key, Error::protocol(QStringLiteral("malformed_response"),
                                      QStringLiteral("%1 answered HTTP %2 without the JSON-RPC response")
                                          .arg(host)
                                          .arg(status)));
            return;
        }
        const bool initialized = JsonRpc::method(s->message) == QLatin1String("notifications/initialized");
        removeStream(key);
        if (initialized)
            openListenStream();
        return;
    }
    if (status == 401 || status == 403) {
        const Json message = s->message;
        const BearerChallenge challenge = McpHttp::challenge(reply);
        removeStream(key);
        Q_EMIT authorizationRequired(message, status, challenge);
        return;
    }
    if (status == 404 && s->sentSession) {
        // Spec: 404 to a request with a session ID means the session is gone; start a new one.
        m_sessionId.clear();
        m_protocolVersion.clear();
        removeStream(m_listenKey);
        m_listen = ListenState::Off;
        fail(key, Error::protocol(QStringLiteral("session_expired"),
                                  QStringLiteral("%1 no longer knows this MCP session").arg(host)));
        return;
    }
    // Checklist 21/31: a JSON-RPC error in the body is the server's answer to this request (a
    // modern server refusing initialize with -32022, say): the host gets it, and no fallback.
    if (const std::optional<Json> response =
            s->requestId.is_null() ? std::nullopt : McpHttp::errorResponse(body, s->requestId)) {
        if (deliver(key, *response) && find(key))
            removeStream(key);
        return;
    }
    if (!m_established && !s->sentSession && (status == 400 || status == 404 || status == 405)) {
        fail(key, Error::protocol(
                      QStringLiteral("transport_unsupported"),
                      QStringLiteral("%1 does not speak Streamable HTTP (HTTP %2)").arg(host).arg(status)));
        return;
    }
    fail(key, HttpErrors::fromStatus(host, status, body));
}

// An SSE stream ended (cleanly or not) or a GET for one failed.
void StreamableHttpTransport::onStreamEnded(quint64 key, const Error &why)
{
    Stream *s = find(key);
    if (!s || m_state != State::Open)
        return;
    if (s->kind == Stream::Kind::Listen) {
        // The server may end its stream at any time (SEP-1699 polling); reconnect after `retry:`.
        if (why.code.isEmpty()) {
            s->attempts = 0;
        } else if (++s->attempts > m_options.maxListenFailures) {
            qCWarning(lcProxy) << "giving up the server-initiated stream:" << why.message;
            removeStream(key);
            m_listen = ListenState::Stopped;
            return;
        }
        int delay = s->parser.retryMs().value_or(m_options.defaultRetryMs);
        if (!why.code.isEmpty() && !s->parser.retryMs())
            delay = std::min(m_options.maxRetryMs, m_options.defaultRetryMs << std::min(s->attempts - 1, 10));
        scheduleReconnect(key, delay);
        return;
    }
    if (s->phase == Stream::Phase::Answered || s->requestId.is_null()) {
        removeStream(key);
        return;
    }
    // The response is still owed. Spec §Resumability: resume only when the server gave event IDs.
    if (s->parser.lastEventId().isEmpty()) {
        fail(key,
             Error::network(QStringLiteral("stream_broken"),
                            QStringLiteral("the response stream from %1 ended before the response%2")
                                .arg(m_endpoint.host(),
                                     why.code.isEmpty() ? QString() : QStringLiteral(": ") + why.message)));
        return;
    }
    if (++s->attempts > m_options.maxResumeAttempts) {
        fail(key, Error::network(QStringLiteral("stream_broken"),
                                 QStringLiteral("the response stream from %1 broke %2 times in a row")
                                     .arg(m_endpoint.host())
                                     .arg(s->attempts)));
        return;
    }
    s->kind = Stream::Kind::Resume;
    scheduleReconnect(key, s->parser.retryMs().value_or(m_options.defaultRetryMs));
}

} // namespace mcpauth
