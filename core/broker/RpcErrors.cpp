#include "broker/RpcErrors.h"

namespace mcpauth {

int rpcCodeFor(const Error &e)
{
    if (e.code == QLatin1String("policy_denied"))
        return RpcError::PolicyDenied;
    if (e.code == QLatin1String("approval_denied"))
        return RpcError::ApprovalDenied;
    if (e.code == QLatin1String("invalid_params"))
        return RpcError::InvalidParams;
    switch (e.category) {
    case Error::Category::Network:
        return RpcError::ServerUnreachable;
    case Error::Category::Protocol:
    case Error::Category::Security:
        return RpcError::AuthorizationFailed;
    case Error::Category::LoginRequired:
        return RpcError::LoginRequired;
    case Error::Category::Keychain:
        return RpcError::KeychainUnavailable;
    case Error::Category::Cancelled:
        return RpcError::Cancelled;
    case Error::Category::Config:
    case Error::Category::Internal:
        return RpcError::InternalError;
    }
    return RpcError::InternalError;
}

Json rpcErrorData(const Error &e)
{
    Json data{{"code", toStd(e.code)}, {"category", toStd(categoryName(e.category))}};
    if (!e.reason.isEmpty())
        data["reason"] = toStd(e.reason);
    return data;
}

} // namespace mcpauth
