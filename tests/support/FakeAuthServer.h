#pragma once

#include "TestHttpServer.h"

#include <QHash>
#include <QSet>
#include <QStringList>

namespace mcpauth::test {

/// An in-process MCP server plus OAuth authorization server on one TestHttpServer, for engine
/// tests: RFC 9728 metadata, RFC 8414 metadata, DCR, authorize (302 straight back, like the
/// conformance suite's mock), token endpoint with PKCE check and refresh-token rotation, RFC 7009
/// revocation. Counts everything and remembers every secret it issued, so tests can assert
/// "exactly one refresh", "no refresh token used twice" and "no secret in the logs".
class FakeAuthServer : public QObject
{
    Q_OBJECT
public:
    explicit FakeAuthServer(QObject *parent = nullptr);

    bool listen() { return m_http.listen(); }
    QString issuer() const { return m_http.base(); }
    QUrl mcpUrl() const { return m_http.url(QStringLiteral("/mcp")); }
    TestHttpServer &http() { return m_http; }

    // Behaviour knobs.
    qint64 accessTokenLifetime = 3600;
    bool rotateRefreshTokens = true;
    bool issueRefreshTokens = true;
    bool sendIss = true;
    QString registrationAuthMethod = QStringLiteral("none"); ///< what DCR answers
    bool publishResourceMetadata = true; ///< false: PRM 404 and no resource_metadata (2025-03-26 server)
    bool publishServerMetadata = true;   ///< false: AS metadata 404 (2025-03-26 default endpoints)
    bool advertiseCimd = false;          ///< client_id_metadata_document_supported; https client_ids accepted
    QStringList tokenAuthMethods = {QStringLiteral("none"), QStringLiteral("client_secret_basic"),
                                    QStringLiteral("client_secret_post")};
    enum class TokenFailure { None, Drop, ServerError, InvalidGrant, InvalidClient };
    TokenFailure tokenFailure = TokenFailure::None;

    // What happened.
    int registrations = 0;
    int authorizations = 0;
    int codeGrants = 0;
    int refreshGrants = 0;
    int refreshTokenReuse = 0;
    int revocations = 0;
    int mcpRequests = 0;
    QList<QByteArray> registrationBodies;
    QList<QByteArray> tokenAuthorizationHeaders; ///< Authorization header of every token request
    QList<QUrlQuery> authorizeRequests;
    QList<QUrlQuery> tokenRequests;
    QStringList issuedSecrets() const; ///< every code, token and client secret handed out
    QString lastAccessToken;
    QString lastRefreshToken;

    /// A client known out of band (pre-registration).
    void addClient(const QString &id, const QString &secret) { m_clients.insert(id, secret); }
    /// Forget every registered client (the next use of one gets invalid_client).
    void forgetClients() { m_clients.clear(); }
    /// Revoke every grant (the next refresh gets invalid_grant).
    void revokeAll() { m_refreshTokens.clear(); }

private:
    TestResponse authorize(const TestRequest &r);
    TestResponse token(const TestRequest &r);
    TestResponse issueTokens(const QString &clientId, const QString &scope);

    TestHttpServer m_http;
    struct Code
    {
        QString clientId, challenge, redirectUri, resource, scope;
    };
    QHash<QString, Code> m_codes;
    QHash<QString, QString> m_clients;       ///< client_id → secret (may be empty)
    QHash<QString, QString> m_refreshTokens; ///< live refresh token → client_id
    QSet<QString> m_spentRefreshTokens;
    QSet<QString> m_accessTokens;
    QStringList m_secrets;
    int m_counter = 0;
};

} // namespace mcpauth::test
