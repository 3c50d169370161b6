#pragma once

#include "common/Result.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTcpServer>
#include <QTimer>
#include <QUrlQuery>

#include <chrono>

class QTcpSocket;

namespace mcpauth {

/// The loopback redirect listener of a native-app OAuth login (RFC 8252 §7.3): a tiny HTTP server on
/// 127.0.0.1 (never a wildcard address, never "localhost", RFC 8252 §8.3) that accepts exactly one
/// authorization response, hands its query to the engine, and answers the browser with a plain page
/// once the engine knows the outcome. It stops accepting connections as soon as the callback arrived.
///
///     Idle ──listen()──▶ Listening ──GET <path>?state=<expected>──▶ CallbackReceived ──respond()/60 s──▶
///     Closed
///                         │  ▲                                                                   ▲
///                         │  └── wrong/missing state, wrong Host: error page, keeps listening    │
///                         └───────────────────────────── close() ────────────────────────────────┘
///
/// Any local user can connect to a loopback port, so only the request that carries the sign-in's
/// own `state` (setExpectedState(), compared in constant time) is the callback: a forged one gets
/// an error page and changes nothing. Requests whose Host is not exactly this listener's
/// "127.0.0.1:<port>" are refused (DNS rebinding: a web page reaching us through a name).
/// Bounded: request headers at most 16 KiB (else 431), a connection must deliver its request within
/// 10 s, at most 16 connections at a time, only GET (else 405), only `path` counts (else 404).
/// The query carries the code and state: it is only ever logged through redactUrl().
class LoopbackReceiver : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Listening, CallbackReceived, Closed };

    static constexpr qsizetype kMaxHeaderBytes = 16 * 1024;
    static constexpr int kMaxConnections = 16;

    explicit LoopbackReceiver(QObject *parent = nullptr);
    ~LoopbackReceiver() override;

    /// Binds 127.0.0.1:`preferredPort` (0 = ephemeral) and returns the redirect URI
    /// "http://127.0.0.1:<port><path>". Errors: Network "port_busy" when the preferred port is taken,
    /// Network "listen_failed", Config "invalid_redirect_path", Internal when already started.
    Result<QString> listen(quint16 preferredPort = 0, const QString &path = QStringLiteral("/callback"));
    QString redirectUri() const;
    /// The `state` of the authorization request the browser was sent with. Until it is set, no
    /// request is taken as the callback.
    void setExpectedState(const QString &state) { m_expectedState = state; }
    quint16 port() const { return m_port; }
    /// The address the listener is bound to (127.0.0.1); null when not listening.
    QHostAddress serverAddress() const { return m_server.serverAddress(); }
    State state() const { return m_state; }

    /// Answers the browser that delivered the callback with page(success, message), closes that
    /// connection once written and stops listening. Without a pending callback it only closes.
    void respond(bool success, const QString &message);
    /// Stops listening and drops every connection, including an unanswered callback. Idempotent.
    void close();

    /// The complete, self-contained HTML page (no external resources; `message` HTML-escaped).
    static QByteArray page(bool success, const QString &message);

    /// Overrides the 10 s request deadline and the 60 s wait for respond() (tests use short ones).
    void setTimeouts(std::chrono::milliseconds requestDeadline, std::chrono::milliseconds respondDeadline);

Q_SIGNALS:
    /// Fires at most once per listen(): when a GET to the redirect path with the expected `state`
    /// arrives, with its query (form-urlencoded '+' already read as space). Other paths, methods,
    /// Hosts and states never fire it.
    void callbackReceived(const QUrlQuery &query);

private:
    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void handleRequest(QTcpSocket *socket, const QByteArray &head);
    void reply(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
               const QByteArray &extraHeaders = {});
    void forget(QTcpSocket *socket);
    void stopListening();

    State m_state = State::Idle;
    QTcpServer m_server;
    quint16 m_port = 0;
    QString m_path;
    QString m_expectedState;
    QHash<QTcpSocket *, QByteArray> m_buffers; ///< connections still sending their request
    QPointer<QTcpSocket> m_pending;            ///< the callback connection waiting for respond()
    QTimer m_respondTimer;
    std::chrono::milliseconds m_requestDeadline{10'000};
};

} // namespace mcpauth
