#include "server/http_server.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <future>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace server {
namespace {

using engine::Json;

constexpr char kBinary[] = "application/octet-stream";
constexpr char kSnappy[] = "application/x-snappy";
constexpr char kJson[] = "application/json";
constexpr char kLiveness[] = "Kinetica is running!";

// The body's family: how requests are decoded and answers encoded.
enum class Family { kBinary, kSnappy, kJson };

// The media type of a Content-Type or Accept value, lower case, without
// parameters ("application/json; charset=utf-8" → "application/json").
std::string MediaType(const std::string& header) {
  absl::string_view v = header;
  v = v.substr(0, v.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(v));
}

// The known endpoint the path ends with, at a '/' boundary (the rest is a
// path prefix); the longest one when several match. Null if none.
const engine::Endpoint* EndpointOf(absl::string_view path) {
  const engine::Endpoint* best = nullptr;
  for (const engine::Endpoint& e : engine::AllEndpoints()) {
    if (!absl::EndsWith(path, e.name)) continue;
    if (best == nullptr || e.name.size() > best->name.size()) best = &e;
  }
  return best;
}

// The wrapper in a response family.
void Send(const Wrapper& w, bool json, int status, httplib::Response* res) {
  static const AvroCodec* codec = new AvroCodec();
  res->status = status;
  if (json) {
    const Json body = Json{{"status", w.status},
                           {"message", w.message},
                           {"data_type", w.data_type},
                           {"data", engine::ToCodePoints(w.data)},
                           {"data_str", w.data_str}};
    res->set_content(engine::DumpJson(body), kJson);
    return;
  }
  const Json record = Json{{"status", w.status},
                           {"message", w.message},
                           {"data_type", w.data_type},
                           {"data", Json::binary(Json::binary_t::container_type(w.data.begin(), w.data.end()))},
                           {"data_str", w.data_str}};
  auto bytes = codec->Encode(*engine::FindRecord("gpudb_response"), record);
  if (!bytes.ok()) {  // Only a bug gets here; answer in JSON, which cannot fail.
    Send(ErrorWrapper(bytes.status()), /*json=*/true, 500, res);
    return;
  }
  res->set_content(*std::move(bytes), kBinary);
}

void SendError(const absl::Status& status, bool json, int http_status, httplib::Response* res) {
  Send(ErrorWrapper(status), json, http_status, res);
}

// httplib's task queue for connections: a task serves one connection from
// accept to close, idle stretches included. Keeps `min_threads` threads;
// starts another when a connection arrives and no thread is free, up to
// `max_threads`; past that connections wait for a thread in arrival order,
// and `crowded` is true while any does. A thread beyond `min_threads` ends
// after a minute without work.
class ConnectionThreads final : public httplib::TaskQueue {
 public:
  ConnectionThreads(size_t min_threads, size_t max_threads, std::atomic<bool>& crowded)
      : min_(std::max<size_t>(min_threads, 1)), max_(std::max(max_threads, min_)), crowded_(crowded) {
    absl::MutexLock lock(&mu_);
    while (threads_.size() < min_) StartLocked();
  }
  ~ConnectionThreads() override { shutdown(); }

  void enqueue(std::function<void()> task) override {
    std::vector<std::thread> ended;
    {
      absl::MutexLock lock(&mu_);
      waiting_.push_back(std::move(task));
      if (waiting_.size() > idle_ + starting_ && threads_.size() < max_) StartLocked();
      UpdateLocked();
      ended.swap(ended_);
    }
    for (std::thread& t : ended) t.join();
  }

  // Serves the connections still waiting, then ends every thread.
  void shutdown() override {
    std::vector<std::thread> ended;
    {
      absl::MutexLock lock(&mu_);
      ending_ = true;
      mu_.Await(absl::Condition(
          +[](std::unordered_map<std::thread::id, std::thread>* threads) { return threads->empty(); }, &threads_));
      ended.swap(ended_);
    }
    for (std::thread& t : ended) t.join();
  }

 private:
  static constexpr absl::Duration kIdleEnd = absl::Minutes(1);

  void StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    try {
      std::thread t([this] { Work(); });
      ++starting_;
      threads_.emplace(t.get_id(), std::move(t));
    } catch (const std::system_error&) {
      // No thread to be had now: the connection waits for a running one.
    }
  }

