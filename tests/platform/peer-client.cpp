// mcpauth-peer-client, the socket client TestLinuxPeerIdentity runs as other processes:
//   mcpauth-peer-client SOCKET            connects, sends one JSON-RPC request line and reports what
//                                         happened: "CONNECTED", then every line received ("LINE
//                                         <text>", then it exits), or "CLOSED" when the server hangs
//                                         up, or "OPEN" if neither happened within 3 s. Exit code 0
//                                         when it could connect, 2 when it could not.
//   mcpauth-peer-client --spawn CMD ARGS  runs CMD as its child (an app launching a tool), passes its
//                                         output on, and exits with its code.
//   mcpauth-peer-client --handoff SOCKET  connects, then hands the socket to a child and exits at
//                                         once; the child waits 500 ms (so the opener is gone), sends
//                                         the request and reports as above, on stdout.
#include <QCoreApplication>
#include <QLocalSocket>
#include <QProcess>
#include <QTimer>

#include <cstdio>
#include <unistd.h>

namespace {

void say(const QByteArray &text)
{
    std::fprintf(stdout, "%s\n", text.constData());
    std::fflush(stdout);
}

int request(QCoreApplication &app, QLocalSocket &socket)
{
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
    socket.write(R"({"jsonrpc":"2.0","id":1,"method":"agent/status"})"
                 "\n");
    QTimer::singleShot(3000, &app, [&] {
        say("OPEN");
        app.exit(0);
    });
    return app.exec();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc >= 3 && QByteArray(argv[1]) == "--spawn") {
        QCoreApplication app(argc, argv);
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        QStringList args;
        for (int i = 3; i < argc; ++i)
            args << QString::fromLocal8Bit(argv[i]);
        child.start(QString::fromLocal8Bit(argv[2]), args);
        if (!child.waitForStarted(5000))
            return 3;
        child.waitForFinished(20000);
        return child.exitCode();
    }
    const bool handoff = argc == 3 && QByteArray(argv[1]) == "--handoff";
    if (argc != 2 && !handoff) {
        std::fprintf(stderr, "usage: mcpauth-peer-client [--handoff] SOCKET | --spawn CMD ARGS...\n");
        return 64;
    }
    const QString path = QString::fromLocal8Bit(argv[argc - 1]);
    if (handoff) {
        // Connect with a plain socket before any Qt object exists, fork, and let the opener go.
        QCoreApplication probe(argc, argv);
        QLocalSocket opener;
        opener.connectToServer(path);
        if (!opener.waitForConnected(3000)) {
            say("ERROR " + opener.errorString().toUtf8());
            return 2;
        }
        say("CONNECTED");
        const int fd = dup(int(opener.socketDescriptor()));
        const pid_t child = fork();
        if (child != 0)
            _exit(child > 0 ? 0 : 3); // the opener leaves; its child keeps the connection
        usleep(500 * 1000);
        QLocalSocket socket;
        if (!socket.setSocketDescriptor(fd)) {
            say("ERROR adopting the socket");
            _exit(2);
        }
        const int code = request(probe, socket);
        _exit(code);
    }
    QCoreApplication app(argc, argv);
    QLocalSocket socket;
    QObject::connect(&socket, &QLocalSocket::connected, &app, [&] { say("CONNECTED"); });
    QObject::connect(&socket, &QLocalSocket::errorOccurred, &app, [&](QLocalSocket::LocalSocketError error) {
        if (error == QLocalSocket::PeerClosedError)
            return; // disconnected() follows
        if (socket.state() != QLocalSocket::ConnectedState) {
            say("ERROR " + socket.errorString().toUtf8());
            app.exit(2);
        }
    });
    socket.connectToServer(path);
    if (!socket.waitForConnected(3000)) {
        say("ERROR " + socket.errorString().toUtf8());
        return 2;
    }
    return request(app, socket);
}
