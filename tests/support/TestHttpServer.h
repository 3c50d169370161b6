#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QTcpServer>
#include <QUrl>
#include <QUrlQuery>

#include <functional>

class QTcpSocket;

namespace mcpauth::test {

/// One HTTP request as the in-process test server saw it.
struct TestRequest
{
    QByteArray method;
    QUrl url; ///< absolute: http://127.0.0.1:port/path?query
    QString path;
    QUrlQuery query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(const QByteArray &name) const;
    /// The body parsed as application/x-www-form-urlencoded.
    QUrlQuery form() const;
};

struct TestResponse
{
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    enum class Behaviour { Normal, NeverAnswer, CloseImmediately, Stream } behaviour = Behaviour::Normal;

    /// Behaviour::Stream: the headers go out at once with chunked transfer encoding and the
    /// connection stays open; each chunk follows after its delay (counted from the previous one),
    /// then the stream ends as `streamEnd` says. TestHttpServer::writeToStream() adds more later.
    struct Chunk
    {
        int delayMs = 0;
        QByteArray bytes;
    };
    enum class StreamEnd { Close, Abort, KeepOpen };
    QList<Chunk> chunks;
    StreamEnd streamEnd = StreamEnd::Close;

    static TestResponse json(const QByteArray &body, int status = 200);
    static TestResponse text(const QByteArray &body, int status = 200);
    static TestResponse redirect(const QByteArray &location, int status = 302);
    static TestResponse notFound();
    /// A text/event-stream response sent as the given chunks (Behaviour::Stream).
    static TestResponse sse(QList<Chunk> chunks, StreamEnd end = StreamEnd::Close, int status = 200);
    TestResponse &withHeader(const QByteArray &name, const QByteArray &value);
};

/// A tiny HTTP/1.1 server on 127.0.0.1 for protocol tests (style.md: "in-process HTTP server").
/// Each test installs a handler; every request is recorded in order. Connection: close after each
/// response keeps it simple and makes request counting exact.
class TestHttpServer : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<TestResponse(const TestRequest &)>;

    explicit TestHttpServer(QObject *parent = nullptr);
    ~TestHttpServer() override;

    bool listen();
    quint16 port() const;
    /// http://127.0.0.1:<port><path>
    QUrl url(const QString &path = QStringLiteral("/")) const;
    QString base() const; ///< http://127.0.0.1:<port>

    void setHandler(Handler handler) { m_handler = std::move(handler); }
    /// Convenience: route by exact path; unknown paths answer 404.
    void route(const QString &path, Handler handler) { m_routes.insert(path, std::move(handler)); }

    const QList<TestRequest> &requests() const { return m_requests; }
    QStringList requestedPaths() const;
    int count(const QString &path) const;
    void clearRequests() { m_requests.clear(); }

    /// Streaming responses (Behaviour::Stream) in the order they started; `index` -1 is the latest.
    int streamCount() const { return int(m_streams.size()); }
    /// Streams whose connection is still open.
    int openStreamCount() const;
    /// Sends bytes as one more chunk on a stream; false when that stream is closed.
    bool writeToStream(int index, const QByteArray &bytes);
    /// Ends a stream: the final chunk and a clean close, or an abrupt reset when `abort`.
    void endStream(int index, bool abort = false);

Q_SIGNALS:
    /// Fires once per request received, after it is recorded and before it is answered.
    void requestReceived(const mcpauth::test::TestRequest &request);
    /// Fires when a streaming response has sent its headers; `index` is its place in streamCount().
    void streamStarted(int index);

private:
    void onNewConnection();
    void startStream(QTcpSocket *socket, const TestResponse &response);
    QTcpSocket *stream(int index) const;
    QTcpServer m_server;
    Handler m_handler;
    QMap<QString, Handler> m_routes;
    QList<TestRequest> m_requests;
    QList<QPointer<QTcpSocket>> m_streams;
};

} // namespace mcpauth::test
