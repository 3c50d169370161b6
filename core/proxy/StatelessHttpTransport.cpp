#include "proxy/StatelessHttpTransport.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "net/HttpErrors.h"
#include "proxy/JsonRpc.h"
#include "proxy/ModernWire.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QSet>
#include <QTimer>

namespace mcpauth {

namespace {

const QByteArray kAccept = QByteArrayLiteral("application/json, text/event-stream");

// Requests that change nothing on the server: a broken stream may send them again (changelog
// 2026-07-28 major 9: the client MUST re-issue as a new request with a new id).
bool isReadOnly(const QString &method)
{
    static const QSet<QString> readOnly = {QStringLiteral("server/discover"),
                                           QStringLiteral("tools/list"),
                                           QStringLiteral("prompts/list"),
                                           QStringLiteral("prompts/get"),
                                           QStringLiteral("resources/list"),
                                           QStringLiteral("resources/read"),
                                           QStringLiteral("resources/templates/list"),
                                           QStringLiteral("completion/complete")};
    return readOnly.contains(method);
}

} // namespace

// One POSTed request and the response stream it opened.
struct StatelessHttpTransport::Exchange
{
    Json message; // as the caller sent it (its id is the one the caller knows)
    Json wireId;  // the id on the wire: the caller's, or ours after a re-issue
    QString method;
    Phase phase = Phase::Sending;
    bool internal = false;    // our own tools/list refresh: never delivered
    quint64 retryKey = 0;     // internal: the tools/call waiting for this refresh
    bool reissued = false;    // a broken stream already sent it again
    bool headerRetry = false; // a -32020 already refreshed the declarations
    bool answered = false;
    bool timedOut = false;
    QUrl postUrl;
    int redirects = 0;
    QObject *owner;
    QPointer<QNetworkReply> reply;
    QTimer timer;
    SseParser parser;

