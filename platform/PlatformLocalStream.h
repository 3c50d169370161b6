#pragma once

#include "broker/LocalStream.h"

class QLocalSocket;

namespace mcpauth {

/// The broker's stream for an accepted client on the platform this is built for (UnixLocalStream
/// on Linux; a platform without its own falls back to QtLocalStream), taking `socket` over. For
/// BrokerServer::setStreamFactory(), so the agent's composition root needs no platform #ifdef.
LocalStream *adoptLocalStream(QLocalSocket *socket);

} // namespace mcpauth
