#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <exception>
#include <fstream>
#include <future>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/strings/strip.h"

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

// Compares equal-length secrets without stopping at the first difference.
bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
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

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ReadAuthFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--auth-file: cannot read '", path, "'"));
  std::map<std::string, std::string> users;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth-file: ", path, " line ", n, ": expected user:password"));
    }
    const std::string user = line.substr(0, colon);
    if (users.count(user) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth-file: ", path, " line ", n, ": user '", user, "' appears twice"));
    }
    users[user] = line.substr(colon + 1);
  }
  if (users.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--auth-file: ", path, " has no user:password line"));
  }
  return users;
}

HttpServer::HttpServer(engine::Engine& engine, const HttpOptions& options)
    : engine_(engine), options_(options), api_(engine, codec_), http_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, engine::Engine& engine) {
  std::unique_ptr<HttpServer> server(new HttpServer(engine, options));
  const int threads = options.threads > 0 ? options.threads : 1;
  server->http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
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
  http_->stop();
  listener_.join();
}

absl::StatusOr<Wrapper> HttpServer::Call(const engine::Endpoint& endpoint, const std::string& encoding,
                                         Json request, const Caller& caller) {
  // The job API answers on this thread or a worker; wait for it here.
  auto answered = std::make_shared<std::promise<absl::StatusOr<Wrapper>>>();
  std::future<absl::StatusOr<Wrapper>> answer = answered->get_future();
  api_.Execute(endpoint, encoding, std::move(request), caller,
                     [answered](absl::StatusOr<Wrapper> w) { answered->set_value(std::move(w)); });
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
  properties["conf.host0_public_urls"] = absl::StrCat("http://", host);
  properties["conf.enable_ha"] = "FALSE";
  properties["conf.use_https"] = "FALSE";
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
  http_->set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-request-time-secs", absl::StrFormat("%.6f", absl::ToDoubleSeconds(absl::Now() - started)));
  });
  http_->Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kLiveness, "text/plain"); });

  http_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
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
    Caller caller{req.remote_addr, ""};
    if (!options_.users.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      absl::string_view scheme_and_value = auth;
      std::string message;
      if (auth.empty()) {
        message = "Authorization: credentials are required (Basic)";
      } else if (absl::ConsumePrefix(&scheme_and_value, "Basic ")) {
        std::string decoded;
        const size_t colon = [&] {
          if (!absl::Base64Unescape(absl::StripAsciiWhitespace(scheme_and_value), &decoded)) return std::string::npos;
          return decoded.find(':');
        }();
        auto user = colon == std::string::npos ? options_.users.end() : options_.users.find(decoded.substr(0, colon));
        if (user == options_.users.end() || !SameSecret(decoded.substr(colon + 1), user->second)) {
          message = "Authorization: wrong user name or password";
        } else {
          caller.auth_id = user->first;
        }
      } else if (absl::StartsWith(auth, "Bearer ")) {
        message = "Authorization: Bearer tokens are not accepted by this server; use Basic";
      } else {
        message = "Authorization: unknown scheme; use Basic";
      }
      if (!message.empty()) {
        res.set_header("WWW-Authenticate", "Basic realm=\"gpudb\"");
        return SendError(absl::UnauthenticatedError(message), json, 401, &res);
      }
    }

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
    if (req.body.empty()) {
      return SendError(absl::InvalidArgumentError(absl::StrCat("request body: is empty; POST the ",
                                                               endpoint->request->name, " record")),
                       json, 400, &res);
    }
    const std::string encoding = family == Family::kBinary ? "binary" : family == Family::kSnappy ? "snappy" : "json";
    auto request = json ? api_.DecodeRequest(*endpoint->request, encoding, "", req.body)
                        : api_.DecodeRequest(*endpoint->request, encoding, req.body, "");
    if (!request.ok()) {
      // DecodeRequest names its carrier (data, data_str); here it is the body.
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
    } else {
      error = absl::InvalidArgumentError(absl::StrCat("HTTP ", status, ": the request could not be read"));
    }
    SendError(error, json, status, &res);
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
