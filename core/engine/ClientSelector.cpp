#include "engine/ClientSelector.h"

#include "common/Log.h"
#include "tokens/TokenClient.h"

namespace mcpauth {

Result<std::optional<ClientRegistration>> ClientSelector::select(const DiscoveryResult &d, const Inputs &in)
{
    // 1. Pre-registered: IT policy first (it is not the user's to override), then configuration.
    if (in.policyClient && in.policyClient->issuer == d.issuer)
        return std::optional<ClientRegistration>(*in.policyClient);
    if (in.config && in.config->staticClient) {
        ClientRegistration c = *in.config->staticClient;
        c.source = ClientRegistration::Source::PreRegistered;
        c.issuer = d.issuer;
        if (in.config->staticAuthMethod) {
            c.authMethod = *in.config->staticAuthMethod;
        } else {
            // RFC 6749 §2.3.1 / RFC 8414 §2: basic unless the server only takes the secret in the body.
            const auto method =
                TokenClient::chooseAuthMethod(c, d.metadata.tokenEndpointAuthMethodsSupported);
            if (!method)
                return Error::config(QStringLiteral("no_auth_method"),
                                     QStringLiteral("%1 accepts none of the ways this client can present its "
                                                    "secret (client_secret_basic, client_secret_post)")
                                         .arg(d.issuer));
            c.authMethod = *method;
        }
        return std::optional<ClientRegistration>(c);
    }
    // 2. CIMD: the URL is the client_id; a public client, nothing to register (portable across servers).
    if (in.config && !in.config->clientMetadataUrl.isEmpty()) {
        if (d.metadata.clientIdMetadataDocumentSupported) {
            ClientRegistration c;
            c.source = ClientRegistration::Source::MetadataDocument;
            c.issuer = d.issuer;
            c.clientId = in.config->clientMetadataUrl.toString(QUrl::FullyEncoded);
            c.authMethod = ClientRegistration::AuthMethod::None;
            return std::optional<ClientRegistration>(c);
        }
        qCInfo(lcEngine) << d.issuer << "does not advertise client ID metadata documents; not using"
                         << in.config->clientMetadataUrl.toString();
    }
    // 3. A dynamic client registered with this issuer before; else 4. register (the caller).
    if (in.stored && in.stored->issuer == d.issuer)
        return in.stored;
    return std::optional<ClientRegistration>();
}

} // namespace mcpauth
