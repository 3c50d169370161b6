#include "login/LoopbackReceiver.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "login/AuthorizationResponse.h"

#include <QTcpSocket>

namespace mcpauth {

namespace {

// How long a socket whose answer is written may linger to flush it after we let go of it.
constexpr int kFlushGraceMs = 5000;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 421:
        return "Misdirected Request";
    case 409:
        return "Conflict";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    }
    return "Error";
}

// Hand a socket whose answer is queued over to itself: it closes once flushed (or after a grace
// period), even if the receiver is deleted right after respond() — a QTcpSocket destroyed with
// unwritten data would abort and the browser would show a connection error instead of the page.
void finishAndRelease(QTcpSocket *socket, QObject *owner)
{
    socket->disconnect(owner);
    socket->setParent(nullptr);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(kFlushGraceMs, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
    socket->disconnectFromHost();
}

const char kPlainPage[] = "text/plain; charset=utf-8";

/// The value of the one Host header in a request head (RFC 9112 §3.2: exactly one), or empty when
/// it is missing or repeated.
QByteArray hostHeader(const QByteArray &head)
{
    QByteArray host;
    int count = 0;
    const QList<QByteArray> lines = head.split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.left(colon).trimmed().toLower() != "host")
            continue;
        host = line.mid(colon + 1).trimmed();
        ++count;
    }
    return count == 1 ? host : QByteArray();
}

} // namespace

LoopbackReceiver::LoopbackReceiver(QObject *parent) : QObject(parent)
{
    m_respondTimer.setSingleShot(true);
    m_respondTimer.setInterval(std::chrono::milliseconds(60'000));
    connect(&m_server, &QTcpServer::newConnection, this, &LoopbackReceiver::onNewConnection);
    connect(&m_respondTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcLogin)
            << "no outcome for the sign-in callback in time; answering the browser generically";
        respond(false, QStringLiteral("The app did not confirm the sign-in. Return to it to see whether it "
                                      "succeeded."));
    });
}

LoopbackReceiver::~LoopbackReceiver()
{
    close();
}

void LoopbackReceiver::setTimeouts(std::chrono::milliseconds requestDeadline,
                                   std::chrono::milliseconds respondDeadline)
{
    m_requestDeadline = requestDeadline;
    m_respondTimer.setInterval(respondDeadline);
}

Result<QString> LoopbackReceiver::listen(quint16 preferredPort, const QString &path)
{
    if (m_state == State::Listening || m_state == State::CallbackReceived)
        return Error::internal(QStringLiteral("the loopback receiver is already listening"));
    if (!path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('?')) ||
        path.contains(QLatin1Char('#')))
        return Error::config(QStringLiteral("invalid_redirect_path"),
                             QStringLiteral("the redirect path must start with '/' and have no query"));

    // RFC 8252 §7.3 / §8.3: listen on the loopback IP literal only, never on all interfaces, and not
    // on "localhost" (which may resolve elsewhere or to ::1 only).
    if (!m_server.listen(QHostAddress(QHostAddress::LocalHost), preferredPort)) {
        const QString why = m_server.errorString();
        if (preferredPort != 0 && m_server.serverError() == QAbstractSocket::AddressInUseError)
            return Error::network(
                QStringLiteral("port_busy"),
                QStringLiteral("port %1 on 127.0.0.1 is already in use").arg(preferredPort));
        return Error::network(QStringLiteral("listen_failed"),
                              QStringLiteral("cannot listen on 127.0.0.1: %1").arg(why));
    }
    m_server.setMaxPendingConnections(kMaxConnections);
    m_port = m_server.serverPort();
    m_path = path;
    m_state = State::Listening;
    qCDebug(lcLogin) << "loopback receiver listening on" << redirectUri();
    return redirectUri();
}

QString LoopbackReceiver::redirectUri() const
{
    if (m_port == 0)
        return {};
    return QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(m_path);
}

