#include "common/Error.h"

namespace mcpauth {

QString categoryName(Error::Category category)
{
    switch (category) {
    case Error::Category::Network:
        return QStringLiteral("network");
    case Error::Category::Protocol:
        return QStringLiteral("protocol");
    case Error::Category::Security:
        return QStringLiteral("security");
    case Error::Category::Config:
        return QStringLiteral("config");
    case Error::Category::Cancelled:
        return QStringLiteral("cancelled");
    case Error::Category::LoginRequired:
        return QStringLiteral("login_required");
    case Error::Category::Keychain:
        return QStringLiteral("keychain");
    case Error::Category::Internal:
        return QStringLiteral("internal");
    }
    return QStringLiteral("internal");
}

} // namespace mcpauth
