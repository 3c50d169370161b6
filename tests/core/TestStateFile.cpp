#include "storage/StateFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;

namespace {
constexpr QFile::Permissions kGroupOther = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                           QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;
}

class TestStateFile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void missingFileIsEmptyObject()
    {
        QTemporaryDir dir;
        StateFile file(dir.filePath(QStringLiteral("nope/state.json")));
        const auto r = file.load();
        QVERIFY(r.ok());
        QVERIFY(r->is_object());
        QVERIFY(r->empty());
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("nope")))); // load creates nothing
    }

    void roundTrip()
    {
        QTemporaryDir dir;
        StateFile file(dir.filePath(QStringLiteral("state.json")));
        const Json state = {{"servers", Json::array({{{"resource", "https://mcp.example.com/"}, {"n", 3}}})},
                            {"unicode", "é ✓"}};
        QVERIFY(file.save(state).ok());
        const auto loaded = file.load();
        QVERIFY(loaded.ok());
        QCOMPARE(toBytes(*loaded), toBytes(state));

        const Json replaced = {{"servers", Json::array()}};
        QVERIFY(file.save(replaced).ok());
        QCOMPARE(toBytes(file.load().value()), toBytes(replaced));
    }

    void saveIsAtomicAndPrivate()
    {
        QTemporaryDir dir;
        const QString stateDir = dir.filePath(QStringLiteral("a/mcp-auth-agent"));
        const QString path = stateDir + QStringLiteral("/state.json");
        StateFile file(path);
        QVERIFY(file.save(Json{{"k", std::string(100000, 'x')}}).ok());
        QVERIFY(file.save(Json{{"k", "small"}}).ok());

        // Only the state file itself remains: no temporary or partial files next to it.
        QCOMPARE(QDir(stateDir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{QStringLiteral("state.json")});
        QCOMPARE(QFileInfo(path).permissions() & kGroupOther, QFile::Permissions());
        QVERIFY(QFileInfo(path).permissions() & QFile::ReadOwner);
        QCOMPARE(QFileInfo(stateDir).permissions() & kGroupOther, QFile::Permissions());
        QCOMPARE(file.load()->at("k").get<std::string>(), std::string("small"));
    }

    void saveNarrowsAnExistingWideFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("state.json"));
        QFile wide(path);
        QVERIFY(wide.open(QIODevice::WriteOnly));
        wide.write("{}");
        wide.close();
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther));
        QVERIFY(StateFile(path).save(Json{{"a", 1}}).ok());
        QCOMPARE(QFileInfo(path).permissions() & kGroupOther, QFile::Permissions());
    }

    void failedSaveKeepsOldState()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("state.json"));
        StateFile file(path);
        QVERIFY(file.save(Json{{"v", 1}}).ok());
        QVERIFY(!file.save(Json::array()).ok()); // not an object: refused, nothing written
        QVERIFY(QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner));
        const bool canStillWrite = QFileInfo(dir.path()).isWritable(); // root ignores modes
        const auto saved = file.save(Json{{"v", 2}});
        QVERIFY(QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        if (!canStillWrite) {
            QVERIFY(!saved.ok());
            QCOMPARE(saved.error().code, QStringLiteral("state_unwritable"));
            QCOMPARE(file.load()->at("v").get<int>(), 1);
        }
    }

    void corruptFileIsKeptAside_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("truncated") << QByteArray("{\"servers\": [");
        QTest::newRow("garbage") << QByteArray("\x00\x01garbage", 9);
        QTest::newRow("not an object") << QByteArray("[1, 2]");
        QTest::newRow("empty") << QByteArray();
    }
    void corruptFileIsKeptAside()
    {
        QFETCH(QByteArray, content);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("state.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();

        StateFile file(path);
        const auto r = file.load();
        QVERIFY(!r.ok());
        QCOMPARE(r.error().category, Error::Category::Config);
        QCOMPARE(r.error().code, QStringLiteral("state_corrupt"));

        QVERIFY(!QFileInfo::exists(path));
        const QStringList kept =
            QDir(dir.path()).entryList({QStringLiteral("state.json.corrupt-*")}, QDir::Files);
        QCOMPARE(kept.size(), 1);
        QVERIFY2(r.error().message.contains(kept.first()), qPrintable(r.error().message));
        QFile keptFile(dir.filePath(kept.first()));
        QVERIFY(keptFile.open(QIODevice::ReadOnly));
        QCOMPARE(keptFile.readAll(), content); // nothing lost

        // The agent can carry on: the next load is empty and a save works.
        QVERIFY(file.load().ok());
        QVERIFY(file.save(Json{{"fresh", true}}).ok());
        QCOMPARE(file.load()->at("fresh").get<bool>(), true);
    }

    void twoCorruptionsKeepBoth()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("state.json"));
        for (int i = 0; i < 2; ++i) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("{broken");
            f.close();
            QVERIFY(!StateFile(path).load().ok());
        }
        QCOMPARE(QDir(dir.path()).entryList({QStringLiteral("state.json.corrupt-*")}, QDir::Files).size(), 2);
    }

    void defaultPathFollowsXdgDataHome()
    {
        const QByteArray old = qgetenv("XDG_DATA_HOME");
        qputenv("XDG_DATA_HOME", "/tmp/mcpauth-xdg-data");
        const QString path = StateFile::defaultPath();
        qputenv("XDG_DATA_HOME", old);
        QCOMPARE(path, QStringLiteral("/tmp/mcpauth-xdg-data/mcp-auth-agent/state.json"));
    }
};

QTEST_GUILESS_MAIN(TestStateFile)
#include "TestStateFile.moc"
