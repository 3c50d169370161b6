#include "registration/DynamicRegistration.h"

#include "common/Json.h"
#include "common/Log.h"
#include "tokens/OAuthError.h"

#include <QNetworkReply>
#include <QTimer>

namespace mcpauth {

namespace {

Error invalidRegistration(const QString &message)
{
    return Error::protocol(QStringLiteral("invalid_registration"), message);
}

} // namespace

DynamicRegistration::DynamicRegistration(const HttpClient &http, Request request, const Clock &clock,
                                         QObject *parent)
    : QObject(parent), m_http(http), m_request(std::move(request)), m_clock(clock)
{}

DynamicRegistration::~DynamicRegistration()
{
    // Nobody is listening any more: stop the request without emitting from a destructor.
    m_state = State::Finished;
    HttpClient::cancel(m_reply);
}

QByteArray DynamicRegistration::requestBody(const Request &r)
{
    // RFC 7591 §2 client metadata for a native public client (mcp-auth-spec.md §3):
    // - token_endpoint_auth_method is explicit: the RFC 7591 default would be client_secret_basic;
    // - grant_types must list refresh_token or the server may issue no refresh tokens;
    // - application_type (OIDC DCR) defaults to "web", which forbids loopback redirects.
    Json body = {
        {"client_name", toStd(r.clientName)},
        {"redirect_uris", Json::array({toStd(r.redirectUri)})},
        {"grant_types", Json::array({"authorization_code", "refresh_token"})},
        {"response_types", Json::array({"code"})},
        {"token_endpoint_auth_method", "none"},
        {"application_type", "native"},
        {"software_id", "mcp-auth-agent"},
        {"software_version", MCPAUTH_VERSION},
    };
    if (r.extraMetadata.is_object())
        for (const QString &key : extraMetadataKeys())
            if (const auto it = r.extraMetadata.find(toStd(key));
                it != r.extraMetadata.end() && !it->is_null())
                body[toStd(key)] = *it;
    if (!r.scope.isEmpty())
        body["scope"] = toStd(r.scope);
    return toBytes(body);
}

const QStringList &DynamicRegistration::extraMetadataKeys()
{
    static const QStringList keys = {
        QStringLiteral("client_name"), QStringLiteral("scope"),       QStringLiteral("client_uri"),
        QStringLiteral("logo_uri"),    QStringLiteral("tos_uri"),     QStringLiteral("policy_uri"),
        QStringLiteral("contacts"),    QStringLiteral("software_id"), QStringLiteral("software_version"),
    };
    return keys;
}

void DynamicRegistration::start()
{
    if (m_state != State::Idle)
        return;
    m_state = State::Registering;

    std::optional<Error> invalid;
    if (m_request.registrationEndpoint.isEmpty())
        invalid =
            Error::config(QStringLiteral("registration_unsupported"),
                          QStringLiteral("the authorization server offers no dynamic client registration"));
    else if (m_request.redirectUri.isEmpty() || m_request.issuer.isEmpty())
        invalid = Error::internal(QStringLiteral("client registration needs an issuer and a redirect URI"));
    if (invalid) {
        // Deliver asynchronously like every other outcome, so callers may connect after start().
        QTimer::singleShot(0, this, [this, error = *invalid] { finish(error); });
        return;
    }

    qCInfo(lcRegistration) << "registering with" << m_request.registrationEndpoint.host();
    m_reply = m_http.send(HttpRequest::postJson(m_request.registrationEndpoint, requestBody(m_request)), this,
                          [this](Result<HttpResponse> response) { onResponse(std::move(response)); });
}

void DynamicRegistration::cancel()
{
    if (m_state == State::Finished)
        return;
    const QPointer<QNetworkReply> reply = std::exchange(m_reply, nullptr);
    finish(Error::cancelled(QStringLiteral("client registration cancelled")));
    HttpClient::cancel(reply); // its callback finds the flow finished and does nothing
}

void DynamicRegistration::onResponse(Result<HttpResponse> response)
{
    m_reply = nullptr;
    if (m_state != State::Registering)
        return;
    if (!response) {
        finish(response.error().withContext(QStringLiteral("client registration")));
        return;
    }
    // RFC 7591 §3.2.1: success is 201 Created; some servers answer 200.
    const int status = response->status;
    if (status == 200 || status == 201)
        finish(parseSuccess(response.value()));
    else
        finish(failure(response.value()));
}

Result<ClientRegistration> DynamicRegistration::parseSuccess(const HttpResponse &response) const
{
    const auto parsed = parseJsonObject(response.body, QStringLiteral("registration response"));
    if (!parsed)
        return parsed.error();
    const Json &json = parsed.value();

    ClientRegistration reg;
    reg.source = ClientRegistration::Source::Dynamic;
    reg.issuer = m_request.issuer;
    reg.registeredAt = m_clock.now();
    reg.clientId = jsonString(json, "client_id");
    if (reg.clientId.isEmpty())
        return invalidRegistration(QStringLiteral("registration response has no client_id"));
    reg.clientSecret = jsonString(json, "client_secret");
    // RFC 7591 §3.2.1: client_secret_expires_at is required with a secret; 0 means it never expires.
    reg.clientSecretExpiresAt = std::max<qint64>(0, jsonInt(json, "client_secret_expires_at").value_or(0));

    // RFC 7591 §3.2.1: the server may change any metadata it was sent; the returned values rule.
    const QString returnedMethod = jsonString(json, "token_endpoint_auth_method");
    if (!returnedMethod.isEmpty()) {
        const auto method = ClientRegistration::authMethodFromName(returnedMethod);
        if (!method)
            return Error::protocol(
                QStringLiteral("unsupported_auth_method"),
                QStringLiteral("the server registered the client for token endpoint authentication \"%1\", "
                               "which this agent does not support")
                    .arg(OAuthError::sanitizeCode(returnedMethod)));
        reg.authMethod = *method;
        if (reg.authMethod != ClientRegistration::AuthMethod::None && reg.clientSecret.isEmpty())
            return invalidRegistration(QStringLiteral("the server chose %1 but issued no client_secret")
                                           .arg(ClientRegistration::authMethodName(reg.authMethod)));
    } else if (!reg.clientSecret.isEmpty()) {
        // A secret without a method: RFC 7591 §2 makes client_secret_basic the default, unless the
        // server's metadata says it only takes the secret in the body.
        const auto &methods = m_request.serverAuthMethods;
        const bool postOnly = methods && methods->contains(QStringLiteral("client_secret_post")) &&
                              !methods->contains(QStringLiteral("client_secret_basic"));
        reg.authMethod = postOnly ? ClientRegistration::AuthMethod::ClientSecretPost
                                  : ClientRegistration::AuthMethod::ClientSecretBasic;
    } else {
        reg.authMethod = ClientRegistration::AuthMethod::None;
    }
    // A public client never sends a secret: do not keep one it will never use (it would sit in the
    // keychain for nothing, and be one more secret to leak).
    if (reg.authMethod == ClientRegistration::AuthMethod::None) {
        reg.clientSecret.clear();
        reg.clientSecretExpiresAt = 0;
    }

    // The redirect URI must be the one our loopback listener answers; a server that replaced it
    // would send the browser elsewhere (design.md step 4: register again when the redirect changed).
    reg.redirectUri = m_request.redirectUri;
    const auto redirects = jsonStringList(json, "redirect_uris");
    if (redirects && !redirects->isEmpty() && !redirects->contains(m_request.redirectUri))
        return Error::protocol(
            QStringLiteral("redirect_rejected"),
            QStringLiteral("the server registered a different redirect URI than requested"));
    return reg;
}

Error DynamicRegistration::failure(const HttpResponse &response)
{
    // RFC 7591 §3.2.2: a refused registration is HTTP 400 with {error, error_description}.
    if (response.status >= 400 && response.status < 500) {
        if (const auto oauth = OAuthError::parse(response.body)) {
            const QString detail = oauth->description.isEmpty() ? oauth->code : oauth->description;
            return Error::protocol(oauth->code,
                                   QStringLiteral("the server refused the client registration: ") + detail);
        }
    }
    return Error::protocol(
        QStringLiteral("registration_failed"),
        QStringLiteral("client registration failed: the server answered HTTP %1").arg(response.status));
}

void DynamicRegistration::finish(Result<ClientRegistration> result)
{
    if (m_state == State::Finished)
        return;
    m_state = State::Finished;
    if (result)
        qCInfo(lcRegistration) << "registered client" << result->clientId << "auth method"
                               << ClientRegistration::authMethodName(result->authMethod);
    else
        qCWarning(lcRegistration) << "registration failed:" << categoryName(result.error().category)
                                  << result.error().code << result.error().message;
    Q_EMIT finished(result);
}

} // namespace mcpauth

#include "moc_DynamicRegistration.cpp"