void LoopbackReceiver::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        if (m_state != State::Listening || m_buffers.size() >= kMaxConnections) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        socket->setParent(this);
        m_buffers.insert(socket, {});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] { forget(socket); });
        // A connection that does not deliver a complete request in time is dropped (browsers open
        // speculative connections; a local process could hold them open to block the real callback).
        QTimer::singleShot(m_requestDeadline, socket, [this, socket] {
            if (m_buffers.contains(socket)) {
                qCDebug(lcLogin) << "dropping a loopback connection that sent no complete request";
                forget(socket);
            }
        });
    }
}

void LoopbackReceiver::onReadyRead(QTcpSocket *socket)
{
    auto it = m_buffers.find(socket);
    if (it == m_buffers.end()) {
        socket->readAll(); // answered or waiting for respond(): ignore anything further
        return;
    }
    it->append(socket->readAll());
    const qsizetype end = it->indexOf("\r\n\r\n");
    if ((end < 0 && it->size() > kMaxHeaderBytes) || end + 4 > kMaxHeaderBytes) {
        reply(socket, 431, kPlainPage, "Request header too large.\n");
        return;
    }
    if (end < 0)
        return;
    const QByteArray head = it->left(end);
    handleRequest(socket, head);
}

void LoopbackReceiver::handleRequest(QTcpSocket *socket, const QByteArray &head)
{
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    const QByteArray requestLine = head.left(head.indexOf("\r\n") < 0 ? head.size() : head.indexOf("\r\n"));
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || !parts[2].startsWith("HTTP/1.") || !parts[1].startsWith('/')) {
        reply(socket, 400, kPlainPage, "Bad request.\n");
        return;
    }
    if (parts[0] != "GET") {
        reply(socket, 405, kPlainPage, "Method not allowed.\n", "Allow: GET\r\n");
        return;
    }
    // DNS rebinding: a web page that made some name resolve to 127.0.0.1 reaches us with its own
    // name in Host. The browser we sent uses exactly the redirect URI's authority.
    // "localhost" is the loopback's own name, which a pre-registered redirect URI may use.
    const QByteArray port = ':' + QByteArray::number(m_port);
    const QByteArray host = hostHeader(head).toLower();
    if (host != "127.0.0.1" + port && host != "localhost" + port) {
        qCWarning(lcLogin) << "loopback request refused: Host is not 127.0.0.1 or localhost" << port;
        reply(socket, 421, kPlainPage, "This address only answers the sign-in in progress.\n");
        return;
    }
    const QByteArray target = parts[1];
    const qsizetype q = target.indexOf('?');
    const QByteArray rawPath = q < 0 ? target : target.left(q);
    QByteArray rawQuery = q < 0 ? QByteArray() : target.mid(q + 1);
    if (QUrl::fromPercentEncoding(rawPath) != m_path) {
        reply(socket, 404, kPlainPage, "Not found.\n"); // e.g. /favicon.ico: not the callback
        return;
    }
    if (m_state != State::Listening) {
        // A connection opened before the callback arrived: the one callback is already taken.
        reply(socket, 409, kPlainPage, "This sign-in was already completed.\n");
        return;
    }
    // RFC 6749 §4.1.2: the response is application/x-www-form-urlencoded (Appendix B), where '+' is
    // a space; QUrlQuery reads '+' literally, so translate it first (a real plus arrives as %2B).
    rawQuery.replace('+', "%20");
    const QUrlQuery query(QString::fromUtf8(rawQuery));
    if (!AuthorizationResponse::stateMatches(query, m_expectedState)) {
        // Anyone on this machine can send this request: one without the sign-in's own state is not
        // the callback. Answer it, ignore it, keep waiting for the real one (RFC 6749 §10.12).
        qCWarning(lcLogin) << "loopback request ignored: not this sign-in's state";
        reply(socket, 400, "text/html; charset=utf-8",
              page(false, QStringLiteral("This sign-in response does not belong to the sign-in in progress "
                                         "and was ignored.")),
              "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
              "Referrer-Policy: no-referrer\r\n");
        return;
    }

    // The one callback. Stop accepting anything else (RFC 8252 §8.3 / MCP CIMD security notes: a
    // short-lived listener that accepts exactly one response), keep this socket for respond().
    m_state = State::CallbackReceived;
    m_buffers.remove(socket);
    m_pending = socket;
    m_server.close();
    const QList<QTcpSocket *> others = m_buffers.keys();
    for (QTcpSocket *other : others)
        forget(other);
    m_respondTimer.start();

    QUrl logged(redirectUri());
    logged.setQuery(query);
    qCInfo(lcLogin) << "sign-in callback received:" << redactUrl(logged);
    Q_EMIT callbackReceived(query);
}

