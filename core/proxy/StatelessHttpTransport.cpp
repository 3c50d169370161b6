#include "proxy/StatelessHttpTransport.h"

#include "common/JsonRpc.h"
#include "common/Log.h"
#include "common/Redact.h"
#include "proxy/ModernWire.h"
#include "proxy/StatelessHttpExchange_p.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QSet>
#include <QTimer>

// StatelessHttpTransport, part one: requests out (POST with the 2026-07-28 headers), re-issues,
// cancellation, closing. Part two (StatelessHttpTransportReading.cpp) reads the answers.

namespace mcpauth {

namespace {

const QByteArray kAccept = QByteArrayLiteral("application/json, text/event-stream");

} // namespace

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
    ex->parser.restart();
    qCDebug(lcProxy) << "POST" << ex->method << "to" << redactUrl(req.url());
    // At most once: a connection cut before the answer must not run a tools/call twice.
    QNetworkReply *reply = McpHttp::postOnce(m_nam, req, toBytes(body));
    ex->reply = reply;
    ex->timer.disconnect(this);
    connect(&ex->timer, &QTimer::timeout, this, [this, key] {
        if (Exchange *e = find(key); e && e->reply) {
            e->phase = Phase::TimedOut;
            e->reply->abort();
        }
    });
    ex->timer.start(m_options.requestTimeoutMs);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, key] { onHeaders(key); });
    connect(reply, &QNetworkReply::readyRead, this, [this, key] { onData(key); });
    connect(reply, &QNetworkReply::finished, this, [this, key] { onFinished(key); });
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
    if (stateless::isReadOnly(ex->method) && !ex->reissued && !ex->internal) {
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
