#pragma once

#include "common/Result.h"
#include "discovery/AuthServerMetadata.h"
#include "discovery/ProtectedResourceMetadata.h"
#include "discovery/WwwAuthenticate.h"
#include "net/HttpClient.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>

#include <optional>

class QNetworkReply;

namespace mcpauth {

/// Everything discovery learnt about one MCP server.
struct DiscoveryResult
{
    QUrl resource; ///< canonical MCP URL (ResourceUri), the RFC 8707 `resource`
    QUrl prmUrl;   ///< where the protected resource metadata was found
    ProtectedResourceMetadata prm;
    QString issuer; ///< authorization_servers[0], exactly as published
    QUrl asMetadataUrl;
    AuthServerMetadata metadata;
    BearerChallenge challenge; ///< from the probe or the hint; `present` false when there was none
    /// MCP 2025-03-26 back-compat: no protected resource metadata anywhere, so the MCP server's
    /// origin is the authorization server (prm is synthesised: resource + that one issuer).
    bool legacyIssuer = false;
    /// ...and that origin publishes no metadata either: the 2025-03-26 default endpoints are used.
    bool legacyEndpoints = false;

    /// The RFC 8707 `resource` to send in every authorization and token request: the protected
    /// resource metadata's `resource` exactly as published (checked against the MCP URL at
    /// discovery), else the canonical MCP URL. A parser that appends "/" to a bare origin, or the
    /// MCP URL where the metadata names its origin, fails servers that compare the string
    /// (conformance `resource-parameter-matches-prm`, `auth/metadata-var2`).
    QString resourceIndicator() const;

    /// The cached form kept in the state file (no challenge: it belongs to one request).
    Json toJson() const;
    /// Back from toJson(); metadata is validated again (HTTPS except loopback, as on discovery).
    static std::optional<DiscoveryResult> fromJson(const Json &json, const QUrl &resource,
                                                   const QString &issuer);
};

/// Steps 1–3 of the authorization engine for one MCP server: probe it for a Bearer challenge,
/// fetch its RFC 9728 protected resource metadata, then its authorization server's RFC 8414 /
/// OIDC metadata, trying the well-known URLs in the order MCP 2025-11-25 requires and validating
/// each document (resource match, issuer identity, HTTPS, PKCE S256). All network goes through the
/// injected HttpClient; the flow never retries and never follows a URL it was not told to.
/// The PRM `resource` must name the canonical MCP URL; a document found at the root well-known URL
/// may instead name the origin (RFC 9728 §3.3: the identifier the well-known URL was built from).
/// Back-compat with MCP 2025-03-26: when no challenge names a metadata URL and every well-known
/// PRM URL answers 4xx, the MCP server's origin is taken as the authorization server; when that
/// origin has no metadata at any well-known URL either, {origin}/authorize, /token and /register.
///
/// ```
///  Idle ──start()──> Probing ──> FetchingResourceMetadata ──> FetchingServerMetadata ──> Done
///    │   (skipped with a hint or setProbe(false)) ─┘                                 └─> Failed
///    └── cancel() from any non-terminal state ──> Cancelled
/// ```
class Discovery : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Idle,
        Probing,
        FetchingResourceMetadata,
        FetchingServerMetadata,
        Done,
        Failed,
        Cancelled
    };
    Q_ENUM(State)

    /// `http` must outlive this object.
    Discovery(const HttpClient &http, QUrl mcpUrl, QObject *parent = nullptr);
    ~Discovery() override;

    /// The caller already has the Bearer challenge of a 401/403 from the MCP server: skip the probe.
    void setChallengeHint(const BearerChallenge &challenge);
    /// Whether to probe the MCP URL for a challenge when no hint is set (default true).
    void setProbe(bool probe);

    /// Starts the flow; only the first call from Idle has an effect.
    void start();
    /// Stops the flow; finished() then carries Error::cancelled. No effect once finished.
    void cancel();

    State state() const { return m_state; }

Q_SIGNALS:
    /// Fires exactly once per started (or cancelled) flow, always from the event loop, never
    /// from inside start(): the result, or the first error that stopped discovery.
    void finished(const mcpauth::Result<mcpauth::DiscoveryResult> &result);

private:
    void probe();
    void fetchResourceMetadata();
    void fetchServerMetadata();
    void useLegacyIssuer();
    void tryNext();
    void onResourceMetadata(const QUrl &candidate, const HttpResponse &response);
    void onServerMetadata(const QUrl &candidate, const HttpResponse &response);
    bool running() const;
    void fail(const Error &error);
    void finish(const Result<DiscoveryResult> &result);

    const HttpClient &m_http;
    QUrl m_mcpUrl;
    std::optional<BearerChallenge> m_hint;
    bool m_probe = true;
    State m_state = State::Idle;
    QPointer<QNetworkReply> m_reply;
    DiscoveryResult m_result;
    QList<QUrl> m_candidates; ///< URLs still to try in the current step, in order
    QStringList m_tried;      ///< URLs that answered 4xx in the current step (for the error message)
};

} // namespace mcpauth
