#include "proxy/StreamableHttpTransport.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "net/HttpErrors.h"
#include "proxy/JsonRpc.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

namespace mcpauth {

namespace {

const QByteArray kSessionHeader = QByteArrayLiteral("Mcp-Session-Id");
const QByteArray kVersionHeader = QByteArrayLiteral("MCP-Protocol-Version");
const QByteArray kPostAccept = QByteArrayLiteral("application/json, text/event-stream");

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

// One HTTP exchange that carries server messages: a POSTed message, the GET resuming its broken SSE
// stream, or the server-initiated GET stream.
struct StreamableHttpTransport::Stream
{
    enum class Kind { Post, Resume, Listen };
    Kind kind = Kind::Post;
    Json message;   // the message POSTed (null for Listen)
    Json requestId; // the id whose response this stream owes; null when none is expected
    bool isInitialize = false;
    bool sentSession = false; // the POST carried Mcp-Session-Id
    QUrl postUrl;             // where a same-origin 307/308 sent the POST; empty: the endpoint
    int redirects = 0;
    QPointer<QNetworkReply> reply;
    QTimer *timer = nullptr; // first byte / transfer deadline, then reconnection delay
    SseParser parser;
    bool eventStream = false;
    bool answered = false;
    bool timedOut = false;
    int attempts = 0; // reconnections in a row that brought nothing

    explicit Stream(qsizetype maxEventBytes) : parser(maxEventBytes) {}
    ~Stream()
    {
        if (timer) {
            timer->stop();
            timer->deleteLater();
        }
        if (reply) {
            // Callers disconnected us first; abort() may emit finished() synchronously. A reply that
            // already failed needs no abort (Qt warns when its error is set twice).
            if (reply->isRunning() && reply->error() == QNetworkReply::NoError)
                reply->abort();
            reply->deleteLater();
        }
    }
};

StreamableHttpTransport::StreamableHttpTransport(QNetworkAccessManager *nam, QUrl endpoint,
                                                 McpHttp::Headers extraHeaders, QObject *parent)
    : McpTransport(parent), m_nam(nam), m_endpoint(std::move(endpoint)),
      m_extraHeaders(std::move(extraHeaders))
{}

StreamableHttpTransport::~StreamableHttpTransport()
{
    for (const auto &[key, stream] : m_streams)
        if (stream->reply)
            QObject::disconnect(stream->reply, nullptr, this, nullptr);
    m_streams.clear();
    if (m_deleteReply) {
        QObject::disconnect(m_deleteReply, nullptr, this, nullptr);
        m_deleteReply->abort();
        m_deleteReply->deleteLater();
    }
}

bool StreamableHttpTransport::isListening() const
{
    const Stream *s = find(m_listenKey);
    return s && s->reply && s->eventStream;
}

void StreamableHttpTransport::start()
{
    if (m_state == State::Idle)
        m_state = State::Open;
}

void StreamableHttpTransport::setAccessToken(const QString &token)
{
    m_token = token;
    if (m_listen == ListenState::NeedsToken && m_state == State::Open && !token.isEmpty()) {
        m_listen = ListenState::Off;
        openListenStream();
    }
}

void StreamableHttpTransport::send(const Json &message)
{
    if (m_state == State::Idle)
        m_state = State::Open;
    if (m_state != State::Open) {
        QTimer::singleShot(0, this, [this, message] {
            Q_EMIT sendFailed(message, Error::cancelled(QStringLiteral("the transport is closed")));
        });
        return;
    }
    auto stream = std::make_unique<Stream>(m_options.maxEventBytes);
    stream->kind = Stream::Kind::Post;
    stream->message = message;
    if (JsonRpc::isRequest(message))
        stream->requestId = message["id"];
    stream->isInitialize =
        JsonRpc::method(message) == QLatin1String("initialize") && JsonRpc::isRequest(message);
    if (stream->isInitialize) {
        // A new session (first, or after session_expired): no session ID, no version yet, and the
        // old session's GET stream is gone with it.
        m_sessionId.clear();
        m_protocolVersion.clear();
        removeStream(m_listenKey);
        m_listen = ListenState::Off;
    }
    post(addStream(std::move(stream)));
}

StreamableHttpTransport::Stream *StreamableHttpTransport::find(quint64 key) const
{
    const auto it = m_streams.find(key);
    return it == m_streams.end() ? nullptr : it->second.get();
}

quint64 StreamableHttpTransport::addStream(std::unique_ptr<Stream> stream)
{
    const quint64 key = m_nextKey++;
    stream->timer = new QTimer(this);
    stream->timer->setSingleShot(true);
    // SEP-1699: the client MUST wait the `retry:` delay; a coarse timer may fire 5 % early.
    stream->timer->setTimerType(Qt::PreciseTimer);
    m_streams.emplace(key, std::move(stream));
    return key;
}

void StreamableHttpTransport::removeStream(quint64 key)
{
    const auto it = m_streams.find(key);
    if (it == m_streams.end())
        return;
    std::unique_ptr<Stream> stream = std::move(it->second);
    m_streams.erase(it);
    if (key == m_listenKey)
        m_listenKey = 0;
    if (stream->reply)
        QObject::disconnect(stream->reply, nullptr, this, nullptr);
    // ~Stream aborts the reply.
}

QNetworkRequest StreamableHttpTransport::buildRequest(const QByteArray &accept, const QUrl &url) const
{
    QNetworkRequest req = McpHttp::request(url.isEmpty() ? m_endpoint : url, accept, m_extraHeaders, m_token);
    if (!m_sessionId.isEmpty())
        req.setRawHeader(kSessionHeader, m_sessionId.toLatin1());
    if (!m_protocolVersion.isEmpty())
        req.setRawHeader(kVersionHeader, m_protocolVersion.toLatin1());
    return req;
}

void StreamableHttpTransport::post(quint64 key)
{
    Stream *s = find(key);
    QNetworkRequest req = buildRequest(kPostAccept, s->postUrl);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    s->sentSession = !m_sessionId.isEmpty();
    qCDebug(lcProxy) << "POST" << JsonRpc::method(s->message) << "to" << redactUrl(req.url());
    // Sent at most once: a connection cut before the answer fails this message (connection_lost)
    // rather than running a tools/call twice.
    attach(key, McpHttp::postOnce(m_nam, req, toBytes(s->message)), m_options.requestTimeoutMs);
}

void StreamableHttpTransport::get(quint64 key)
{
    Stream *s = find(key);
    QNetworkRequest req = buildRequest(QByteArrayLiteral("text/event-stream"));
    // Spec basic/transports §Resumability: resume after the last event this stream delivered.
    if (!s->parser.lastEventId().isEmpty())
        req.setRawHeader(QByteArrayLiteral("Last-Event-ID"), s->parser.lastEventId().toUtf8());
    s->parser.restart();
    s->eventStream = false;
    s->timedOut = false;
    qCDebug(lcProxy) << (s->kind == Stream::Kind::Listen ? "GET stream" : "GET resume") << "from"
                     << redactUrl(m_endpoint);
    attach(key, m_nam->get(req), m_options.connectTimeoutMs);
}

void StreamableHttpTransport::attach(quint64 key, QNetworkReply *reply, int firstByteTimeoutMs)
{
    Stream *s = find(key);
    s->reply = reply;
    s->timer->disconnect(this);
    connect(s->timer, &QTimer::timeout, this, [this, key] {
        Stream *st = find(key);
        if (!st || !st->reply)
            return;
        st->timedOut = true;
        st->reply->abort();
    });
    s->timer->start(firstByteTimeoutMs);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, key] { onHeaders(key); });
    connect(reply, &QNetworkReply::readyRead, this, [this, key] { onData(key); });
    connect(reply, &QNetworkReply::finished, this, [this, key] { onFinished(key); });
}

