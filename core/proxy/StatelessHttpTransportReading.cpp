#include "proxy/StatelessHttpTransport.h"

#include "common/JsonRpc.h"
#include "common/Log.h"
#include "net/HttpErrors.h"
#include "proxy/ModernWire.h"
#include "proxy/StatelessHttpExchange_p.h"

// StatelessHttpTransport, part two: what comes back on a request's exchange (a JSON body, an SSE
// stream, an error status) and what it means. Part one (StatelessHttpTransport.cpp) sends.

namespace mcpauth {

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
    if (ex->phase == Phase::Sending) {
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
    if (Exchange *e = find(key); e && e->phase == Phase::Answered)
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
            ex->phase == Phase::TimedOut
                ? Error::network(QStringLiteral("timeout"),
                                 QStringLiteral("%1 did not answer in time").arg(m_endpoint.host()))
                : HttpErrors::fromReply(reply);
        // A kept-alive connection the server closed just as we reused it: a read-only request may
        // go again (RFC 9110 §9.2.2: idempotent only; a tools/call never does).
        if (error.code == QLatin1String("connection_lost") && stateless::isReadOnly(ex->method) &&
            !ex->reissued && !ex->internal) {
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
        if (e->phase != Phase::Answered)
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
        ex->phase = Phase::Answered;
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

} // namespace mcpauth
