#include "BrowserLauncher.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;

/// MCP_AUTH_BROWSER points at a small script that records its arguments, one per line, so the test
/// sees exactly what the launcher passed (and that no shell interpreted the URL).
class TestBrowserLauncher : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_script;
    QString m_out;

    QStringList recordedArgs()
    {
        if (!QTest::qWaitFor([&] { return QFile::exists(m_out + QStringLiteral(".done")); }, 5000))
            return {QStringLiteral("<nothing recorded>")};
        QFile f(m_out);
        if (!f.open(QIODevice::ReadOnly))
            return {};
        QStringList args = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
        if (!args.isEmpty() && args.last().isEmpty())
            args.removeLast();
        return args;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_script = m_dir.filePath(QStringLiteral("record browser.sh")); // a space: must not be split
        m_out = m_dir.filePath(QStringLiteral("args"));
        QFile script(m_script);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("#!/bin/sh\nout=\"$MCPAUTH_TEST_OUT\"\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> "
                     "\"$out\"; done\n"
                     "touch \"$out.done\"\n");
        script.close();
        QVERIFY(QFile::setPermissions(m_script, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        qputenv("MCPAUTH_TEST_OUT", m_out.toLocal8Bit());
    }
    void init()
    {
        QFile::remove(m_out);
        QFile::remove(m_out + QStringLiteral(".done"));
    }
    void cleanup() { qunsetenv("MCP_AUTH_BROWSER"); }

    void refusesNonWebUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::newRow("file") << QStringLiteral("file:///etc/passwd");
        QTest::newRow("javascript") << QStringLiteral("javascript:alert(1)");
        QTest::newRow("custom scheme") << QStringLiteral("vscode://open?x=1");
        QTest::newRow("data") << QStringLiteral("data:text/html,hi");
        QTest::newRow("no host") << QStringLiteral("https:///path");
        QTest::newRow("empty") << QString();
    }
    void refusesNonWebUrls()
    {
        QFETCH(QString, url);
        qputenv("MCP_AUTH_BROWSER", QFile::encodeName(QStringLiteral("\"%1\"").arg(m_script)));
        BrowserLauncher launcher;
        const auto r = launcher.open(QUrl(url));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Security);
        QTest::qWait(200);
        QVERIFY(!QFile::exists(m_out + QStringLiteral(".done"))); // nothing was started
    }

    void runsMcpAuthBrowserWithUrlAsOneArgument()
    {
        // Shell metacharacters in the URL stay inert: there is no shell.
        const QUrl url(QStringLiteral("https://auth.example.com/authorize?client_id=a&state=x;touch%20pwned&"
                                      "redirect_uri=http%3A%2F%2F127.0.0.1%3A1234%2Fcb&q=$(id)"));
        qputenv("MCP_AUTH_BROWSER", QFile::encodeName(QStringLiteral("\"%1\" --new-window").arg(m_script)));
        BrowserLauncher launcher;
        const auto r = launcher.open(url);
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        const QStringList args = recordedArgs();
        QCOMPARE(args, (QStringList{QStringLiteral("--new-window"), url.toString(QUrl::FullyEncoded)}));
        QVERIFY(!QFile::exists(QStringLiteral("pwned")));
    }

    void reportsMissingProgram()
    {
        qputenv("MCP_AUTH_BROWSER", "/nonexistent/browser");
        BrowserLauncher launcher;
        const auto r = launcher.open(QUrl(QStringLiteral("http://127.0.0.1:1/x")));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("browser_failed"));
    }
};

QTEST_GUILESS_MAIN(TestBrowserLauncher)
#include "TestBrowserLauncher.moc"
