// mcpauth-loadgen: the broker benchmark's client (bench/broker-bench.mjs runs it; never a test).
//
//   mcpauth-loadgen SOCKET RESOURCE CLIENTS SECONDS
//
// Runs the same client loop twice: against a trivial echo server on a Unix socket in this process
// (the physical floor: kernel, framing, one line each way, no work), then against SOCKET, the agent,
// sending `token/get` for RESOURCE. Each of CLIENTS threads keeps one connection and sends one
// request at a time for SECONDS. Prints one JSON line per target:
//   {"target":"echo"|"agent","clients":N,"calls":…,"errors":…,"seconds":…,"perSecond":…,
//    "p50Us":…,"p99Us":…}
// Plain POSIX sockets and threads, so the client adds as little as possible of its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

int connectTo(const std::string &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    return fd;
}

bool writeAll(int fd, const std::string &bytes)
{
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0)
            return false;
        done += size_t(n);
    }
    return true;
}

/// Reads up to and including the next '\n' (keeping what follows in `buffer`); the line without it.
bool readLine(int fd, std::string &buffer, std::string &line)
{
    for (;;) {
        const size_t nl = buffer.find('\n');
        if (nl != std::string::npos) {
            line.assign(buffer, 0, nl);
            buffer.erase(0, nl + 1);
            return true;
        }
        char chunk[8192];
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            return false;
        buffer.append(chunk, size_t(n));
    }
}

/// The floor: answers every line with a reply the size of a token/get answer.
class EchoServer
{
public:
    explicit EchoServer(std::string path) : m_path(std::move(path))
    {
        ::unlink(m_path.c_str());
        m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, m_path.c_str(), sizeof(addr.sun_path) - 1);
        if (::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
            ::listen(m_fd, 256) != 0) {
            std::perror("echo server");
            std::exit(1);
        }
        m_accept = std::thread([this] {
            for (;;) {
                const int c = ::accept(m_fd, nullptr, nullptr);
                if (c < 0)
                    return;
                m_clients.emplace_back([c] {
                    const std::string reply =
                        R"({"jsonrpc":"2.0","id":1,"result":{"accessToken":")" + std::string(900, 'x') +
                        R"(","tokenType":"Bearer","expiresAt":1700000000,"scope":"mcp:tools"}})"
                        "\n";
                    std::string buffer, line;
                    while (readLine(c, buffer, line) && writeAll(c, reply)) {
                    }
                    ::close(c);
                });
            }
        });
    }
    ~EchoServer()
    {
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_accept.join();
        for (std::thread &t : m_clients)
            t.join();
        ::unlink(m_path.c_str());
    }
    const std::string &path() const { return m_path; }

private:
    std::string m_path;
    int m_fd = -1;
    std::thread m_accept;
    std::vector<std::thread> m_clients;
};

struct Run
{
    long calls = 0;
    long errors = 0;
    double seconds = 0;
    std::vector<int> latenciesUs;
};

Run load(const std::string &socket, const std::string &request, int clients, double seconds)
{
    std::vector<std::thread> threads;
    std::vector<Run> runs(static_cast<size_t>(clients));
    std::atomic<bool> go{false};
    std::atomic<int> ready{0};
    Clock::time_point deadline; // set before `go`, read after it
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([&, i] {
            Run &r = runs[size_t(i)];
            const int fd = connectTo(socket);
            ++ready;
            while (!go)
                std::this_thread::yield();
            if (fd < 0) {
                ++r.errors;
                return;
            }
            std::string buffer, line;
            while (Clock::now() < deadline) {
                const auto t0 = Clock::now();
                if (!writeAll(fd, request) || !readLine(fd, buffer, line)) {
                    ++r.errors;
                    break;
                }
                const auto us =
                    std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
                if (line.find("\"error\"") != std::string::npos)
                    ++r.errors;
                ++r.calls;
                if (r.latenciesUs.size() < 2'000'000)
                    r.latenciesUs.push_back(int(us));
            }
            ::close(fd);
        });
    }
    while (ready < clients)
        std::this_thread::yield();
    const auto start = Clock::now();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    go = true;
    for (std::thread &t : threads)
        t.join();
    Run total;
    total.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (Run &r : runs) {
        total.calls += r.calls;
        total.errors += r.errors;
        total.latenciesUs.insert(total.latenciesUs.end(), r.latenciesUs.begin(), r.latenciesUs.end());
    }
    std::sort(total.latenciesUs.begin(), total.latenciesUs.end());
    return total;
}

void report(const char *target, int clients, const Run &r)
{
    const auto pct = [&](double p) {
        return r.latenciesUs.empty() ? 0
                                     : r.latenciesUs[std::min(r.latenciesUs.size() - 1,
                                                              size_t(p * double(r.latenciesUs.size())))];
    };
    std::printf("{\"target\":\"%s\",\"clients\":%d,\"calls\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
                "\"perSecond\":%.0f,\"p50Us\":%d,\"p99Us\":%d}\n",
                target, clients, r.calls, r.errors, r.seconds, double(r.calls) / r.seconds, pct(0.50),
                pct(0.99));
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: mcpauth-loadgen SOCKET RESOURCE CLIENTS SECONDS\n");
        return 64;
    }
    const std::string agent = argv[1];
    const std::string request =
        std::string(R"({"jsonrpc":"2.0","id":1,"method":"token/get","params":{"resource":")") + argv[2] +
        R"(","minValidSeconds":5}})"
        "\n";
    const int clients = std::max(1, std::atoi(argv[3]));
    const double seconds = std::max(0.1, std::atof(argv[4]));
    {
        EchoServer echo(agent + ".echo-floor");
        report("echo", clients, load(echo.path(), request, clients, seconds));
    }
    report("agent", clients, load(agent, request, clients, seconds));
    return 0;
}
