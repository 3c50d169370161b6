#include "broker/JsonRpcConnection.h"

#include "broker/LocalStream.h"
#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"

#include <QDateTime>
#include <QTimer>

namespace mcpauth {

namespace {

bool isValidId(const Json &id)
{
    // JSON-RPC 2.0 §4: "An identifier ... MUST contain a String, Number, or NULL value".
    return id.is_string() || id.is_number() || id.is_null();
}

} // namespace

JsonRpcConnection::JsonRpcConnection(LocalStream *stream, PeerInfo peer, qsizetype maxLineBytes,
                                     QObject *parent, LineBudget *budget)
    : QObject(parent), m_stream(stream), m_peer(std::move(peer)), m_framer(maxLineBytes), m_budget(budget)
{
    m_stream->setParent(this);
    m_lineTimer.setSingleShot(true);
    m_lineTimer.setInterval(std::chrono::seconds(10));
    m_drainTimer.setSingleShot(true);
    m_drainTimer.setInterval(std::chrono::seconds(10));
    connect(&m_lineTimer, &QTimer::timeout, this,
            [this] { cut("left a line unfinished", QStringLiteral("request line not finished in time")); });
    connect(&m_drainTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcBroker) << "pid" << m_peer.pid << "does not read its replies; disconnecting";
        abort(); // its replies cannot be flushed: it does not read
    });
    connect(m_stream, &LocalStream::readyRead, this, &JsonRpcConnection::onReadyRead);
    connect(m_stream, &LocalStream::bytesWritten, this, [this] {
        if (m_drainTimer.isActive() && !backedUp())
            onReadyRead(); // drained: take up the lines waiting in the buffer and the kernel
    });
    connect(m_stream, &LocalStream::disconnected, this, &JsonRpcConnection::finish);
}

JsonRpcConnection::~JsonRpcConnection()
{
    // The socket is our child; stop it from calling back into a half-destroyed object.
    disconnect(m_stream, nullptr, this, nullptr);
    dropInput();
}

void JsonRpcConnection::setTimeouts(std::chrono::milliseconds line, std::chrono::milliseconds drain)
{
    m_lineTimer.setInterval(line);
    m_drainTimer.setInterval(drain);
}

bool JsonRpcConnection::backedUp() const
{
    return m_stream->bytesToWrite() > maxUnsentBytes;
}

// Keeps the shared budget in step with what this connection holds.
void JsonRpcConnection::account()
{
    if (m_budget)
        m_budget->used += m_framer.buffered() - m_accounted;
    m_accounted = m_framer.buffered();
}

void JsonRpcConnection::dropInput()
{
    m_framer = LineFramer(m_framer.maxLineBytes());
    account();
}

void JsonRpcConnection::onReadyRead()
{
    bool lineDone = false;
    handleBufferedLines(&lineDone);
    // One chunk per turn: the stream fires again while more waits (LocalStream), after the other
    // clients have had theirs.
    if (m_state == State::Open && !backedUp()) {
        const QByteArray chunk = m_stream->read(readBufferBytes);
        if (!chunk.isEmpty())
            takeInput(chunk, &lineDone);
    }
    // Back-pressure: read nothing more until the client reads its replies.
    m_stream->setReading(m_state == State::Open && !backedUp());
    updateWaits(lineDone);
}

void JsonRpcConnection::takeInput(const QByteArray &chunk, bool *lineDone)
{
    m_framer.append(chunk);
    account();
    // Counted before its newline arrives: a client that never sends one must not make the agent
    // hold an unbounded line in memory.
    if (m_framer.overflowing())
        return cut("sent a line that is too long", QStringLiteral("request too large"));
    if (m_budget && m_budget->used > m_budget->limit && m_framer.partialBytes() > 0)
        return cut("pushed the agent past its memory budget for unfinished lines",
                   QStringLiteral("agent busy: too much unfinished input"));
    handleBufferedLines(lineDone);
}

void JsonRpcConnection::handleBufferedLines(bool *lineDone)
{
    while (m_state == State::Open && !backedUp()) {
        std::optional<LineFramer::Line> line = m_framer.next();
        if (!line)
            return;
        account();
        if (line->kind == LineFramer::Line::Kind::Oversized) {
            cut("sent a line that is too long", QStringLiteral("request too large"));
            return;
        }
        *lineDone = true;
        handleLine(std::move(line->bytes));
    }
}

void JsonRpcConnection::updateWaits(bool lineDone)
{
    if (m_state != State::Open) {
        m_lineTimer.stop();
        m_drainTimer.stop();
        m_stalledSince = -1;
        return;
    }
    if (backedUp()) {
        // Back-pressure: read nothing more until the client reads its replies.
        m_lineTimer.stop();
        if (!m_drainTimer.isActive())
            m_drainTimer.start();
    } else {
        m_drainTimer.stop();
        // The deadline runs from the first byte of the unfinished line, not from the last one:
        // trickling a byte at a time does not keep a connection alive.
        if (!m_framer.hasPartial())
            m_lineTimer.stop();
        else if (lineDone || !m_lineTimer.isActive())
            m_lineTimer.start();
    }
    const bool stalled = m_lineTimer.isActive() || m_drainTimer.isActive();
    if (!stalled)
        m_stalledSince = -1;
    else if (m_stalledSince < 0 || lineDone)
        m_stalledSince = QDateTime::currentMSecsSinceEpoch();
}