  void UpdateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    crowded_.store(waiting_.size() > idle_ + starting_, std::memory_order_relaxed);
  }

  bool HasWork() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !waiting_.empty() || ending_; }

  void Work() {
    mu_.Lock();
    --starting_;
    while (true) {
      ++idle_;
      UpdateLocked();
      const bool woken = mu_.AwaitWithTimeout(absl::Condition(this, &ConnectionThreads::HasWork), kIdleEnd);
      --idle_;
      if (!waiting_.empty()) {
        std::function<void()> task = std::move(waiting_.front());
        waiting_.pop_front();
        UpdateLocked();
        mu_.Unlock();
        task();
        task = nullptr;
        mu_.Lock();
      } else if (ending_ || (!woken && threads_.size() > min_)) {
        break;
      }
    }
    // Joined by the next enqueue or by shutdown.
    auto self = threads_.find(std::this_thread::get_id());
    ended_.push_back(std::move(self->second));
    threads_.erase(self);
    mu_.Unlock();
  }

  const size_t min_, max_;
  std::atomic<bool>& crowded_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::thread::id, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> ended_ ABSL_GUARDED_BY(mu_);  // returned from Work, to join
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;      // waiting for a task
  size_t starting_ ABSL_GUARDED_BY(mu_) = 0;  // started, not yet waiting
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