    Exchange(QObject *owner, qsizetype maxEventBytes) : owner(owner), parser(maxEventBytes)
    {
        timer.setSingleShot(true);
    }
    ~Exchange()
    {
        if (reply) {
            // Only our connections: Qt's own carry the abort to the connection thread.
            QObject::disconnect(reply, nullptr, owner, nullptr);
            // Closing the stream is how a request is cancelled (§Cancellation).
            if (reply->isRunning())
                reply->abort();
            reply->deleteLater();
        }
    }
};

StatelessHttpTransport::StatelessHttpTransport(QNetworkAccessManager *nam, QUrl endpoint,
                                               McpHttp::Headers extraHeaders, QObject *parent)
    : McpTransport(parent), m_nam(nam), m_endpoint(std::move(endpoint)),
      m_extraHeaders(std::move(extraHeaders))
{}

StatelessHttpTransport::~StatelessHttpTransport() = default;

void StatelessHttpTransport::start()
{
    if (m_state == State::Idle)
        m_state = State::Open;
}

void StatelessHttpTransport::setAccessToken(const QString &token)
{
    m_token = token;
}

// Ids of our own on the wire (re-issues, refreshes): "mcp-auth-<kind><n>", never the host's.
Json StatelessHttpTransport::nextWireId(const char *kind)
{
    return Json(toStd(QStringLiteral("mcp-auth-%1%2").arg(QLatin1String(kind)).arg(m_nextWireId++)));
}

StatelessHttpTransport::Exchange *StatelessHttpTransport::find(quint64 key) const
{
    const auto it = m_exchanges.find(key);
    return it == m_exchanges.end() ? nullptr : it->second.get();
}

quint64 StatelessHttpTransport::keyForRequest(const Json &id) const
{
    for (const auto &[key, ex] : m_exchanges)
        if (!ex->internal && ex->message["id"] == id)
            return key;
    return 0;
}

void StatelessHttpTransport::send(const Json &message)
{
    start();
    if (m_state != State::Open) {
        QTimer::singleShot(0, this, [this, message] {
            Q_EMIT sendFailed(message, Error::cancelled(QStringLiteral("the transport is closed")));
        });
        return;
    }
    if (!JsonRpc::isRequest(message)) {
        // §Sending Messages: no client notifications or responses on this wire. A cancellation
        // closes the request's stream instead.
        if (JsonRpc::method(message) == QLatin1String("notifications/cancelled")) {
            const Json params = message.value("params", Json::object());
            if (const quint64 key = params.is_object() && params.contains("requestId")
                                        ? keyForRequest(params["requestId"])
                                        : 0) {
                qCDebug(lcProxy) << "cancelled: closing the request's stream";
                remove(key);
            }
        }
        return;
    }
    if (qsizetype(m_exchanges.size()) >= m_options.maxInFlight) {
        QTimer::singleShot(0, this, [this, message] {
            Q_EMIT sendFailed(message, Error::network(QStringLiteral("busy"),
                                                      QStringLiteral("too many requests in flight")));
        });
        return;
    }
    auto ex = std::make_unique<Exchange>(this, m_options.maxEventBytes);
    ex->message = message;
    ex->wireId = message["id"];
    ex->method = JsonRpc::method(message);
    const quint64 key = m_nextKey++;
    m_exchanges.emplace(key, std::move(ex));
    post(key);
}

void StatelessHttpTransport::post(quint64 key)
{
    Exchange *ex = find(key);
    Json body = ex->message;
    body["id"] = ex->wireId;
    QNetworkRequest req =
        McpHttp::request(ex->postUrl.isEmpty() ? m_endpoint : ex->postUrl, kAccept, m_extraHeaders, m_token);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    for (const auto &[name, value] : ModernWire::standardHeaders(body))
        req.setRawHeader(name, value);
    if (ex->method == QLatin1String("tools/call"))
        for (const auto &[name, value] : m_tools.paramHeaders(body.value("params", Json::object())))
            req.setRawHeader(name, value);
    ex->phase = Phase::Sending;
    ex->answered = false;
    ex->timedOut = false;
    ex->parser.restart();
    qCDebug(lcProxy) << "POST" << ex->method << "to" << redactUrl(req.url());
    // At most once: a connection cut before the answer must not run a tools/call twice.
    QNetworkReply *reply = McpHttp::postOnce(m_nam, req, toBytes(body));
    ex->reply = reply;
    ex->timer.disconnect(this);
    connect(&ex->timer, &QTimer::timeout, this, [this, key] {
        if (Exchange *e = find(key); e && e->reply) {
            e->timedOut = true;
            e->reply->abort();
        }
    });
    ex->timer.start(m_options.requestTimeoutMs);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, key] { onHeaders(key); });
    connect(reply, &QNetworkReply::readyRead, this, [this, key] { onData(key); });
    connect(reply, &QNetworkReply::finished, this, [this, key] { onFinished(key); });
}

void StatelessHttpTransport::onHeaders(quint64 key)
{
    Exchange *ex = find(key);
    if (!ex || !ex->reply)
        return;
    if (McpHttp::status(ex->reply) == 200 && McpHttp::mediaType(ex->reply) == McpHttp::eventStreamType) {
        // A stream: a tool call may take long; closing it is the cancellation, not a timer.
        ex->phase = Phase::Streaming;
        ex->timer.stop();
    }
}

void StatelessHttpTransport::onData(quint64 key)
{
    Exchange *ex = find(key);
    if (!ex || !ex->reply)
        return;
    if (ex->phase != Phase::Streaming) {
        if (ex->reply->bytesAvailable() > m_options.maxJsonBytes)
            fail(key, Error::protocol(
                          QStringLiteral("malformed_response"),
                          QStringLiteral("response larger than %1 bytes").arg(m_options.maxJsonBytes)));
        return; // read whole in onFinished
    }
    const Result<QList<SseEvent>> events = ex->parser.feed(ex->reply->readAll());
    if (!events)
        return fail(key, events.error());
    for (const SseEvent &event : *events) {
        // §1.3: comments are keep-alives (the parser drops them); data-less events carry nothing.
        if (event.event != QLatin1String("message") || event.data.trimmed().isEmpty())
            continue;
        const Result<QList<Json>> messages =
            McpHttp::parseMessages(event.data.toUtf8(), QStringLiteral("server-sent event"));
        if (!messages)
            return fail(key, messages.error());
        for (const Json &m : *messages)
            if (!deliver(key, m))
                return;
    }
    // The response arrived: the server SHOULD end the stream; do not wait for it.
    if (Exchange *e = find(key); e && e->answered)
        remove(key);
}

