#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QTcpServer>
#include <QUrl>
#include <QUrlQuery>

#include <functional>

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
    enum class Behaviour { Normal, NeverAnswer, CloseImmediately } behaviour = Behaviour::Normal;

    static TestResponse json(const QByteArray &body, int status = 200);
    static TestResponse text(const QByteArray &body, int status = 200);
    static TestResponse redirect(const QByteArray &location, int status = 302);
    static TestResponse notFound();
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

Q_SIGNALS:
    /// Fires once per request received, after it is recorded and before it is answered.
    void requestReceived(const mcpauth::test::TestRequest &request);

private:
    void onNewConnection();
    QTcpServer m_server;
    Handler m_handler;
    QMap<QString, Handler> m_routes;
    QList<TestRequest> m_requests;
};

} // namespace mcpauth::test
