#pragma once

#include "login/Browser.h"

namespace mcpauth {

/// Opens authorization URLs for the user (design.md "Commands"). With MCP_AUTH_BROWSER set, runs
/// that program directly with the URL as its last argument (the value may carry arguments of its
/// own, split like a command line but never passed to a shell); otherwise the desktop's browser:
/// QDesktopServices when a QGuiApplication runs, else xdg-open. Only http and https URLs are opened.
class BrowserLauncher : public Browser
{
public:
    Status open(const QUrl &url) override;

private:
    static Status startDetached(const QString &program, QStringList arguments, const QUrl &url);
};

} // namespace mcpauth
