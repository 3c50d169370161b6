#include "proxy/TransportFactory.h"

#include "proxy/LegacySseTransport.h"
#include "proxy/StatelessHttpTransport.h"
#include "proxy/StreamableHttpTransport.h"

namespace mcpauth {

McpTransport *createTransport(TransportKind kind, QNetworkAccessManager *nam, const QUrl &endpoint,
                              const QList<QPair<QByteArray, QByteArray>> &extraHeaders, QObject *parent)
{
    switch (kind) {
    case TransportKind::Stateless:
        return new StatelessHttpTransport(nam, endpoint, extraHeaders, parent);
    case TransportKind::StreamableHttp:
        return new StreamableHttpTransport(nam, endpoint, extraHeaders, parent);
    case TransportKind::LegacySse:
        return new LegacySseTransport(nam, endpoint, extraHeaders, parent);
    }
    return nullptr;
}

} // namespace mcpauth
