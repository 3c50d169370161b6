#include "net/OneShotPost.h"

#include <QIODevice>
#include <QNetworkAccessManager>
#include <QNetworkReply>

#include <algorithm>
#include <cstring>

namespace mcpauth {

namespace {

// A request body that can be read once and never rewound, so Qt cannot send it a second time.
class OneShotBody : public QIODevice
{
public:
    OneShotBody(QByteArray data, QObject *parent) : QIODevice(parent), m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    bool reset() override { return false; }
    qint64 bytesAvailable() const override { return m_data.size() - m_read + QIODevice::bytesAvailable(); }
    bool atEnd() const override { return m_read >= m_data.size() && QIODevice::bytesAvailable() == 0; }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        if (m_read >= m_data.size())
            return -1;
        const qint64 n = std::min(max, qint64(m_data.size()) - m_read);
        std::memcpy(out, m_data.constData() + m_read, size_t(n));
        m_read += n;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qint64 m_read = 0;
};

} // namespace

QNetworkReply *OneShotPost::post(QNetworkAccessManager *nam, QNetworkRequest request, const QByteArray &body)
{
    // With a Content-Length Qt streams a sequential device instead of buffering it (and a buffer
    // could be rewound).
    request.setHeader(QNetworkRequest::ContentLengthHeader, body.size());
    request.setAttribute(QNetworkRequest::DoNotBufferUploadDataAttribute, true);
    auto *device = new OneShotBody(body, nullptr);
    QNetworkReply *reply = nam->post(request, device);
    device->setParent(reply);
    return reply;
}

} // namespace mcpauth
