#pragma once

#include "common/Result.h"

#include <QUrl>

namespace mcpauth {

/// Opens an authorization URL for the user to sign in: the system browser in the product
/// (platform's BrowserLauncher, honouring MCP_AUTH_BROWSER), a recorder in tests. Injected into
/// the login flow so core never starts processes itself.
class Browser
{
public:
    virtual ~Browser() = default;
    /// Start opening `url`; success means the request was handed to the browser, not that the user
    /// saw the page. Only http and https URLs are opened (Error::security otherwise).
    virtual Status open(const QUrl &url) = 0;
};

} // namespace mcpauth
