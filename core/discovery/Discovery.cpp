#include "discovery/Discovery.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "discovery/DiscoveryUrls.h"
#include "discovery/ResourceUri.h"
#include "net/UrlPolicy.h"

#include <QMetaObject>
#include <QNetworkReply>

namespace mcpauth {

namespace {

const QByteArray kProtocolVersion = QByteArrayLiteral("2025-11-25");

/// An MCP `initialize` request: what a real client sends first, so the server answers the probe
/// exactly as it would answer the host (401 with its challenge when it needs a token).
QByteArray initializeRequest()
{
    Json body = {
        {"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "initialize"},
        {"params",
         {{"protocolVersion", kProtocolVersion.toStdString()},
          {"capabilities", Json::object()},
          {"clientInfo", {{"name", "mcp-auth-agent"}, {"version", MCPAUTH_VERSION}}}}},
    };
    return toBytes(body);
}

/// The part of the URL that is safe and useful in a message.
QString shown(const QUrl &url)
{
    return redactUrl(url);
}

} // namespace

Discovery::Discovery(const HttpClient &http, QUrl mcpUrl, QObject *parent)
    : QObject(parent), m_http(http), m_mcpUrl(std::move(mcpUrl))
{
    m_mcpUrl.setFragment(QString()); // never sent to a server
}

Discovery::~Discovery()
{
    // Silently: a destroyed flow emits nothing. The callback sees a terminal state and returns.
    if (running())
        m_state = State::Cancelled;
    HttpClient::cancel(m_reply);
}

void Discovery::setChallengeHint(const BearerChallenge &challenge)
{
    m_hint = challenge;
}

void Discovery::setProbe(bool probe)
{
    m_probe = probe;
}

bool Discovery::running() const
{
    return m_state == State::Probing || m_state == State::FetchingResourceMetadata ||
           m_state == State::FetchingServerMetadata;
}

void Discovery::start()
{
    if (m_state != State::Idle)
        return;
    m_state = State::Probing;
    Result<QUrl> resource = ResourceUri::canonical(m_mcpUrl);
    if (!resource) {
        fail(resource.error());
        return;
    }
    m_result.resource = *resource;
    if (m_hint) {
        m_result.challenge = *m_hint;
        fetchResourceMetadata();
    } else if (m_probe) {
        probe();
    } else {
        fetchResourceMetadata();
    }
}

void Discovery::cancel()
{
    if (m_state != State::Idle && !running())
        return;
    finish(Error::cancelled(QStringLiteral("discovery cancelled")));
    HttpClient::cancel(m_reply); // its callback sees the terminal state and does nothing
}

// Step 1. MCP 2025-11-25 "Protected Resource Metadata Discovery": start with an unauthenticated
// MCP request and read WWW-Authenticate from whatever comes back.
void Discovery::probe()
{
    m_state = State::Probing;
    HttpRequest request;
    request.method = HttpRequest::Method::Post;
    request.url = m_mcpUrl;
    request.body = initializeRequest();
    request.followRedirects = false; // a POST is never replayed elsewhere
    request.headers = {
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")},
        // MCP Streamable HTTP: the client MUST accept both JSON and an SSE stream.
        {QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json, text/event-stream")},
        {QByteArrayLiteral("MCP-Protocol-Version"), kProtocolVersion},
    };
    qCDebug(lcDiscovery) << "probing" << shown(m_mcpUrl);
    m_reply = m_http.send(request, this, [this](Result<HttpResponse> response) {
        m_reply = nullptr;
        if (!running())
            return;
        // Unreachable server: nothing else can be discovered either.
        if (!response) {
            fail(response.error().withContext(QStringLiteral("MCP server")));
            return;
        }
        // A 2xx, or a 4xx without a challenge, just means no hint: fall back to the well-known URLs.
        m_result.challenge =
            WwwAuthenticate::bearer(response->headerValues(QByteArrayLiteral("WWW-Authenticate")));
        qCDebug(lcDiscovery) << "probe answered" << response->status << "bearer challenge"
                             << m_result.challenge.present << "resource_metadata"
                             << shown(m_result.challenge.resourceMetadata);
        fetchResourceMetadata();
    });
}

// Step 2. RFC 9728 protected resource metadata.
void Discovery::fetchResourceMetadata()
{
    m_state = State::FetchingResourceMetadata;
    m_tried.clear();
    m_candidates.clear();
    if (!m_result.challenge.resourceMetadata.isEmpty()) {
        // MCP 2025-11-25: MUST use the URL from WWW-Authenticate when present; no fallback.
        m_candidates << m_result.challenge.resourceMetadata;
    } else {
        // RFC 9728 §3.1 / MCP 2025-11-25: path-aware well-known URL first, then the root.
        const QList<QUrl> urls = DiscoveryUrls::protectedResourceMetadata(m_mcpUrl);
        m_candidates << urls;
    }
    tryNext();
}

// Step 3. RFC 8414 / OIDC Discovery metadata of authorization_servers[0].
void Discovery::fetchServerMetadata()
{
    m_state = State::FetchingServerMetadata;
    m_tried.clear();
    m_candidates.clear();
    const QList<QUrl> urls = DiscoveryUrls::authorizationServerMetadata(m_result.issuer);
    m_candidates << urls;
    tryNext();
}

// Fetches the next candidate of the current step. 4xx moves on; anything else decides the step.
void Discovery::tryNext()
{
    const bool resourceStep = m_state == State::FetchingResourceMetadata;
    if (m_candidates.isEmpty()) {
        const QString tried =
            m_tried.isEmpty() ? QStringLiteral("nothing") : m_tried.join(QStringLiteral(", "));
        if (resourceStep && m_result.challenge.resourceMetadata.isEmpty()) {
            // Every well-known URL answered 4xx and no challenge named one: a 2025-03-26 server.
            useLegacyIssuer();
        } else if (resourceStep)
            fail(
                Error::protocol(QStringLiteral("no_resource_metadata"),
                                QStringLiteral("found no OAuth protected resource metadata for %1 (tried %2)")
                                    .arg(shown(m_mcpUrl), tried)));
        else if (m_result.legacyIssuer) {
            // MCP 2025-03-26 "Fallbacks for Servers without Metadata Discovery": default endpoints
            // at the origin. There is no code_challenge_methods_supported to check in this case only.
            m_result.metadata = AuthServerMetadata::legacyDefaults(m_result.issuer);
            m_result.asMetadataUrl = QUrl();
            m_result.legacyEndpoints = true;
            qCInfo(lcDiscovery) << "no authorization server metadata at" << m_result.issuer
                                << "- using the 2025-03-26 default endpoints /authorize, /token, /register;"
                                << "PKCE S256 assumed (no metadata to check)";
            finish(m_result);
        } else
            fail(
                Error::protocol(QStringLiteral("no_server_metadata"),
                                QStringLiteral("found no metadata for the authorization server %1 (tried %2)")
                                    .arg(m_result.issuer, tried)));
        return;
    }
    const QUrl candidate = m_candidates.takeFirst();
    qCDebug(lcDiscovery) << "trying" << shown(candidate);
    HttpRequest request = HttpRequest::get(candidate);
    if (resourceStep) // the MCP server is asked; it may vary the document by protocol version
        request.headers.emplaceBack(QByteArrayLiteral("MCP-Protocol-Version"), kProtocolVersion);
    const QString what = resourceStep ? QStringLiteral("protected resource metadata")
                                      : QStringLiteral("authorization server metadata");

    m_reply =
        m_http.send(request, this, [this, candidate, resourceStep, what](Result<HttpResponse> response) {
            m_reply = nullptr;
            if (!running())
                return;
            // Network failures, timeouts, oversized documents and redirect loops are final: the server
            // is there but not usable now, and a fallback URL must not paper over it.
            if (!response) {
                fail(response.error().withContext(what + QStringLiteral(" at ") + shown(candidate)));
                return;
            }
            const int status = response->status;
            qCDebug(lcDiscovery) << "answered" << status << shown(candidate);
            if (status >= 400 && status < 500) {
                // Not published here: the spec's ordered lists exist exactly for this case.
                m_tried << QStringLiteral("%1 (HTTP %2)").arg(shown(candidate)).arg(status);
                tryNext();
                return;
            }
            if (status >= 500) {
                fail(Error::network(
                    QStringLiteral("server_error"),
                    QStringLiteral("%1 at %2 failed with HTTP %3").arg(what, shown(candidate)).arg(status)));
                return;
            }
            if (!response->isSuccess()) {
                fail(Error::protocol(
                    QStringLiteral("unexpected_status"),
                    QStringLiteral("%1 at %2 answered HTTP %3").arg(what, shown(candidate)).arg(status)));
                return;
            }
            if (resourceStep)
                onResourceMetadata(candidate, *response);
            else
                onServerMetadata(candidate, *response);
        });
}

void Discovery::onResourceMetadata(const QUrl &candidate, const HttpResponse &response)
{
    // A document that answered 200 but does not parse is an error, not a reason to try the next URL.
    Result<ProtectedResourceMetadata> prm = ProtectedResourceMetadata::parse(response.body);
    if (!prm) {
        fail(prm.error().withContext(shown(candidate)));
        return;
    }

    // RFC 9728 §3.3: a `resource` that does not name this server means the metadata MUST NOT be
    // used. MCP 2026-07-28 and the SDK's checkResourceAllowed: besides the MCP URL itself, a resource on
    // the same origin whose path is a whole-segment prefix of the MCP URL's covers it (the server
    // protects a tree; the origin, published at the root well-known URL, covers everything; a
    // query-less URL, what the path-aware URL names, covers the URL with its query). It is then sent
    // exactly as published (DiscoveryResult::resourceIndicator()).
    const bool matches = ResourceUri::sameResource(prm->resource, m_result.resource) ||
                         ResourceUri::covers(prm->resource, m_result.resource);
    if (!matches) {
        fail(Error::security(
            QStringLiteral("resource_mismatch"),
            QStringLiteral("the protected resource metadata at %1 is for \"%2\", not for %3; "
                           "it must not be used")
                .arg(shown(candidate), prm->resource, ResourceUri::toString(m_result.resource))));
        return;
    }

    m_result.prmUrl = candidate;
    m_result.prm = *prm;
    // RFC 9728 §7.6: with several authorization servers the client chooses; the first is the
    // server's own preference.
    m_result.issuer = prm->authorizationServers.constFirst();
    // MCP "Communication Security": authorization server endpoints MUST be HTTPS. Refuse before
    // any request is sent to a plain-HTTP issuer (loopback excepted).
    if (!isSecureEndpoint(QUrl(m_result.issuer, QUrl::StrictMode))) {
        fail(Error::security(QStringLiteral("insecure_endpoint"),
                             QStringLiteral("the authorization server %1 named by %2 does not use HTTPS")
                                 .arg(m_result.issuer, shown(candidate))));
        return;
    }
    qCDebug(lcDiscovery) << "resource metadata from" << shown(candidate) << "issuer" << m_result.issuer;
    fetchServerMetadata();
}

// MCP 2025-03-26 back-compat (the TS SDK does the same): without protected resource metadata the
// MCP server's origin is its authorization server. The PRM is synthesised so the result (and the
// state file) keep their shape; `resource` is still sent, as the current spec requires.
void Discovery::useLegacyIssuer()
{
    QUrl origin = m_result.resource;
    origin.setPath(QString());
    origin.setQuery(QString());
    m_result.issuer = origin.toString(QUrl::FullyEncoded);
    m_result.legacyIssuer = true;
    m_result.prmUrl = QUrl();
    m_result.prm = ProtectedResourceMetadata{};
    m_result.prm.resource = ResourceUri::toString(m_result.resource);
    m_result.prm.authorizationServers = {m_result.issuer};
    qCInfo(lcDiscovery) << "no protected resource metadata for" << shown(m_mcpUrl) << "- using its origin"
                        << m_result.issuer << "as the authorization server (MCP 2025-03-26)";
    fetchServerMetadata();
}

void Discovery::onServerMetadata(const QUrl &candidate, const HttpResponse &response)
{
    // The first document found is final: an issuer mismatch or missing PKCE is not "try the next URL".
    Result<AuthServerMetadata> metadata = AuthServerMetadata::parse(response.body, m_result.issuer);
    if (!metadata && m_result.legacyIssuer && metadata.error().code == QLatin1String("issuer_mismatch")) {
        // MCP 2025-03-26 servers publish their metadata at the MCP origin with an issuer of their
        // choosing (e.g. origin + "/oauth"). The origin was our guess, not an attested issuer: accept
        // the document's own issuer when it lives on the MCP server's origin, and bind to it from
        // here on (iss checks, registration per issuer). Another origin stays refused.
        const Result<Json> doc =
            parseJsonObject(response.body, QStringLiteral("authorization server metadata"));
        const QString claimed = doc ? jsonString(doc.value(), "issuer") : QString();
        const QUrl claimedUrl(claimed);
        if (claimedUrl.isValid() && claimedUrl.scheme() == m_result.resource.scheme() &&
            claimedUrl.host() == m_result.resource.host() && claimedUrl.port() == m_result.resource.port()) {
            qCInfo(lcDiscovery) << "legacy server: using the issuer its metadata names," << claimed;
            m_result.issuer = claimed;
            m_result.prm.authorizationServers = {claimed};
            metadata = AuthServerMetadata::parse(response.body, claimed);
        }
    }
    if (!metadata) {
        fail(metadata.error().withContext(shown(candidate)));
        return;
    }
    m_result.asMetadataUrl = candidate;
    m_result.metadata = *metadata;
    qCDebug(lcDiscovery) << "authorization server metadata from" << shown(candidate);
    finish(m_result);
}

void Discovery::fail(const Error &error)
{
    qCInfo(lcDiscovery) << "discovery failed:" << error.code << error.message;
    finish(error);
}

void Discovery::finish(const Result<DiscoveryResult> &result)
{
    m_state = result.ok()                                             ? State::Done
              : result.error().category == Error::Category::Cancelled ? State::Cancelled
                                                                      : State::Failed;
    m_candidates.clear();
    // Always from the event loop: callers may connect after start() returns, and a receiver that
    // deletes this object must not find itself inside our call stack.
    QMetaObject::invokeMethod(
        this, [this, result] { Q_EMIT finished(result); }, Qt::QueuedConnection);
}

QString DiscoveryResult::resourceIndicator() const
{
    return prm.resource.isEmpty() ? ResourceUri::toString(resource) : prm.resource;
}

Json DiscoveryResult::toJson() const
{
    Json d = Json::object();
    d["prmUrl"] = toStd(prmUrl.toString());
    d["prm"] = prm.toJson();
    d["asMetadataUrl"] = toStd(asMetadataUrl.toString());
    d["metadata"] = metadata.toJson();
    d["legacyIssuer"] = legacyIssuer;
    d["legacyEndpoints"] = legacyEndpoints;
    return d;
}

std::optional<DiscoveryResult> DiscoveryResult::fromJson(const Json &json, const QUrl &resource,
                                                         const QString &issuer)
{
    auto prm = ProtectedResourceMetadata::fromJson(json.value("prm", Json::object()));
    auto meta = AuthServerMetadata::fromJson(json.value("metadata", Json::object()));
    if (!prm || !meta)
        return std::nullopt;
    DiscoveryResult r;
    r.resource = resource;
    r.prmUrl = QUrl(jsonString(json, "prmUrl"));
    r.prm = prm.value();
    r.issuer = issuer;
    r.asMetadataUrl = QUrl(jsonString(json, "asMetadataUrl"));
    r.metadata = meta.value();
    r.legacyIssuer = jsonBool(json, "legacyIssuer").value_or(false);
    r.legacyEndpoints = jsonBool(json, "legacyEndpoints").value_or(false);
    return r;
}

} // namespace mcpauth

#include "moc_Discovery.cpp"