// The numeric address and port of one end of a socket (`name`: getpeername
// or getsockname); unchanged when it cannot be had.
void SocketAddress(socket_t sock, int (*name)(int, sockaddr*, socklen_t*), std::string* ip, int* port) {
  sockaddr_storage address;
  socklen_t length = sizeof(address);
  char host[NI_MAXHOST], service[NI_MAXSERV];
  if (name(sock, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof(host), service, sizeof(service),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  *ip = host;
  *port = std::atoi(service);
}

// One connection's socket as httplib's Stream, for all of its requests.
// Reads are buffered (httplib reads request lines a byte at a time). Writes
// are gathered and sent when the answer is complete (Flush), or before the
// stream waits for input (an interim `100 Continue` must reach the client
// first), so that an answer leaves in one send: one TCP segment when it fits
// in one, and no small last piece for Nagle's algorithm to hold back.
class ConnectionStream final : public httplib::Stream {
 public:
  // `stop`: a file descriptor that becomes readable when reads are to stop
  // (the server closing).
  // `ssl`: the connection's TLS session, or null for plain TCP.
  ConnectionStream(socket_t sock, SSL* ssl, int stop, int read_timeout_ms, int write_timeout_ms)
      : sock_(sock),
        ssl_(ssl),
        stop_(stop),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms),
        in_(kInput) {
    SocketAddress(sock, ::getpeername, &remote_ip_, &remote_port_);
    SocketAddress(sock, ::getsockname, &local_ip_, &local_port_);
  }

  bool is_readable() const override { return has_input() || Ready(POLLIN, ReadTimeoutMs()); }

  // Reads fail once `deadline` has passed (each wait ends there at the
  // latest), until the next call.
  void SetReadDeadline(absl::Time deadline) { read_deadline_ = deadline; }
  // The read deadline has passed: a request still being read then failed,
  // and the connection is to close.
  bool past_deadline() const { return absl::Now() >= read_deadline_; }
  bool is_writable() const override { return Ready(POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_input()) {
      if (!Flush() || !Ready(POLLIN, ReadTimeoutMs())) return -1;
      ssize_t n;
      do {
        n = Receive(in_.data(), in_.size());
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      in_begin_ = 0;
      in_end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, in_end_ - in_begin_);
    std::memcpy(ptr, in_.data() + in_begin_, n);
    in_begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (out_.size() + size <= kGather) {
      out_.append(ptr, size);
    } else {  // a large body: what is gathered and the body in one call, without a copy
      if (!Send(out_, absl::string_view(ptr, size))) return -1;
      out_.clear();
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return sock_; }

  // Reads exactly `size` bytes into `out`: what is buffered, then straight
  // from the socket (the read timeout bounds each wait). False when the
  // connection fails or times out first.
  bool ReadFully(char* out, size_t size) {
    const size_t buffered = std::min(size, in_end_ - in_begin_);
    if (buffered > 0) std::memcpy(out, in_.data() + in_begin_, buffered);  // `out` is null for an empty body
    in_begin_ += buffered;
    for (size_t done = buffered; done < size;) {
      if (!Flush() || !Ready(POLLIN, ReadTimeoutMs())) return false;
      ssize_t n;
      do {
        n = Receive(out + done, size - done);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Sends what was written; false when the connection failed.
  bool Flush() {
    if (out_.empty()) return true;
    const bool sent = Send(out_, {});
    out_.clear();
    return sent;
  }
  // Bytes of a next request have been read already (into this stream or
  // the TLS session).
  bool has_input() const { return in_begin_ < in_end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0); }

  // The client has closed the connection (or it failed). Does not wait.
  bool PeerClosed() const {
    pollfd fd{sock_, POLLIN | POLLRDHUP, 0};
    if (::poll(&fd, 1, 0) <= 0) return false;
    if ((fd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
    char byte;
    return ::recv(sock_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

 private:
  static constexpr size_t kInput = size_t{64} << 10;
  static constexpr size_t kGather = size_t{256} << 10;

  // The read timeout, or what is left until the read deadline if less
  // (0 once past it).
  int ReadTimeoutMs() const {
    // Rounded up: 0 only once the deadline has passed (past_deadline()).
    const int64_t left = absl::ToInt64Milliseconds(absl::Ceil(read_deadline_ - absl::Now(), absl::Milliseconds(1)));
    return static_cast<int>(std::clamp<int64_t>(left, 0, read_timeout_ms_));
  }

  // The socket is ready for `events` within `timeout_ms`. A read also
  // stops when the server closes.
  bool Ready(short events, int timeout_ms) const {
    if (timeout_ms == 0 && events == POLLIN) return false;  // past the deadline
    if (events == POLLIN && ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
    pollfd fds[2] = {{sock_, events, 0}, {stop_, POLLIN, 0}};
    const nfds_t count = events == POLLIN && stop_ >= 0 ? 2 : 1;
    int n;
    do {
      n = ::poll(fds, count, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0 && fds[0].revents != 0 && (count == 1 || fds[1].revents == 0);
  }

  // Up to `size` bytes from the connection (through TLS, if any): the
  // count, 0 at its end, < 0 on an error or the socket's receive timeout.
  ssize_t Receive(char* out, size_t size) {
    if (ssl_ == nullptr) return ::recv(sock_, out, size, 0);
    const int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    errno = error == SSL_ERROR_SYSCALL && errno != 0 ? errno : EIO;
    return -1;
  }

  // Sends all of `a` then `b` (the socket's send timeout bounds each wait).
  bool Send(absl::string_view a, absl::string_view b) {
    if (ssl_ != nullptr) {
      for (absl::string_view part : {a, b}) {
        while (!part.empty()) {
          const int n = SSL_write(ssl_, part.data(), static_cast<int>(std::min<size_t>(part.size(), INT32_MAX)));
          if (n <= 0) {
            ERR_clear_error();
            return false;
          }
          part.remove_prefix(static_cast<size_t>(n));
        }
      }
      return true;
    }
    iovec parts[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    iovec* next = parts;
    int count = 2;
    while (count > 0) {
      if (next->iov_len == 0) {
        ++next;
        --count;
        continue;
      }
      msghdr message{};
      message.msg_iov = next;
      message.msg_iovlen = count;
      const ssize_t n = ::sendmsg(sock_, &message, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      for (size_t sent = static_cast<size_t>(n); sent > 0;) {
        const size_t step = std::min(sent, next->iov_len);
        next->iov_base = static_cast<char*>(next->iov_base) + step;
        next->iov_len -= step;
        sent -= step;
        if (next->iov_len == 0 && sent > 0) {
          ++next;
          --count;
        }
      }
    }
    return true;
  }

  const socket_t sock_;
  SSL* const ssl_;
  const int stop_;
  const int read_timeout_ms_, write_timeout_ms_;
  absl::Time read_deadline_ = absl::InfiniteFuture();
  std::string remote_ip_, local_ip_;
  int remote_port_ = -1, local_port_ = -1;
  std::vector<char> in_;
  size_t in_begin_ = 0, in_end_ = 0;
  std::string out_;
};

int Milliseconds(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

// The connection this thread is serving (set by HttpListener's loop around
// httplib's process_request, which runs the handlers on the same thread).
thread_local ConnectionStream* serving = nullptr;

// How long a request's body may take to arrive: HttpOptions::request_timeout_s
// plus a second per MiB of `bytes`.
absl::Duration BodyTime(const HttpOptions& options, uint64_t bytes) {
  return absl::Seconds(options.request_timeout_s) + absl::Seconds(static_cast<double>(bytes) / (1 << 20));
}

// Reads the request's body into `body`. With a Content-Length within
// `max_bytes` and no transfer or content coding, straight from the
// connection into a buffer of that size; otherwise through httplib's reader
// (4 KiB at a time), which sets res->status for what it refuses (413 past
// the limit, 415 for a compressed body, 400 when the body is cut short). A
// form-encoded body over httplib's limit is refused with 413, as httplib's
// own reader does. False when the body could not be read (res->status says
// why, and the error handler answers).
bool ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, const HttpOptions& options,
              std::vector<uint8_t>* body, httplib::Response* res) {
  const size_t max_bytes = options.max_body_bytes;
  uint64_t length = 0;
  const bool direct = serving != nullptr && !req.has_header("Transfer-Encoding") &&
                      !req.has_header("Content-Encoding") && !req.is_multipart_form_data() &&
                      absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) && length <= max_bytes;
  // The body's time: for its length, or for the largest body when the
  // length is not known.
  if (serving != nullptr) serving->SetReadDeadline(absl::Now() + BodyTime(options, direct ? length : max_bytes));
  if (direct) {
    *body = std::vector<uint8_t>(length);
    if (!serving->ReadFully(reinterpret_cast<char*>(body->data()), length)) {
      res->status = 400;
      return false;
    }
  } else if (!reader([body](const char* data, size_t n) {
               body->insert(body->end(), data, data + n);
               return true;
             })) {
    return false;
  }
  if (absl::StartsWith(req.get_header_value("Content-Type"), "application/x-www-form-urlencoded") &&
      body->size() > CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH) {
    res->status = 413;
    return false;
  }
  // Read in time: the request may run as long as it takes.
  if (serving != nullptr) serving->SetReadDeadline(absl::InfiniteFuture());
  return true;
}

}  // namespace

// httplib's server with the connection loop replaced
// (process_and_close_socket, which httplib calls for each accepted socket on
// a thread of its task queue): no request limit per connection, TCP_NODELAY,
// one write per answer (ConnectionStream), the idle timeout, and room made
// for waiting connections (see HttpOptions).
class HttpListener final : public httplib::Server {
 public:
  // `tls`: wraps each connection in TLS; null: plain TCP.
  HttpListener(const HttpOptions& options, std::unique_ptr<TlsContext> tls)
      : tls_(std::move(tls)),
        idle_timeout_(absl::Seconds(std::max(options.idle_timeout_s, 1))),
        request_timeout_(absl::Seconds(std::max(options.request_timeout_s, 1))),
        wake_(::eventfd(0, EFD_CLOEXEC)) {
    const size_t threads = static_cast<size_t>(std::max(options.threads, 1));
    const size_t max = static_cast<size_t>(std::max(options.max_connections, options.threads));
    new_task_queue = [this, threads, max] { return new ConnectionThreads(threads, max, crowded_); };
  }
  ~HttpListener() override {
    if (wake_ >= 0) ::close(wake_);
  }

  // From now on a connection closes as soon as it is idle (those idle now at
  // once), or after the answer it is writing: the first step of a stop.
  void CloseConnections() {
    closing_.store(true);
    const uint64_t one = 1;
    if (wake_ >= 0) (void)!::write(wake_, &one, sizeof(one));
  }
  // CloseConnections was called: a request being read then is cut short.
  bool closing() const { return closing_.load(); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    const int on = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    // With TLS, the handshake first (a client too slow at it is cut off by
    // the receive timeout: the request's time).
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      const timeval limit{static_cast<time_t>(absl::ToInt64Seconds(request_timeout_)), 0};
      ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
      ssl = tls_->Accept(sock);
      if (ssl == nullptr) {
        ::close(sock);
        return true;
      }
    }
    {
      ConnectionStream stream(sock, ssl, wake_, Milliseconds(read_timeout_sec_, read_timeout_usec_),
                              Milliseconds(write_timeout_sec_, write_timeout_usec_));
      serving = &stream;
      while (NextRequest(sock, stream)) {
        // The request line and headers must arrive in time (ReadBody sets
        // the body's deadline).
        stream.SetReadDeadline(absl::Now() + request_timeout_);
        // The last answer of this connection (`Connection: close`) when the
        // server stops or other connections wait for a thread.
        const bool last = closing_.load() || crowded_.load();
        bool client_closes = false;
        const bool served = process_request(stream, last, client_closes, IdentityOnly);
        // A client too slow to send its request (answered 400) is cut off.
        if (!stream.Flush() || !served || last || client_closes || stream.past_deadline()) break;
      }
      serving = nullptr;
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);  // close_notify, without waiting for the client's
      SSL_free(ssl);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  // Waits for the connection's next request: true when bytes of one (or the
  // client's close, which process_request then meets) are there; false when
  // the connection is to close instead: idle for the timeout, the server
  // stopping, or other connections waiting for a thread.
  bool NextRequest(socket_t sock, const ConnectionStream& stream) const {
    if (stream.has_input()) return !closing_.load();
    const absl::Time deadline = absl::Now() + idle_timeout_;
    while (!closing_.load()) {
      // Slices of at most a second, to notice crowding; none when crowded.
      const bool crowded = crowded_.load();
      const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
      pollfd fds[2] = {{sock, POLLIN, 0}, {wake_, POLLIN, 0}};
      const int n = ::poll(fds, 2, crowded ? 0 : static_cast<int>(std::clamp<int64_t>(left_ms, 0, 1000)));
      if (n < 0 && errno != EINTR) return false;
      if (n > 0 && fds[1].revents != 0) return false;
      if (n > 0 && fds[0].revents != 0) return true;
      if (crowded || left_ms <= 0) return false;
    }
    return false;
  }

  // Answers are never compressed: httplib would gzip a JSON answer for a
  // client that accepts gzip (Python's requests does, by default), which
  // more than doubles the server's time on a large one; without the
  // request's Accept-Encoding (dropped before routing) it sends them as is.
  static void IdentityOnly(httplib::Request& req) { req.headers.erase("Accept-Encoding"); }

  const std::unique_ptr<TlsContext> tls_;
  const absl::Duration idle_timeout_;
  const absl::Duration request_timeout_;
  const int wake_;  // an eventfd, readable once CloseConnections was called
  std::atomic<bool> closing_{false};
  std::atomic<bool> crowded_{false};  // connections wait for a thread
};

HttpServer::HttpServer(engine::Engine& engine, const HttpOptions& options, std::unique_ptr<TlsContext> tls)
    : engine_(engine),
      options_(options),
      codec_(RequestDecoder::MaxDecodedBytes(options.max_body_bytes)),
      api_(engine, codec_, options.max_body_bytes),
      auth_(options.users),
      http_(std::make_unique<HttpListener>(options, std::move(tls))) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, engine::Engine& engine) {
  std::unique_ptr<TlsContext> tls;
  if (options.tls.enabled()) {
    auto context = TlsContext::Create(options.tls);
    if (!context.ok()) return context.status();
    tls = *std::move(context);
  }
  std::unique_ptr<HttpServer> server(new HttpServer(engine, options, std::move(tls)));
  // httplib's default sets SO_REUSEPORT, which lets a second server bind a
  // port in use and share its connections; refuse a taken port instead
  // (SO_REUSEADDR only, so a restart can bind at once). The last socket
  // configured is the one that got bound.
  auto listening = std::make_shared<socket_t>(INVALID_SOCKET);
  server->http_->set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  server->http_->set_payload_max_length(options.max_body_bytes);
  server->http_->set_read_timeout(30, 0);
  server->http_->set_write_timeout(30, 0);
  server->Route();
  if (options.port == 0) {
    server->port_ = server->http_->bind_to_any_port(options.host);
  } else if (server->http_->bind_to_port(options.host, options.port)) {
    server->port_ = options.port;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, " for HTTP (address in use?)"));
  }
  // httplib listens with a backlog of 5 (fixed in Debian's compiled library):
  // a burst of connections beyond it has its SYNs dropped, and those clients
  // wait a second or more for the retransmission. Listening again on the
  // bound socket raises the backlog (Linux caps it at net.core.somaxconn);
  // should it fail, the small backlog only costs latency.
  if (*listening != INVALID_SOCKET) ::listen(*listening, SOMAXCONN);
  httplib::Server* http = server->http_.get();
  server->listener_ = std::thread([http] { http->listen_after_bind(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (!listener_.joinable()) return;
  http_->CloseConnections();
  http_->stop();
  listener_.join();
}

absl::StatusOr<Wrapper> HttpServer::Call(const engine::Endpoint& endpoint, const std::string& encoding,
                                         Json request, const Caller& caller) {
  // The job API answers on this thread or a worker; wait for it here,
  // looking out for the client's leaving: its job is then abandoned (it
  // would take a stream for nobody).
  auto answered = std::make_shared<std::promise<absl::StatusOr<Wrapper>>>();
  std::future<absl::StatusOr<Wrapper>> answer = answered->get_future();
  const int64_t job = api_.Execute(endpoint, encoding, std::move(request), caller,
                                   [answered](absl::StatusOr<Wrapper> w) { answered->set_value(std::move(w)); });
  bool abandoned = false;
  while (answer.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (!abandoned && job != 0 && serving != nullptr && serving->PeerClosed()) {
      api_.Abandon(job);
      abandoned = true;
    }
  }
  return answer.get();
}

absl::StatusOr<Wrapper> HttpServer::SystemProperties(const engine::Endpoint& endpoint, Json request,
                                                     const std::string& encoding, const httplib::Request& req,
                                                     const Caller& caller) {
  absl::StatusOr<Wrapper> plain = Call(endpoint, "json", std::move(request), caller);
  if (!plain.ok() || plain->status != "OK") return plain;
  Json response = Json::parse(plain->data_str);
  // The host the client reached us by, without the port ("[::1]:9191" → "[::1]").
  std::string host = req.get_header_value("Host");
  if (host.empty()) host = options_.host;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) host.resize(colon);
  Json& properties = response["property_map"];
  properties["conf.number_of_hosts"] = "1";
  properties["conf.host0_public_urls"] = absl::StrCat(options_.tls.enabled() ? "https://" : "http://", host);
  properties["conf.enable_ha"] = "FALSE";
  properties["conf.use_https"] = options_.tls.enabled() ? "TRUE" : "FALSE";
  properties["conf.http_port"] = absl::StrCat(port_);
  return api_.Wrap(*endpoint.response, response, encoding);
}

void HttpServer::Route() {
  // x-request-time-secs: the seconds the server spent on the request, which
  // Kinetica's clients read into each response's status_info.response_time.
  // A request is served on one worker thread from routing to its answer.
  static thread_local absl::Time started;
  http_->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    started = absl::Now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Connection headers: httplib has set `Connection: close` when this answer
  // is the connection's last, else `Keep-Alive: timeout=…, max=…` with its
  // own per-connection limit, which HttpListener does not have: announce the
  // idle timeout only (Apache HttpClient, Kinetica's Java client, keeps a
  // connection no longer than it). An HTTP/1.0 connection stays open only
  // when asked with `Connection: Keep-Alive` (httplib's rule, verbatim).
  const std::string keep_alive = absl::StrCat("timeout=", std::max(options_.idle_timeout_s, 1));
  http_->set_post_routing_handler([keep_alive](const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-request-time-secs", absl::StrFormat("%.6f", absl::ToDoubleSeconds(absl::Now() - started)));
    res.headers.erase("Keep-Alive");
    if (res.get_header_value("Connection") == "close") return;
    if (req.version == "HTTP/1.0") {
      if (req.get_header_value("Connection") != "Keep-Alive") return res.set_header("Connection", "close");
      res.set_header("Connection", "keep-alive");
    }
    res.set_header("Keep-Alive", keep_alive);
  });
  http_->Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kLiveness, "text/plain"); });

  http_->Post(".*", [this](const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& content) {
    std::vector<uint8_t> body;
    if (!ReadBody(req, content, options_, &body, &res)) return;
    // The answer's family: the request's, else what the client accepts.
    const std::string type = MediaType(req.get_header_value("Content-Type"));
    Family family = Family::kJson;
    bool known_type = true;
    if (type == kBinary) {
      family = Family::kBinary;
    } else if (type == kSnappy) {
      family = Family::kSnappy;
    } else if (type != kJson) {
      known_type = false;
      const std::string accept = MediaType(req.get_header_value("Accept"));
      if (accept == kBinary || accept == kSnappy) family = Family::kBinary;
    }
    const bool json = family == Family::kJson;

    // Credentials first: nothing about the server is told without them. The
    // user is recorded with the jobs the request submits (auth_id).
    absl::StatusOr<std::string> user = auth_.UserOf(req.get_header_value("Authorization"));
    if (!user.ok()) {
      res.set_header("WWW-Authenticate", "Basic realm=\"gpudb\"");
      return SendError(user.status(), json, 401, &res);
    }
    const Caller caller{req.remote_addr, *std::move(user)};
    if (absl::Status s = api_.CheckRequestSize(caller, body.size()); !s.ok()) return SendError(s, json, 413, &res);

    const engine::Endpoint* endpoint = EndpointOf(req.path);
    if (endpoint == nullptr) {
      return SendError(absl::NotFoundError(absl::StrCat("endpoint: '", req.path, "' is not a known endpoint")),
                       json, 404, &res);
    }
    if (!known_type) {
      return SendError(absl::InvalidArgumentError(absl::StrCat(
                           "Content-Type: '", req.get_header_value("Content-Type"), "' is not ", kBinary,
                           " (Avro), ", kSnappy, " (snappy-compressed Avro) or ", kJson)),
                       json, 400, &res);
    }
    if (body.empty()) {
      return SendError(absl::InvalidArgumentError(absl::StrCat("request body: is empty; POST the ",
                                                               endpoint->request->name, " record")),
                       json, 400, &res);
    }
    const std::string encoding = family == Family::kBinary ? "binary" : family == Family::kSnappy ? "snappy" : "json";
    auto request = api_.decoder().DecodeBody(*endpoint->request, encoding, std::move(body));
    if (!request.ok()) {
      // Decode names its carrier (data, data_str); here it is the body.
      absl::string_view message = request.status().message();
      if (!absl::ConsumePrefix(&message, "data: ")) absl::ConsumePrefix(&message, "data_str: ");
      return SendError(absl::InvalidArgumentError(absl::StrCat("request body (", endpoint->request->name, "): ", message)),
                       json, 400, &res);
    }

    absl::StatusOr<Wrapper> wrapper;
    try {
      if (endpoint->name == "/show/system/properties") {
        wrapper = SystemProperties(*endpoint, *std::move(request), encoding, req, caller);
      } else {
        wrapper = Call(*endpoint, encoding, *std::move(request), caller);
      }
    } catch (const std::exception& e) {
      return SendError(absl::InternalError(absl::StrCat("internal error: ", e.what())), json, 500, &res);
    }
    if (!wrapper.ok()) {
      // Busy (429) and shutting down (503) are the transport's errors
      // (IsTransportError); anything else that escapes as a status is a bug.
      const absl::StatusCode code = wrapper.status().code();
      const int status = code == absl::StatusCode::kResourceExhausted ? 429
                         : code == absl::StatusCode::kUnavailable     ? 503
                                                                      : 500;
      return SendError(wrapper.status(), json, status, &res);
    }
    Send(*wrapper, json, wrapper->status == "OK" ? 200 : 400, &res);
  });

  // Paths or methods nothing serves: 404 with the wrapper, like an unknown
  // endpoint; the answer's family follows the Accept header.
  http_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // an answer of the routes above
    const std::string accept = MediaType(req.get_header_value("Accept"));
    const bool json = !(accept == kBinary || accept == kSnappy);
    const int status = res.status;
    absl::Status error;
    if (status == 413) {
      error = absl::InvalidArgumentError(
          absl::StrCat("request body: larger than the limit of ", options_.max_body_bytes, " bytes"));
    } else if (status == 404 || status == 405) {
      error = absl::NotFoundError(absl::StrCat(req.method, " ", req.path, ": not served (POST /<endpoint>, GET /)"));
    } else if (http_->closing()) {  // cut short by the server stopping
      error = absl::UnavailableError("the server is shutting down and accepts no new requests");
      res.status = 503;
    } else {
      error = absl::InvalidArgumentError(absl::StrCat("HTTP ", status, ": the request could not be read"));
    }
    SendError(error, json, res.status, &res);
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(absl::InternalError(absl::StrCat("internal error: ", what)), /*json=*/true, 500, &res);
  });
}

}  // namespace server
