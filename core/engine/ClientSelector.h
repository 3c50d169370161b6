#pragma once

#include "common/Result.h"
#include "discovery/Discovery.h"
#include "engine/ServerConfig.h"
#include "registration/ClientRegistration.h"

#include <optional>

namespace mcpauth {

/// Which client identity a sign-in uses with a discovered authorization server, in the order of
/// MCP 2025-11-25 "Client Registration Approaches": a pre-registered client (IT policy, then the
/// server's configuration) → a Client ID Metadata Document (configured and advertised by the
/// server) → the dynamic client registered earlier with this issuer → nullopt (register now).
/// Pure: the engine supplies what it knows, the selector decides.
class ClientSelector
{
public:
    struct Inputs
    {
        std::optional<ClientRegistration> policyClient; ///< IT policy's client for this issuer
        const ServerConfig *config = nullptr;           ///< the server's configuration, if any
        std::optional<ClientRegistration> stored;       ///< a dynamic client kept for this issuer
    };

    /// The client to use, bound to `d.issuer`. Errors: Config "no_auth_method" when a configured
    /// secret cannot be presented in any way the server accepts.
    static Result<std::optional<ClientRegistration>> select(const DiscoveryResult &d, const Inputs &in);
};

} // namespace mcpauth
