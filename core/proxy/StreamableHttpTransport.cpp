#include "proxy/StreamableHttpTransport.h"

#include "common/JsonRpc.h"
#include "common/Log.h"
#include "common/Redact.h"
#include "proxy/StreamableHttpStream_p.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

// StreamableHttpTransport, part one: the session and its exchanges (POST, GET, DELETE). Part two
// (StreamableHttpTransportReading.cpp) reads what comes back.

namespace mcpauth {

namespace {

const QByteArray kPostAccept = QByteArrayLiteral("application/json, text/event-stream");

} // namespace

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
    return s && s->reply && s->phase == Stream::Phase::Streaming;
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
        req.setRawHeader(streamable::sessionHeader, m_sessionId.toLatin1());
    if (!m_protocolVersion.isEmpty())
        req.setRawHeader(streamable::versionHeader, m_protocolVersion.toLatin1());
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
    qCDebug(lcProxy) << (s->kind == Stream::Kind::Listen ? "GET stream" : "GET resume") << "from"
                     << redactUrl(m_endpoint);
    attach(key, m_nam->get(req), m_options.connectTimeoutMs);
}

void StreamableHttpTransport::attach(quint64 key, QNetworkReply *reply, int firstByteTimeoutMs)
{
    Stream *s = find(key);
    s->reply = reply;
    s->phase = Stream::Phase::Requesting;
    s->timer->disconnect(this);
    connect(s->timer, &QTimer::timeout, this, [this, key] {
        Stream *st = find(key);
        if (!st || !st->reply)
            return;
        st->phase = Stream::Phase::TimedOut;
        st->reply->abort();
    });
    s->timer->start(firstByteTimeoutMs);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, key] { onHeaders(key); });
    connect(reply, &QNetworkReply::readyRead, this, [this, key] { onData(key); });
    connect(reply, &QNetworkReply::finished, this, [this, key] { onFinished(key); });
}

void StreamableHttpTransport::scheduleReconnect(quint64 key, int delayMs)
{
    Stream *s = find(key);
    s->phase = Stream::Phase::Waiting;
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
