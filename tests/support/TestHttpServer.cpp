#include "TestHttpServer.h"

#include <QTcpSocket>
#include <QTimer>

namespace mcpauth::test {

QByteArray TestRequest::header(const QByteArray &name) const
{
    for (const auto &[k, v] : headers)
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    return {};
}

QUrlQuery TestRequest::form() const
{
    QByteArray b = body;
    b.replace('+', ' ');
    return QUrlQuery(QString::fromUtf8(b));
}

TestResponse TestResponse::json(const QByteArray &body, int status)
{
    TestResponse r;
    r.status = status;
    r.body = body;
    r.headers.emplaceBack("Content-Type", "application/json");
    return r;
}

TestResponse TestResponse::text(const QByteArray &body, int status)
{
    TestResponse r;
    r.status = status;
    r.body = body;
    r.headers.emplaceBack("Content-Type", "text/plain");
    return r;
}

TestResponse TestResponse::redirect(const QByteArray &location, int status)
{
    TestResponse r;
    r.status = status;
    r.headers.emplaceBack("Location", location);
    return r;
}

TestResponse TestResponse::notFound()
{
    return text("not found", 404);
}

TestResponse TestResponse::sse(QList<Chunk> chunks, StreamEnd end, int status)
{
    TestResponse r;
    r.status = status;
    r.behaviour = Behaviour::Stream;
    r.chunks = std::move(chunks);
    r.streamEnd = end;
    r.headers.emplaceBack("Content-Type", "text/event-stream");
    r.headers.emplaceBack("Cache-Control", "no-cache");
    return r;
}

TestResponse &TestResponse::withHeader(const QByteArray &name, const QByteArray &value)
{
    headers.emplaceBack(name, value);
    return *this;
}

TestHttpServer::TestHttpServer(QObject *parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &TestHttpServer::onNewConnection);
}

TestHttpServer::~TestHttpServer() = default;

bool TestHttpServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

quint16 TestHttpServer::port() const
{
    return m_server.serverPort();
}

QString TestHttpServer::base() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(port());
}

QUrl TestHttpServer::url(const QString &path) const
{
    return QUrl(base() + path);
}

QStringList TestHttpServer::requestedPaths() const
{
    QStringList out;
    for (const auto &r : m_requests)
        out << r.path;
    return out;
}

int TestHttpServer::count(const QString &path) const
{
    int n = 0;
    for (const auto &r : m_requests)
        n += r.path == path ? 1 : 0;
    return n;
}

static const char *reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 500:
        return "Internal Server Error";
    default:
        return "Status";
    }
}

void TestHttpServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
            buffer->append(socket->readAll());
            const qsizetype headerEnd = buffer->indexOf("\r\n\r\n");
            if (headerEnd < 0)
                return;
            const QList<QByteArray> lines = buffer->left(headerEnd).split('\n');
            TestRequest req;
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            req.method = requestLine.value(0);
            const QByteArray target = requestLine.value(1);
            qsizetype contentLength = 0;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines[i].trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon <= 0)
                    continue;
                const QByteArray name = line.left(colon).trimmed();
                const QByteArray value = line.mid(colon + 1).trimmed();
                req.headers.emplaceBack(name, value);
                if (name.compare("content-length", Qt::CaseInsensitive) == 0)
                    contentLength = value.toLongLong();
            }
            if (buffer->size() < headerEnd + 4 + contentLength)
                return; // wait for the rest of the body
            req.body = buffer->mid(headerEnd + 4, contentLength);
            buffer->clear();
            req.url = QUrl(base() + QString::fromLatin1(target));
            req.path = req.url.path();
            req.query = QUrlQuery(req.url);
            m_requests.append(req);
            Q_EMIT requestReceived(req);

            TestResponse resp;
            if (auto it = m_routes.constFind(req.path); it != m_routes.constEnd())
                resp = (*it)(req);
            else if (m_handler)
                resp = m_handler(req);
            else
                resp = TestResponse::notFound();

            if (resp.behaviour == TestResponse::Behaviour::NeverAnswer)
                return; // keep the connection open and silent
            if (resp.behaviour == TestResponse::Behaviour::Stream) {
                startStream(socket, resp);
                return;
            }
            if (resp.behaviour == TestResponse::Behaviour::CloseImmediately) {
                socket->abort();
                return;
            }
            QByteArray out =
                "HTTP/1.1 " + QByteArray::number(resp.status) + ' ' + reasonPhrase(resp.status) + "\r\n";
            for (const auto &[k, v] : resp.headers)
                out += k + ": " + v + "\r\n";
            out +=
                "Content-Length: " + QByteArray::number(resp.body.size()) + "\r\nConnection: close\r\n\r\n";
            out += resp.body;
            socket->write(out);
            socket->disconnectFromHost();
        });
    }
}

static QByteArray chunk(const QByteArray &bytes)
{
    return QByteArray::number(bytes.size(), 16) + "\r\n" + bytes + "\r\n";
}

void TestHttpServer::startStream(QTcpSocket *socket, const TestResponse &resp)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(resp.status) + ' ' + reasonPhrase(resp.status) + "\r\n";
    for (const auto &[k, v] : resp.headers)
        out += k + ": " + v + "\r\n";
    out += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    socket->write(out);
    socket->flush();
    const int index = int(m_streams.size());
    m_streams << socket;
    Q_EMIT streamStarted(index);

    int at = 0;
    for (const TestResponse::Chunk &c : resp.chunks) {
        at += c.delayMs;
        const QByteArray bytes = c.bytes;
        QTimer::singleShot(at, socket, [socket, bytes] {
            if (!bytes.isEmpty()) // an empty chunk would end the body
                socket->write(chunk(bytes));
        });
    }
    if (resp.streamEnd != TestResponse::StreamEnd::KeepOpen)
        QTimer::singleShot(at, socket,
                           [this, index, abort = resp.streamEnd == TestResponse::StreamEnd::Abort] {
                               endStream(index, abort);
                           });
}

QTcpSocket *TestHttpServer::stream(int index) const
{
    if (index < 0)
        index = int(m_streams.size()) + index;
    return index >= 0 && index < m_streams.size() ? m_streams.at(index).data() : nullptr;
}

int TestHttpServer::openStreamCount() const
{
    int n = 0;
    for (const auto &socket : m_streams)
        n += socket && socket->state() == QAbstractSocket::ConnectedState ? 1 : 0;
    return n;
}

bool TestHttpServer::writeToStream(int index, const QByteArray &bytes)
{
    QTcpSocket *socket = stream(index);
    if (!socket || socket->state() != QAbstractSocket::ConnectedState || bytes.isEmpty())
        return false;
    socket->write(chunk(bytes));
    return true;
}

void TestHttpServer::endStream(int index, bool abort)
{
    QTcpSocket *socket = stream(index);
    if (!socket || socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (abort) {
        socket->flush();
        socket->abort();
        return;
    }
    socket->write("0\r\n\r\n");
    socket->disconnectFromHost();
}

} // namespace mcpauth::test
