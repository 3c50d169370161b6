#pragma once

#include "broker/PeerIdentity.h"

#include <memory>

namespace mcpauth {

/// The PeerIdentityProvider for the platform this is built for (LinuxPeerIdentity on Linux). The
/// agent's composition root calls this so it needs no platform #ifdef.
std::unique_ptr<PeerIdentityProvider> createPeerIdentityProvider();

} // namespace mcpauth
