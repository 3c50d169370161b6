#include "common/Log.h"

Q_LOGGING_CATEGORY(lcNet, "mcpauth.net", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDiscovery, "mcpauth.discovery", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRegistration, "mcpauth.registration", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLogin, "mcpauth.login", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTokens, "mcpauth.tokens", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStorage, "mcpauth.storage", QtInfoMsg)
Q_LOGGING_CATEGORY(lcBroker, "mcpauth.broker", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEngine, "mcpauth.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcPlatform, "mcpauth.platform", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProxy, "mcpauth.proxy", QtInfoMsg)