void JsonRpcConnection::cut(const char *why, const QString &message)
{
    qCWarning(lcBroker) << "pid" << m_peer.pid << why << "; disconnecting";
    dropInput();
    writeError(Json(), RpcError::InvalidRequest, message);
    close();
}

void JsonRpcConnection::handleLine(const QByteArray &line)
{
    if (line.trimmed().isEmpty())
        return; // blank lines carry nothing; tolerate them like MCP stdio readers do

    // Depth-bounded: the params are copied and printed later, both recursive (security.md §3).
    const Result<Json> parsed = parseJson(line, QStringLiteral("request"));
    if (!parsed) {
        writeError(Json(), RpcError::ParseError, QStringLiteral("parse error: ") + parsed.error().message);
        return;
    }
    const Json &message = parsed.value();
    if (message.is_array()) {
        writeError(Json(), RpcError::InvalidRequest, QStringLiteral("batches are not supported"));
        return;
    }
    if (!message.is_object()) {
        writeError(Json(), RpcError::InvalidRequest, QStringLiteral("invalid request: not a JSON object"));
        return;
    }
    const auto idIt = message.find("id");
    const Json id = idIt != message.end() ? *idIt : Json();
    // Echo the id when it is usable so the client can match the error; JSON-RPC 2.0 §5 says null
    // when it cannot be determined.
    const Json replyId = isValidId(id) ? id : Json();
    const auto version = message.find("jsonrpc");
    if (version == message.end() || !version->is_string() || version->get<std::string>() != "2.0") {
        writeError(replyId, RpcError::InvalidRequest,
                   QStringLiteral("invalid request: \"jsonrpc\" must be \"2.0\""));
        return;
    }
    const auto method = message.find("method");
    if (method == message.end() || !method->is_string()) {
        writeError(replyId, RpcError::InvalidRequest,
                   QStringLiteral("invalid request: \"method\" must be a string"));
        return;
    }
    if (!isValidId(id)) {
        writeError(Json(), RpcError::InvalidRequest,
                   QStringLiteral("invalid request: \"id\" must be a string, a number or null"));
        return;
    }
    const auto paramsIt = message.find("params");
    Json params = Json::object();
    if (paramsIt != message.end()) {
        // JSON-RPC 2.0 §4.2: params, when present, is a structured value (object or array).
        if (!paramsIt->is_object() && !paramsIt->is_array()) {
            writeError(replyId, RpcError::InvalidRequest,
                       QStringLiteral("invalid request: \"params\" must be an object or an array"));
            return;
        }
        params = *paramsIt;
    }
    if (JsonRpc::isRequest(message)) {
        if (m_pendingCount >= maxPendingRequests) {
            writeError(id, RpcError::Busy, QStringLiteral("too many pending requests"));
            return;
        }
        ++m_pending[toBytes(id)];
        ++m_pendingCount;
    }
    Q_EMIT requestReceived(id, fromStd(method->get<std::string>()), params);
}

void JsonRpcConnection::markAnswered(const Json &id)
{
    const auto it = m_pending.find(toBytes(id));
    if (it == m_pending.end())
        return;
    if (--it.value() == 0)
        m_pending.erase(it);
    --m_pendingCount;
}

void JsonRpcConnection::sendResult(const Json &id, const Json &result)
{
    if (id.is_null() || m_state != State::Open)
        return;
    markAnswered(id);
    writeMessage(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

void JsonRpcConnection::sendSerializedResult(const Json &id, const QByteArray &result)
{
    if (id.is_null() || m_state != State::Open)
        return;
    markAnswered(id);
    QByteArray bytes;
    const QByteArray idBytes = toBytes(id);
    bytes.reserve(result.size() + idBytes.size() + 40);
    bytes.append(R"({"jsonrpc":"2.0","id":)").append(idBytes).append(R"(,"result":)").append(result);
    bytes.append('}');
    writeLine(std::move(bytes));
}

void JsonRpcConnection::sendError(const Json &id, int code, const QString &message, const Json &data)
{
    if (id.is_null() || m_state != State::Open)
        return;
    markAnswered(id);
    writeError(id, code, message, data);
}

void JsonRpcConnection::writeError(const Json &id, int code, const QString &message, const Json &data)
{
    Json error{{"code", code}, {"message", toStd(message)}};
    if (!data.is_null())
        error["data"] = data;
    writeMessage(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}});
}

void JsonRpcConnection::writeMessage(const Json &message)
{
    writeLine(toBytes(message));
}

void JsonRpcConnection::writeLine(QByteArray bytes)
{
    bytes.append('\n');
    // To the kernel now, not on the next turn: the answer to a cached token/get leaves within the
    // wake-up that read its request.
    m_stream->write(bytes);
}

void JsonRpcConnection::close()
{
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    // A client that does not read cannot be flushed to: give it the drain deadline, then drop it.
    QTimer::singleShot(m_drainTimer.interval(), this, &JsonRpcConnection::abort);
    // Writes what waits first, then disconnected() → finish().
    m_stream->closeAfterFlush();
}

void JsonRpcConnection::abort()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closing;
    disconnect(m_stream, nullptr, this, nullptr);
    m_stream->abort();
    finish();
}

void JsonRpcConnection::finish()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    dropInput();
    m_lineTimer.stop();
    m_drainTimer.stop();
    m_stalledSince = -1;
    Q_EMIT closed();
}

} // namespace mcpauth

#include "moc_JsonRpcConnection.cpp"