void StreamableHttpTransport::onHeaders(quint64 key)
{
    Stream *s = find(key);
    if (!s || !s->reply)
        return;
    const int status = McpHttp::status(s->reply);
    if (s->kind == Stream::Kind::Post && s->isInitialize && status >= 200 && status < 300) {
        const QByteArray session = s->reply->rawHeader(kSessionHeader);
        if (isValidSessionId(session))
            m_sessionId = QString::fromLatin1(session);
    }
    if (status == 200 && McpHttp::mediaType(s->reply) == McpHttp::eventStreamType) {
        // SSE streams are long-lived: no timeout once the server answered.
        s->eventStream = true;
        s->timer->stop();
    }
}

void StreamableHttpTransport::onData(quint64 key)
{
    Stream *s = find(key);
    if (!s || !s->reply)
        return;
    if (!s->eventStream) {
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
    if (s && s->kind != Stream::Kind::Listen && s->answered)
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
        s->answered = true;
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

    if (s->eventStream) {
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
            s->timedOut ? Error::network(QStringLiteral("timeout"),
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
        if (!s->requestId.is_null() && !s->answered) {
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
    if (s->answered || s->requestId.is_null()) {
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

void StreamableHttpTransport::scheduleReconnect(quint64 key, int delayMs)
{
    Stream *s = find(key);
    s->timer->disconnect(this);
    connect(s->timer, &QTimer::timeout, this, [this, key] {
        if (find(key) && m_state == State::Open)
            get(key);
    });
    qCDebug(lcProxy) << "reconnecting in" << delayMs << "ms";
    s->timer->start(std::max(0, delayMs));
}

void StreamableHttpTransport::openListenStream()
{
    if (m_state != State::Open || m_listen != ListenState::Off || m_listenKey != 0)
        return;
    auto stream = std::make_unique<Stream>(m_options.maxEventBytes);
    stream->kind = Stream::Kind::Listen;
    m_listenKey = addStream(std::move(stream));
    m_listen = ListenState::Active;
    get(m_listenKey);
}

void StreamableHttpTransport::close()
{
    if (m_state == State::Closing || m_state == State::Closed)
        return;
    m_state = State::Closing;
    while (!m_streams.empty())
        removeStream(m_streams.begin()->first);
    if (m_sessionId.isEmpty()) {
        QTimer::singleShot(0, this, [this] { finishClose(); });
        return;
    }
    // Spec §Session Management: end the session explicitly; 405 means the server does not allow it.
    QNetworkRequest req = buildRequest(QByteArrayLiteral("application/json, text/event-stream"));
    req.setTransferTimeout(m_options.connectTimeoutMs);
    m_deleteReply = m_nam->deleteResource(req);
    connect(m_deleteReply, &QNetworkReply::finished, this, [this] {
        qCDebug(lcProxy) << "session DELETE answered" << McpHttp::status(m_deleteReply);
        m_deleteReply->deleteLater();
        finishClose();
    });
}

void StreamableHttpTransport::finishClose()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    Q_EMIT closed();
}

} // namespace mcpauth

#include "moc_StreamableHttpTransport.cpp"
