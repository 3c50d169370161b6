#pragma once

#include "proxy/McpTransport.h"

#include <QHash>
#include <QSet>
#include <QStringList>
#include <QTimer>

namespace mcpauth {

/// Lets a 2025-11-25 host use a 2026-07-28 server (mcp-2026-07-28.md §2.3, checklist E): an
/// McpTransport towards the proxy that speaks the legacy era, over a stateless transport towards
/// the server.
///
///   - `initialize` is answered here from the server's DiscoverResult (capabilities, serverInfo,
///     instructions; the host's version when it is one we know, else 2025-11-25);
///     `notifications/initialized` opens the subscription stream.
///   - `ping`, `logging/setLevel` (the level is stamped on later requests) and
///     `resources/subscribe`/`unsubscribe` (they reshape the subscription) are answered here.
///   - Every other request goes out with `_meta` stamped (version, the host's capabilities and
///     clientInfo) under an id of ours; its response comes back under the host's id, without
///     `resultType`. An unknown resultType is an error.
///   - `input_required` (MRTR) becomes `elicitation/create`, `sampling/createMessage` or
///     `roots/list` requests to the host (ids `mcp-auth-input-N`, only for capabilities the host
///     declared); with all its answers the request is retried under a new id with
///     `inputResponses` and the exact `requestState`. At most maxInputRounds rounds.
///   - List-changed and resource-updated notifications arrive through a `subscriptions/listen`
///     the bridge keeps open for the kinds the server advertises (re-opened with backoff when it
///     ends), without the subscription id; the acknowledgement is swallowed.
///   - The host's `notifications/cancelled` closes the live leg's stream.
///
/// 401/403 on a leg fire authorizationRequired() with the host's message; the proxy's send() of
/// that message again resends the leg as it was.
class LegacyHostBridge : public McpTransport
{
    Q_OBJECT
public:
    /// Rounds of input requests one host request may take (the SDK and mcp-remote use 10).
    static constexpr int maxInputRounds = 10;
    /// Legs in flight at most; more fail with "busy".
    static constexpr qsizetype maxLegs = 1024;

    /// `inner` (taken over) speaks the modern wire; `discover` is the server's DiscoverResult
    /// (null: one is fetched when the host initializes).
    LegacyHostBridge(McpTransport *inner, Json discover, QObject *parent = nullptr);

    void start() override;
    void send(const Json &message) override;
    void close() override;
    void setAccessToken(const QString &token) override;

    /// True while the subscription stream is open or being opened.
    bool isListening() const { return !m_listenId.isEmpty(); }

private:
    struct Leg
    {
        Json hostMessage; ///< the host's request, its id included
        Json wireMessage; ///< what was POSTed last
        int rounds = 0;
        bool awaitingToken = false;
        QString requestState; ///< of the last input_required round
        bool hasRequestState = false;
        Json answers = Json::object();
        QSet<QString> pending; ///< input request ids the host still owes
    };

    void fromServer(const Json &message);
    void onLegResponse(const QString &wireId, Json response);
    void askHost(const QString &wireId, const Json &result);
    void onHostAnswer(const Json &response);
    void retry(const QString &wireId);
    QString sendLeg(const Json &hostMessage);
    void answerInitialize(const Json &request);
    void reply(const Json &message);
    void failLeg(const QString &wireId, int code, const QString &text);
    Json stamp(Json request) const;
    QString mintId(const char *kind);
    /// How m_byHostId keys a host's request id.
    static QByteArray idKey(const Json &id) { return toBytes(id); }
    void openListen();
    void closeListen();
    void scheduleListen();

    McpTransport *m_inner;
    Json m_discover;
    Json m_hostCapabilities = Json::object();
    Json m_hostClientInfo;
    QString m_logLevel;
    QHash<QString, Leg> m_legs;                       ///< by wire id
    QHash<QByteArray, QString> m_byHostId;            ///< host id (JSON text) → wire id
    QHash<QString, QPair<QString, QString>> m_inputs; ///< input request id → (wire id, input key)
    QList<Json> m_initializeWaiting;                  ///< initialize requests waiting for the discover
    QString m_discoverId;
    QSet<QString> m_resourceSubscriptions;
    QString m_listenId;
    int m_listenFailures = 0;
    bool m_listenWanted = false;
    bool m_listenNeedsToken = false;
    QTimer m_listenTimer;
    quint64 m_nextId = 1;
    bool m_closed = false;
};

} // namespace mcpauth
