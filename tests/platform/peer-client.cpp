// mcpauth-peer-client SOCKET: connects, sends one JSON-RPC request line and reports what happened,
// for TestLinuxPeerIdentity, which runs it as another user. Prints "CONNECTED", then every line
// received ("LINE <text>", then it exits), or "CLOSED" when the server hangs up, or "OPEN" if neither
// happened within 3 s.
// Exit code: 0 when it could connect, 2 when it could not.
#include <QCoreApplication>
#include <QLocalSocket>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: mcpauth-peer-client SOCKET\n");
        return 64;
    }
    QLocalSocket socket;
    auto say = [](const QByteArray &text) {
        std::fprintf(stdout, "%s\n", text.constData());
        std::fflush(stdout);
    };
    QObject::connect(&socket, &QLocalSocket::connected, &app, [&] {
        say("CONNECTED");
        socket.write(R"({"jsonrpc":"2.0","id":1,"method":"agent/status"})"
                     "\n");
    });
    QObject::connect(&socket, &QLocalSocket::readyRead, &app, [&] {
        while (socket.canReadLine())
            say("LINE " + socket.readLine().trimmed());
        if (socket.bytesAvailable() > 0)
            say("LINE " + socket.readAll());
        app.exit(0); // one answer is all the test needs
    });
    QObject::connect(&socket, &QLocalSocket::disconnected, &app, [&] {
        say("CLOSED");
        app.exit(0);
    });
    QObject::connect(&socket, &QLocalSocket::errorOccurred, &app, [&](QLocalSocket::LocalSocketError error) {
        if (error == QLocalSocket::PeerClosedError)
            return; // disconnected() follows
        if (socket.state() != QLocalSocket::ConnectedState) {
            say("ERROR " + socket.errorString().toUtf8());
            app.exit(2);
        }
    });
    QTimer::singleShot(3000, &app, [&] {
        say("OPEN");
        app.exit(0);
    });
    socket.connectToServer(QString::fromLocal8Bit(argv[1]));
    return app.exec();
}
