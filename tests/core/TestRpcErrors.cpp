#include "broker/RpcErrors.h"

#include <QTest>

using namespace mcpauth;

class TestRpcErrors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void stableNumbers()
    {
        // Hosts code against these numbers (design.md "Local socket protocol"): a change breaks them.
        QCOMPARE(int(RpcError::ParseError), -32700);
        QCOMPARE(int(RpcError::InvalidRequest), -32600);
        QCOMPARE(int(RpcError::MethodNotFound), -32601);
        QCOMPARE(int(RpcError::InvalidParams), -32602);
        QCOMPARE(int(RpcError::InternalError), -32603);
        QCOMPARE(int(RpcError::LoginRequired), -32001);
        QCOMPARE(int(RpcError::ApprovalDenied), -32002);
        QCOMPARE(int(RpcError::PolicyDenied), -32003);
        QCOMPARE(int(RpcError::ServerUnreachable), -32004);
        QCOMPARE(int(RpcError::KeychainUnavailable), -32005);
        QCOMPARE(int(RpcError::AuthorizationFailed), -32006);
        QCOMPARE(int(RpcError::Cancelled), -32007);
    }

    void codeForError_data()
    {
        QTest::addColumn<int>("category");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("expected");
        using C = Error::Category;
        QTest::newRow("network") << int(C::Network) << QStringLiteral("timeout")
                                 << int(RpcError::ServerUnreachable);
        QTest::newRow("protocol") << int(C::Protocol) << QStringLiteral("invalid_json")
                                  << int(RpcError::AuthorizationFailed);
        QTest::newRow("security") << int(C::Security) << QStringLiteral("issuer_mismatch")
                                  << int(RpcError::AuthorizationFailed);
        QTest::newRow("login") << int(C::LoginRequired) << QStringLiteral("login_required")
                               << int(RpcError::LoginRequired);
        QTest::newRow("keychain") << int(C::Keychain) << QStringLiteral("keychain_unavailable")
                                  << int(RpcError::KeychainUnavailable);
        QTest::newRow("cancelled") << int(C::Cancelled) << QStringLiteral("cancelled")
                                   << int(RpcError::Cancelled);
        QTest::newRow("config") << int(C::Config) << QStringLiteral("state_corrupt")
                                << int(RpcError::InternalError);
        QTest::newRow("internal") << int(C::Internal) << QStringLiteral("internal")
                                  << int(RpcError::InternalError);
        QTest::newRow("policy code wins")
            << int(C::Security) << QStringLiteral("policy_denied") << int(RpcError::PolicyDenied);
        QTest::newRow("approval code wins")
            << int(C::Security) << QStringLiteral("approval_denied") << int(RpcError::ApprovalDenied);
        QTest::newRow("invalid params")
            << int(C::Config) << QStringLiteral("invalid_params") << int(RpcError::InvalidParams);
    }
    void codeForError()
    {
        QFETCH(int, category);
        QFETCH(QString, code);
        QFETCH(int, expected);
        const Error e{Error::Category(category), code, QStringLiteral("m")};
        QCOMPARE(rpcCodeFor(e), expected);
    }

    void errorData()
    {
        const Json data = rpcErrorData(Error::network(QStringLiteral("timeout"), QStringLiteral("slow")));
        QVERIFY(data == Json({{"code", "timeout"}, {"category", "network"}}));
    }
};

QTEST_GUILESS_MAIN(TestRpcErrors)
#include "TestRpcErrors.moc"
