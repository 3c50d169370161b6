#include "broker/JsonRpcConnection.h"

#include "broker/RpcErrors.h"
#include "common/Log.h"

#include <QLocalSocket>
#include <QTimer>

namespace mcpauth {

namespace {

bool isValidId(const Json &id)
{
    // JSON-RPC 2.0 §4: "An identifier ... MUST contain a String, Number, or NULL value".
    return id.is_string() || id.is_number() || id.is_null();
}

} // namespace

JsonRpcConnection::JsonRpcConnection(QLocalSocket *socket, PeerInfo peer, qsizetype maxLineBytes,
                                     QObject *parent)
    : QObject(parent), m_socket(socket), m_peer(std::move(peer)), m_maxLineBytes(maxLineBytes)
{
    m_socket->setParent(this);
    connect(m_socket, &QLocalSocket::readyRead, this, &JsonRpcConnection::onReadyRead);
    connect(m_socket, &QLocalSocket::disconnected, this, &JsonRpcConnection::finish);
    // Bytes may have arrived before we were connected, and the peer may already be gone: look on
    // the event loop so the owner has had the chance to connect to our signals.
    QTimer::singleShot(0, this, [this] {
        if (m_socket->state() != QLocalSocket::ConnectedState)
            finish();
        else if (m_socket->bytesAvailable() > 0)
            onReadyRead();
    });
}

JsonRpcConnection::~JsonRpcConnection()
{
    // The socket is our child; stop it from calling back into a half-destroyed object.
    disconnect(m_socket, nullptr, this, nullptr);
}

void JsonRpcConnection::onReadyRead()
{
    while (m_state == State::Open) {
        const QByteArray chunk = m_socket->read(64 * 1024);
        if (chunk.isEmpty())
            break;
        m_buffer.append(chunk);
        bool tooLarge = false;
        qsizetype start = 0;
        for (qsizetype nl; m_state == State::Open && (nl = m_buffer.indexOf('\n', start)) >= 0;
             start = nl + 1) {
            if (nl - start > m_maxLineBytes) {
                tooLarge = true;
                break;
            }
            handleLine(m_buffer.mid(start, nl - start));
        }
        if (!tooLarge) {
            m_buffer.remove(0, start);
            // Count while buffering, before a newline arrives: a client that never sends one must
            // not make the agent hold an unbounded line in memory.
            tooLarge = m_buffer.size() > m_maxLineBytes;
        }
        if (m_state == State::Open && tooLarge) {
            qCWarning(lcBroker) << "request line larger than" << m_maxLineBytes << "bytes from pid"
                                << m_peer.pid << "; disconnecting";
            m_buffer.clear();
            writeError(Json(), RpcError::InvalidRequest, QStringLiteral("request too large"));
            close();
        }
    }
    if (m_state != State::Open)
        m_buffer.clear();
}

void JsonRpcConnection::handleLine(QByteArray line)
{
    if (line.endsWith('\r'))
        line.chop(1);
    if (line.trimmed().isEmpty())
        return; // blank lines carry nothing; tolerate them like MCP stdio readers do

    const Json message = Json::parse(line.constBegin(), line.constEnd(), nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) {
        writeError(Json(), RpcError::ParseError, QStringLiteral("parse error: not valid JSON"));
        return;
    }
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
    if (!id.is_null()) {
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
    QByteArray bytes = toBytes(message);
    bytes.append('\n');
    m_socket->write(bytes);
}

void JsonRpcConnection::close()
{
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    // disconnectFromServer() writes what is buffered first, then emits disconnected() → finish().
    m_socket->disconnectFromServer();
    if (m_socket->state() == QLocalSocket::UnconnectedState)
        QTimer::singleShot(0, this, &JsonRpcConnection::finish);
}

void JsonRpcConnection::finish()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_buffer.clear();
    Q_EMIT closed();
}

} // namespace mcpauth