void StatelessHttpTransport::onFinished(quint64 key)
{
    Exchange *ex = find(key);
    if (!ex || !ex->reply)
        return;
    QPointer<QNetworkReply> reply = ex->reply;
    ex->timer.stop();
    const int status = McpHttp::status(reply);
    if (ex->phase == Phase::Streaming) {
        onData(key); // whatever came with the end
        ex = find(key);
        if (!ex)
            return;
        ex->reply = nullptr;
        reply->deleteLater();
        return brokenStream(key, reply->error() == QNetworkReply::NoError ? Error{}
                                                                          : HttpErrors::fromReply(reply));
    }
    ex->reply = nullptr;
    reply->deleteLater();
    const QByteArray body = reply->readAll();
    if (status == 0) {
        const Error error =
            ex->timedOut ? Error::network(QStringLiteral("timeout"),
                                          QStringLiteral("%1 did not answer in time").arg(m_endpoint.host()))
                         : HttpErrors::fromReply(reply);
        // A kept-alive connection the server closed just as we reused it: a read-only request may
        // go again (RFC 9110 §9.2.2: idempotent only; a tools/call never does).
        if (error.code == QLatin1String("connection_lost") && isReadOnly(ex->method) && !ex->reissued &&
            !ex->internal) {
            ex->reissued = true;
            ex->wireId = nextWireId("");
            return post(key);
        }
        return fail(key, error);
    }
    if (status == 307 || status == 308) {
        const QUrl target = McpHttp::redirectTarget(reply);
        if (target.isEmpty() || ex->redirects >= McpHttp::maxRedirects)
            return fail(key, Error::protocol(QStringLiteral("http_error"),
                                             QStringLiteral("%1 answered HTTP %2 with a redirect that is not "
                                                            "followed (another origin, or too many)")
                                                 .arg(m_endpoint.host())
                                                 .arg(status)));
        ++ex->redirects;
        ex->postUrl = target;
        return post(key);
    }
    if (status < 200 || status >= 300)
        return onErrorStatus(key, status, body, reply);
    if (!body.trimmed().isEmpty()) {
        const Result<QList<Json>> messages = McpHttp::parseMessages(body, QStringLiteral("response"));
        if (!messages)
            return fail(key, messages.error());
        for (const Json &m : *messages)
            if (!deliver(key, m))
                return;
    }
    if (Exchange *e = find(key)) {
        if (!e->answered)
            return fail(key,
                        Error::protocol(QStringLiteral("malformed_response"),
                                        QStringLiteral("%1 answered HTTP %2 without the JSON-RPC response")
                                            .arg(m_endpoint.host())
                                            .arg(status)));
        remove(key);
    }
}

void StatelessHttpTransport::onErrorStatus(quint64 key, int status, const QByteArray &body,
                                           QNetworkReply *reply)
{
    Exchange *ex = find(key);
    if (status == 401 || status == 403) {
        const Json message = ex->message;
        const BearerChallenge challenge = McpHttp::challenge(reply);
        remove(key);
        Q_EMIT authorizationRequired(message, status, challenge);
        return;
    }
    // §1.3 and checklist 21: the server's JSON-RPC error for this request is the answer.
    if (const std::optional<Json> response = McpHttp::errorResponse(body, ex->wireId)) {
        if (jsonInt((*response)["error"], "code") == ModernWire::headerMismatch &&
            ex->method == QLatin1String("tools/call") && !ex->headerRetry && !ex->internal) {
            // §Client Behavior: the declarations changed; list the tools again and retry once.
            ex->headerRetry = true;
            return refreshToolsThenRetry(key);
        }
        deliver(key, *response);
        if (find(key))
            remove(key);
        return;
    }
    if (status == 400 || status == 404 || status == 405)
        return fail(
            key, Error::protocol(QStringLiteral("transport_unsupported"),
                                 QStringLiteral("%1 answered HTTP %2 without a JSON-RPC error: it does not "
                                                "speak MCP 2026-07-28")
                                     .arg(m_endpoint.host())
                                     .arg(status)));
    fail(key, HttpErrors::fromStatus(m_endpoint.host(), status, body));
}