void LoopbackReceiver::respond(bool success, const QString &message)
{
    if (m_state != State::CallbackReceived || !m_pending) {
        qCDebug(lcLogin) << "respond() without a pending callback; closing";
        close();
        return;
    }
    m_respondTimer.stop();
    QTcpSocket *socket = m_pending;
    m_pending.clear();
    // The page must never be cached (it follows a URL holding the code) nor load anything: the CSP
    // forbids every fetch, and Referrer-Policy keeps the callback URL from leaking if it ever did.
    reply(socket, 200, "text/html; charset=utf-8", page(success, message),
          "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
          "Referrer-Policy: no-referrer\r\n"
          "X-Content-Type-Options: nosniff\r\n");
    stopListening();
}

void LoopbackReceiver::reply(QTcpSocket *socket, int status, const QByteArray &contentType,
                             const QByteArray &body, const QByteArray &extraHeaders)
{
    m_buffers.remove(socket);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    response += "Content-Type: " + contentType + "\r\n";
    response += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    response += "Cache-Control: no-store\r\n";
    response += extraHeaders;
    response += "Connection: close\r\n\r\n";
    response += body;
    socket->write(response);
    finishAndRelease(socket, this);
}

void LoopbackReceiver::forget(QTcpSocket *socket)
{
    m_buffers.remove(socket);
    if (m_pending == socket)
        m_pending.clear();
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void LoopbackReceiver::stopListening()
{
    m_server.close();
    m_respondTimer.stop();
    const QList<QTcpSocket *> sockets = m_buffers.keys();
    for (QTcpSocket *socket : sockets)
        forget(socket);
    if (m_pending)
        forget(m_pending);
    if (m_state != State::Idle)
        m_state = State::Closed;
}

void LoopbackReceiver::close()
{
    if (m_state == State::Listening || m_state == State::CallbackReceived)
        qCDebug(lcLogin) << "loopback receiver closed";
    stopListening();
}

QByteArray LoopbackReceiver::page(bool success, const QString &message)
{
    // Small and self-contained on purpose: no scripts, fonts or images (the CSP forbids them anyway).
    static const QString tmpl = QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>%1</title><style>"
        "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2328;margin:0;min-height:100vh;"
        "display:flex;align-items:center;justify-content:center}"
        "main{background:#fff;border-radius:12px;box-shadow:0 2px 16px rgba(0,0,0,.08);padding:2rem 2.5rem;"
        "max-width:34rem;margin:1rem}"
        "h1{font-size:1.35rem;margin:0 0 .75rem;color:%2}p{line-height:1.5;margin:.5rem 0}"
        ".hint{color:#59636e}</style></head>\n"
        "<body><main><h1>%3 %1</h1><p>%4</p><p class=\"hint\">%5</p></main></body></html>\n");
    const QString title = success ? QStringLiteral("Signed in") : QStringLiteral("Sign-in failed");
    const QString color = success ? QStringLiteral("#1a7f37") : QStringLiteral("#cf222e");
    const QString mark = success ? QString(QChar(0x2713)) : QString(QChar(0x2717));
    const QString hint = success ? QStringLiteral("You can close this tab and return to your app.")
                                 : QStringLiteral("You can close this tab and try again from your app.");
    // One multi-argument arg(): placeholders inside the message are not substituted again.
    return tmpl.arg(title, color, mark, message.toHtmlEscaped(), hint).toUtf8();
}

} // namespace mcpauth

#include "moc_LoopbackReceiver.cpp"