// One message from a request's stream or body. False when the exchange is gone afterwards.
bool StatelessHttpTransport::deliver(quint64 key, Json message)
{
    Exchange *ex = find(key);
    if (!ex)
        return false;
    if (JsonRpc::isRequest(message)) {
        // §Sending Messages: the server MUST NOT send requests on a response stream.
        qCWarning(lcProxy).noquote() << "dropped a request the server sent on a response stream:"
                                     << JsonRpc::method(message).left(64);
        return true;
    }
    const bool ours =
        JsonRpc::isResponse(message) && (message["id"] == ex->wireId || message["id"].is_null());
    if (ours) {
        ex->answered = true;
        message["id"] = ex->message["id"];
        if (message.contains("result") && (ex->method == QLatin1String("tools/list")))
            message["result"] = m_tools.filterToolsList(message["result"]);
        if (ex->internal) {
            const quint64 waiting = ex->retryKey;
            remove(key);
            if (Exchange *call = find(waiting)) {
                call->wireId = nextWireId("");
                post(waiting);
            }
            return false;
        }
    } else if (JsonRpc::isResponse(message)) {
        return true; // a response to something else: not this stream's to deliver
    }
    Q_EMIT messageReceived(message);
    return m_state == State::Open && find(key) != nullptr;
}

void StatelessHttpTransport::refreshToolsThenRetry(quint64 key)
{
    Exchange *call = find(key);
    auto ex = std::make_unique<Exchange>(this, m_options.maxEventBytes);
    Json params = Json::object();
    if (call->message.contains("params") && call->message["params"].contains("_meta"))
        params["_meta"] = call->message["params"]["_meta"];
    ex->wireId = nextWireId("tools-");
    ex->message = Json{{"jsonrpc", "2.0"}, {"id", ex->wireId}, {"method", "tools/list"}, {"params", params}};
    ex->method = QStringLiteral("tools/list");
    ex->internal = true;
    ex->retryKey = key;
    const quint64 refreshKey = m_nextKey++;
    m_exchanges.emplace(refreshKey, std::move(ex));
    qCInfo(lcProxy) << "the server's tool headers changed: listing the tools again";
    post(refreshKey);
}

void StatelessHttpTransport::brokenStream(quint64 key, const Error &why)
{
    Exchange *ex = find(key);
    if (ex->method == QLatin1String("subscriptions/listen")) {
        // Checklist 24: an abrupt upstream loss tells the host the listen is over.
        const Json id = ex->message["id"];
        remove(key);
        qCInfo(lcProxy) << "the subscription stream ended";
        Q_EMIT messageReceived(
            Json{{"jsonrpc", "2.0"},
                 {"method", "notifications/cancelled"},
                 {"params", {{"requestId", id}, {"reason", "the server ended the stream"}}}});
        return;
    }
    if (isReadOnly(ex->method) && !ex->reissued && !ex->internal) {
        ex->reissued = true;
        ex->wireId = nextWireId("");
        qCInfo(lcProxy) << "the response stream broke; sending" << ex->method << "again";
        return post(key);
    }
    fail(key, Error::network(QStringLiteral("stream_broken"),
                             QStringLiteral("the response stream from %1 ended before the response%2")
                                 .arg(m_endpoint.host(),
                                      why.code.isEmpty() ? QString() : QStringLiteral(": ") + why.message)));
}

void StatelessHttpTransport::fail(quint64 key, const Error &error)
{
    Exchange *ex = find(key);
    if (!ex)
        return;
    Json message = ex->message;
    quint64 waiting = ex->internal ? ex->retryKey : 0;
    remove(key);
    if (waiting) {
        // The refresh failed: the tools/call fails with it.
        if (Exchange *call = find(waiting)) {
            message = call->message;
            remove(waiting);
        }
    }
    if (m_state == State::Open)
        Q_EMIT sendFailed(message, error);
}

void StatelessHttpTransport::remove(quint64 key)
{
    m_exchanges.erase(key); // ~Exchange closes the stream
}

void StatelessHttpTransport::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    // §Earlier revisions: nothing to end upstream, no session, no DELETE.
    m_exchanges.clear();
    QTimer::singleShot(0, this, [this] { Q_EMIT closed(); });
}

} // namespace mcpauth

#include "moc_StatelessHttpTransport.cpp"
