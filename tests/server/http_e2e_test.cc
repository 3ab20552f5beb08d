// End-to-end tests of Kinetica's HTTP transport (server/http_server.h): a real
// server::Server with HTTP on an ephemeral port of 127.0.0.1, reached with
// httplib::Client and raw bodies. Avro bodies are written here by hand where
// the bytes matter, or with the server's AvroCodec where only the content
// does; answers are read as the wrapper of their family. Covers the three
// content types, path prefixes, every endpoint being reachable, Avro records
// in /insert/records and /get/records, jobs across transports (HTTP ↔ gRPC,
// by tag), malformed bodies (400 with a message, server unharmed), 404, 401,
// GET /, concurrent clients, a port in use, the Basic user recorded as a job's
// auth_id, a busy server (429), and graceful shutdown: new requests get 503
// while an HTTP request that waits on a job gets its answer. Connections, as
// a raw socket sees them: many requests on one keep-alive connection, each
// answer in one TCP segment; the headers clients read (x-request-time-secs,
// Keep-Alive, Connection, no compression) on every kind of answer; HTTP/1.0;
// the idle timeout; more keep-alive connections than threads; and room made
// past the connection limit.

#include <arpa/inet.h>
#include <httplib.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/api/json.h"
#include "engine/api/schema.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/auth.h"
#include "server/avro_codec.h"
#include "server/server.h"
#include "tests/common/avro.h"
#include "tests/common/sync.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;
using engine::Json;
using gpudb_test::Contains;
using gpudb_test::Double;
using gpudb_test::Long;
using gpudb_test::PollUntil;
using gpudb_test::Snappy;
using gpudb_test::Str;

constexpr char kBinary[] = "application/octet-stream";
constexpr char kSnappy[] = "application/x-snappy";
constexpr char kJson[] = "application/json";

const engine::TypeSchema& Record(const char* name) { return *engine::FindRecord(name); }

httplib::Headers Basic(const std::string& user_password) {
  return httplib::Headers{{"Authorization", "Basic " + absl::Base64Escape(user_password)}};
}

// A /create/job request (JSON) for a json /filter job on `table`.
Json CreateFilterJob(const std::string& table, const std::string& expression, const Json& options = Json::object()) {
  return Json{{"endpoint", "/filter"},
              {"request_encoding", "json"},
              {"data_str", Json{{"table_name", table}, {"view_name", ""}, {"expression", expression}}.dump()},
              {"options", options}};
}

std::string Encode(const char* record, const Json& value) {
  auto bytes = server::AvroCodec().Encode(Record(record), value);
  EXPECT_TRUE(bytes.ok()) << record << ": " << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

Json Decode(const char* record, const std::string& bytes) {
  auto value = server::AvroCodec().Decode(Record(record), bytes);
  EXPECT_TRUE(value.ok()) << record << ": " << value.status();
  return value.ok() ? *value : Json::object();
}

std::string BytesOf(const Json& binary) {
  const auto& b = binary.get_binary();
  return std::string(b.begin(), b.end());
}

// One HTTP answer with its wrapper read per its Content-Type.
struct Answer {
  int http = 0;
  std::string content_type;
  std::string status, message, data_type, data, data_str;
};

Answer Read(const httplib::Result& result) {
  Answer a;
  if (!result) {
    ADD_FAILURE() << "no HTTP answer: " << httplib::to_string(result.error());
    return a;
  }
  a.http = result->status;
  a.content_type = result->get_header_value("Content-Type");
  Json w;
  if (a.content_type == kJson) {
    w = Json::parse(result->body, nullptr, false);
    EXPECT_TRUE(w.is_object()) << "not a JSON wrapper: " << result->body;
    if (!w.is_object()) return a;
    std::string data;
    EXPECT_TRUE(engine::FromCodePoints(w.value("data", ""), &data));
    a.data = data;
  } else {
    EXPECT_EQ(a.content_type, kBinary);
    w = Decode("gpudb_response", result->body);
    if (w.contains("data")) a.data = BytesOf(w["data"]);
  }
  a.status = w.value("status", "");
  a.message = w.value("message", "");
  a.data_type = w.value("data_type", "");
  a.data_str = w.value("data_str", "");
  return a;
}

// struct tcp_info as Linux fills it, as far as the data segment counters:
// glibc's <netinet/tcp.h> stops at tcpi_total_retrans; <linux/tcp.h>, which
// clashes with it, goes on with these.
struct TcpInfo {
  tcp_info base;
  uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
  uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
};

// One raw TCP connection to the HTTP port, to see what a connection carries
// as it is: each request goes out in one send, answers are read as they
// arrive. A read waits at most gpudb_test::kTimeout, so that an answer that
// never comes fails the test instead of hanging it.
class RawConnection {
 public:
  struct Reply {
    int http = 0;  // 0: the connection ended before a whole answer
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const timeval timeout{static_cast<time_t>(gpudb_test::kTimeout.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

  // `method path version` with Host, Content-Length and, for a body,
  // Content-Type; `extra` is more header lines, each ending in \r\n.
  bool Send(const std::string& path, const std::string& body, const std::string& type, const std::string& extra = "",
            const std::string& method = "POST", const std::string& version = "HTTP/1.1") {
    std::string request = absl::StrCat(method, " ", path, " ", version, "\r\nHost: 127.0.0.1\r\n", extra);
    if (!type.empty()) absl::StrAppend(&request, "Content-Type: ", type, "\r\n");
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n\r\n", body);
    return ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  }

  Reply Read() {
    Reply reply;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    const std::vector<std::string> lines = absl::StrSplit(buffer_.substr(0, end), "\r\n");
    buffer_.erase(0, end + 4);
    int http = 0;
    const std::vector<std::string> status = absl::StrSplit(lines[0], ' ');
    if (status.size() < 2 || !absl::SimpleAtoi(status[1], &http)) return reply;
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) return reply;
      reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    size_t length = 0;
    if (!absl::SimpleAtoi(reply.Header("content-length"), &length)) return reply;
    while (buffer_.size() < length) {
      if (!Fill()) return reply;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    reply.http = http;
    return reply;
  }

  // One request and its answer.
  Reply Call(const std::string& path, const std::string& body, const std::string& type,
             const std::string& extra = "") {
    return Send(path, body, type, extra) ? Read() : Reply{};
  }

  // Waits for the server to close the connection, reading (and dropping)
  // any answer before; true once it has.
  bool ReadUntilClosed() {
    buffer_.clear();
    while (Fill()) last_read_ = buffer_;
    char byte;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }
  const std::string& last_read() const { return last_read_; }

  // Sends `bytes` as they are.
  bool SendRaw(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

  // Waits for the server to close the connection; true once it has.
  bool ClosedByServer() {
    char byte;
    return buffer_.empty() && ::recv(fd_, &byte, 1, 0) == 0;
  }

  // TCP segments with data received so far; -1 when the kernel does not say.
  int64_t DataSegmentsIn() const {
    TcpInfo info{};
    socklen_t size = sizeof(info);
    if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 || size < offsetof(TcpInfo, data_segs_out)) {
      return -1;
    }
    return info.data_segs_in;
  }
  // The most data one TCP segment of this connection carries.
  int SegmentSize() const {
    int mss = 0;
    socklen_t size = sizeof(mss);
    return ::getsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &mss, &size) == 0 ? mss : 0;
  }

 private:
  bool Fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  const int fd_;
  bool connected_ = false;
  std::string buffer_;
  std::string last_read_;
};

// x-request-time-secs, which Kinetica's clients read into
// status_info.response_time: seconds, a number >= 0.
void ExpectRequestTime(const RawConnection::Reply& r, const std::string& what) {
  double seconds = -1;
  EXPECT_TRUE(absl::SimpleAtod(r.Header("x-request-time-secs"), &seconds) && seconds >= 0)
      << what << ": x-request-time-secs '" << r.Header("x-request-time-secs") << "'";
}

class HttpTest : public gpudb_test::ServerTest {
 protected:
  // With `users`, gRPC calls of client_ are the first user's (Basic).
  void Start(std::map<std::string, std::string> users = {}) {
    std::string first;
    if (!users.empty()) first = users.begin()->first + ":" + users.begin()->second;
    StartWith([&](server::ServerOptions& options) { options.users.passwords = std::move(users); });
    if (!first.empty()) client_->set_authorization("Basic " + absl::Base64Escape(first));
  }
  // A server with HTTP on a free port, its options set by `adjust`.
  void StartWith(const std::function<void(server::ServerOptions&)>& adjust) {
    server::ServerOptions options = gpudb_test::TestServerOptions("host:2");
    options.http_port = 0;
    adjust(options);
    StartServer(options);
    ASSERT_GT(server_->http_port(), 0);
  }
  httplib::Client NewHttp() const {
    httplib::Client c("127.0.0.1", server_->http_port());
    c.set_read_timeout(60, 0);
    return c;
  }
  Answer Post(const std::string& path, const std::string& body, const std::string& type,
              const httplib::Headers& headers = {}) {
    httplib::Client c = NewHttp();
    return Read(c.Post(path.c_str(), headers, body, type.c_str()));
  }
  // A JSON call that must succeed; the response record.
  Json PostJson(const std::string& endpoint, const Json& request) {
    Answer a = Post(endpoint, request.dump(), kJson);
    EXPECT_EQ(a.http, 200) << endpoint << ": " << a.message;
    EXPECT_EQ(a.status, "OK") << endpoint << ": " << a.message;
    Json r = Json::parse(a.data_str, nullptr, false);
    return r.is_discarded() ? Json::object() : r;
  }
  void ExpectHttpError(const Answer& a, int http, const std::vector<std::string>& parts, const std::string& what) {
    EXPECT_EQ(a.http, http) << what << ": " << a.message;
    EXPECT_EQ(a.status, "ERROR") << what;
    EXPECT_EQ(a.data_type, "none") << what;
    for (const std::string& p : parts) EXPECT_TRUE(Contains(a.message, p)) << what << ": '" << a.message << "' lacks '" << p << "'";
  }
};

TEST_F(HttpTest, AnswersEachContentTypeInItsFamily) {
  Start();
  const std::string has_table = Str("nope") + Long(0);  // has_table_request
  const std::string want = Str("nope") + std::string(1, '\0') + Long(0);  // has_table_response
  Answer binary = Post("/has/table", has_table, kBinary);
  EXPECT_EQ(binary.http, 200) << binary.message;
  EXPECT_EQ(binary.content_type, kBinary);
  EXPECT_EQ(binary.status, "OK");
  EXPECT_EQ(binary.data_type, "has_table_response");
  EXPECT_EQ(binary.data, want);
  EXPECT_EQ(binary.data_str, "");

  Answer snappy = Post("/has/table", Snappy(has_table), kSnappy);
  EXPECT_EQ(snappy.http, 200) << snappy.message;
  EXPECT_EQ(snappy.content_type, kBinary) << "answers are never snappy";
  EXPECT_EQ(snappy.data, want);

  Answer json = Post("/has/table", R"({"table_name":"nope"})", "application/json; charset=utf-8");
  EXPECT_EQ(json.http, 200) << json.message;
  EXPECT_EQ(json.content_type, kJson);
  EXPECT_EQ(json.data, "");
  EXPECT_EQ(Json::parse(json.data_str), (Json{{"table_name", "nope"}, {"table_exists", false}, {"info", Json::object()}}));

  // A path prefix may stand before the endpoint.
  for (const char* path : {"/gpudb-0/has/table", "/a/b/c/has/table"}) {
    Answer prefixed = Post(path, has_table, kBinary);
    EXPECT_EQ(prefixed.http, 200) << path << ": " << prefixed.message;
    EXPECT_EQ(prefixed.data, want) << path;
  }
  // The longest endpoint wins: /insert/records/random, not /insert/records.
  PostJson("/create/table", {{"table_name", "r"}, {"type_id", R"([["v","int"]])"}});
  Json random = PostJson("/x/insert/records/random", {{"table_name", "r"}, {"count", 5}});
  EXPECT_EQ(random.value("count", 0), 5);
}

TEST_F(HttpTest, EveryEndpointIsReachable) {
  Start();
  for (const engine::EndpointSchema& e : engine::AllEndpointSchemas()) {
    // An empty JSON object: most requests lack fields, which is a 400 with
    // the ERROR wrapper, never a 404.
    Answer a = Post(e.endpoint, "{}", kJson);
    EXPECT_NE(a.http, 404) << e.endpoint;
    EXPECT_TRUE(a.http == 200 || a.http == 400) << e.endpoint << ": " << a.http;
    EXPECT_EQ(a.status, a.http == 200 ? "OK" : "ERROR") << e.endpoint;
    if (a.http == 200) EXPECT_EQ(a.data_type, e.response->name) << e.endpoint;
  }
  Json properties = PostJson("/show/system/properties", Json::object());
  const Json& map = properties["property_map"];
  EXPECT_EQ(map.value("version.gpudb_core_version", "").rfind("7.2.", 0), 0u) << map.dump();
  EXPECT_EQ(map.value("conf.number_of_hosts", ""), "1");
  EXPECT_EQ(map.value("conf.host0_public_urls", ""), "http://127.0.0.1");
  Json status = PostJson("/show/system/status", Json::object());
  EXPECT_EQ(Json::parse(status["status_map"].value("system", "{}")).value("status", ""), "running");
}

TEST_F(HttpTest, AvroRecordsInAndOut) {
  Start();
  PostJson("/create/table", {{"table_name", "t"}, {"type_id", R"([["id","int"],["x","double","nullable"],["s","string"]])"}});
  // Three records, Avro of the table's type: x is the union [double, null].
  const std::vector<std::string> records = {Long(1) + Long(0) + Double(1.5) + Str("a"),
                                            Long(2) + Long(1) + Str("bb"),
                                            Long(-3) + Long(0) + Double(-2.25) + Str("")};
  std::string list = Long(3);
  for (const std::string& r : records) list += Str(r);
  list += Long(0);
  const std::string insert = Str("t") + list + Long(0) + Str("binary") + Long(0);
  Answer inserted = Post("/insert/records", insert, kBinary);
  ASSERT_EQ(inserted.http, 200) << inserted.message;
  EXPECT_EQ(Decode("insert_records_response", inserted.data)["count_inserted"], 3);

  const std::string get = Str("t") + Long(0) + Long(10) + Str("binary") + Long(1) + Str("sort_by") + Str("id") + Long(0);
  Answer got = Post("/get/records", Snappy(get), kSnappy);
  ASSERT_EQ(got.http, 200) << got.message;
  Json response = Decode("get_records_response", got.data);
  ASSERT_EQ(response["records_binary"].size(), 3u);
  EXPECT_EQ(BytesOf(response["records_binary"][0]), records[2]);
  EXPECT_EQ(BytesOf(response["records_binary"][1]), records[0]);
  EXPECT_EQ(BytesOf(response["records_binary"][2]), records[1]);
  const Json schema = Json::parse(response["type_schema"].get<std::string>());
  EXPECT_EQ(schema["fields"][1], (Json{{"name", "x"}, {"type", Json::array({"double", "null"})}}));

  // Dynamic schema: the Avro generic_response record.
  const std::string groupby = Str("t") + Long(2) + Str("s") + Str("count(*)") + Long(0) + Long(0) + Long(-9999) +
                              Str("binary") + Long(0);
  Answer grouped = Post("/aggregate/groupby", groupby, kBinary);
  ASSERT_EQ(grouped.http, 200) << grouped.message;
  Json g = Decode("aggregate_group_by_response", grouped.data);
  const std::string want = Long(3) + Str("") + Str("a") + Str("bb") + Long(0) + Long(3) + Long(1) + Long(1) + Long(1) +
                           Long(0) + Long(2) + Str("s") + Str("count(*)") + Long(0) + Long(2) + Str("string") +
                           Str("long") + Long(0);
  EXPECT_EQ(BytesOf(g["binary_encoded_response"]), want);
  EXPECT_EQ(Json::parse(g["response_schema_str"].get<std::string>())["name"], "generic_response");
}

TEST_F(HttpTest, JobsCrossTransports) {
  Start();
  MakeRandomTable("big", R"([["v","long"]])", 1000, 3);
  // Created over HTTP (Avro embedded request), read over gRPC by its tag.
  const std::string filter = Encode("filter_request", {{"table_name", "big"}, {"view_name", ""},
                                                       {"expression", "v > 0"}, {"options", Json::object()}});
  const std::string create = Encode("create_job_request",
                                    {{"endpoint", "/filter"}, {"request_encoding", "binary"},
                                     {"data", Json::binary(Json::binary_t::container_type(filter.begin(), filter.end()))},
                                     {"data_str", ""}, {"options", {{"job_tag", "from-http"}}}});
  Answer created = Post("/create/job", create, kBinary);
  ASSERT_EQ(created.http, 200) << created.message;
  Json job = Decode("create_job_response", created.data);
  EXPECT_EQ(job["info"]["job_tag"], "from-http");
  pb::GetJobResponse over_grpc = client_->Wait(0, "from-http");
  EXPECT_EQ(over_grpc.job_status(), "DONE");
  pb::FilterResponse count;
  ASSERT_TRUE(count.ParseFromString(over_grpc.job_response()));

  // The same job over HTTP (JSON family): job_response is Avro.
  Json http_job = PostJson("/get/job", {{"job_id", job["job_id"]}});
  EXPECT_EQ(http_job["job_status"], "DONE");
  EXPECT_EQ(http_job["response_encoding"], "binary");
  std::string avro;
  ASSERT_TRUE(engine::FromCodePoints(http_job["job_response"].get<std::string>(), &avro));
  EXPECT_EQ(Decode("filter_response", avro)["count"], count.count());

  // Created over gRPC (protobuf), read over HTTP by tag (Avro answer).
  pb::FilterRequest request;
  request.set_table_name("big");
  request.set_expression("v <= 0");
  client_->SubmitBinary("/filter", request, {{"job_tag", "from-grpc"}});
  client_->Wait(0, "from-grpc");
  Answer read = Post("/get/job", Long(0) + Long(1) + Str("job_tag") + Str("from-grpc") + Long(0), kBinary);
  ASSERT_EQ(read.http, 200) << read.message;
  Json described = Decode("get_job_response", read.data);
  EXPECT_EQ(described["job_status"], "DONE");
  EXPECT_EQ(Decode("filter_response", BytesOf(described["job_response"]))["count"], 1000 - count.count());

  // A json job over HTTP: the response in job_response_str.
  Json tagged = PostJson("/create/job", {{"endpoint", "/aggregate/statistics"}, {"request_encoding", "json"},
                                         {"data_str", R"({"table_name":"big","column_name":"v","stats":"count"})"},
                                         {"options", {{"job_tag", "json-job"}}}});
  Json done = PostJson("/get/job", {{"job_id", 0}, {"options", {{"job_tag", "json-job"}, {"wait_timeout_ms", "30000"}}}});
  EXPECT_EQ(done["job_status"], "DONE");
  EXPECT_EQ(Json::parse(done["job_response_str"].get<std::string>())["stats"]["count"], 1000.0);
  // A bad embedded request names the embedded field.
  Answer bad = Post("/create/job", Encode("create_job_request", {{"endpoint", "/filter"}, {"request_encoding", "binary"},
                                                                 {"data", Json::binary({0x02})}}),
                    kBinary);
  ExpectHttpError(bad, 400, {"data:", "field"}, "bad embedded request");
}

std::string Repeat(const std::string& piece, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += piece;
  return s;
}

TEST_F(HttpTest, MalformedBodiesAre400AndHarmless) {
  Start();
  const std::string has_table = Str("t") + Long(0);
  struct Case {
    const char* what;
    std::string body;
    std::string type;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"truncated Avro", has_table.substr(0, 1), kBinary, {"request body (has_table_request)", "table_name"}},
      {"trailing bytes", has_table + "xyz", kBinary, {"3 bytes left"}},
      {"giant length", Long(int64_t{1} << 62) + "ab", kBinary, {"table_name", "exceeds"}},
      {"giant count", Str("t") + Long(int64_t{1} << 60), kBinary, {"options", "block of"}},
      {"bad snappy", "\xff\xff\xff\xff\x0fnot snappy", kSnappy, {"snappy"}},
      {"snappy claiming 4 GiB", Long(0) /*placeholder*/, kSnappy, {"snappy"}},
      {"empty body", "", kBinary, {"request body", "empty"}},
      {"malformed JSON", "{\"table_name\": [", kJson, {"malformed JSON at byte"}},
      {"JSON array", "[1]", kJson, {"expected a JSON object"}},
      {"unknown field", R"({"table_name":"t","tabel":1})", kJson, {"unknown field 'tabel'"}},
      // 100,000 levels crashed the server.
      {"deep field value",
       R"({"table_name":)" + std::string(100000, '[') + std::string(100000, ']') + "}",
       kJson,
       {"JSON nested deeper than 64 levels"}},
      {"deep unknown member",
       R"({"table_name":"t","x":)" + Repeat(R"({"a":)", 100000) + "1" + std::string(100000, '}') + "}",
       kJson,
       {"JSON nested deeper than 64 levels"}},
      {"wrong content type", has_table, "text/plain", {"Content-Type", "text/plain", kBinary, kJson}},
      {"no content type", has_table, "", {"Content-Type"}},
  };
  for (Case c : cases) {
    if (std::string(c.what) == "snappy claiming 4 GiB") {
      // A varint length of 2^32 and nothing else.
      c.body = "\x80\x80\x80\x80\x10";
    }
    httplib::Client http = NewHttp();
    httplib::Headers headers;
    auto result = http.Post("/has/table", headers, c.body, c.type);  // "" sends no Content-Type
    Answer a = Read(result);
    ExpectHttpError(a, 400, c.parts, c.what);
    EXPECT_EQ(a.content_type, c.type == kBinary || c.type == kSnappy ? kBinary : kJson) << c.what;
  }
  // The answer's family follows Accept when the Content-Type is unknown.
  httplib::Client http = NewHttp();
  Answer accept = Read(http.Post("/has/table", httplib::Headers{{"Accept", kBinary}}, has_table, "text/plain"));
  EXPECT_EQ(accept.content_type, kBinary);
  EXPECT_EQ(accept.http, 400);

  // JSON inside a field (a type definition) and SQL nested past their
  // limits: errors, not a stack overflow.
  const Json deep_type = {{"type_definition", std::string(100000, '[') + std::string(100000, ']')},
                          {"label", ""},
                          {"properties", Json::object()},
                          {"options", Json::object()}};
  ExpectHttpError(Post("/create/type", deep_type.dump(), kJson), 400,
                  {"type_definition: JSON nested deeper than 64 levels"}, "deep type definition");
  const Json deep_sql = {{"statement", "SELECT 1" + Repeat("+1", 100000)},
                         {"offset", 0},
                         {"limit", 10},
                         {"encoding", "json"},
                         {"request_schema_str", ""},
                         {"data", Json::array()},
                         {"options", Json::object()}};
  ExpectHttpError(Post("/execute/sql", deep_sql.dump(), kJson), 400, {"nested deeper than 1000 levels"}, "deep SQL");

  // Still serving, both transports.
  EXPECT_EQ(Post("/has/table", has_table, kBinary).http, 200);
  ExpectServing();
}

TEST_F(HttpTest, NotFoundLivenessAndOversizedBodies) {
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.http_port = 0;
  options.max_message_bytes = 1 << 16;
  StartServer(options);
  Answer unknown = Post("/no/such/thing", "{}", kJson);
  ExpectHttpError(unknown, 404, {"'/no/such/thing' is not a known endpoint"}, "unknown endpoint");
  Answer unknown_binary = Post("/filterx", "\x00", kBinary);
  EXPECT_EQ(unknown_binary.http, 404);
  EXPECT_EQ(unknown_binary.content_type, kBinary);

  httplib::Client http = NewHttp();
  auto live = http.Get("/");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(live->body, "Kinetica is running!");
  Answer get_other = Read(http.Get("/filter"));
  ExpectHttpError(get_other, 404, {"GET /filter", "not served"}, "GET of an endpoint");
  Answer put = Read(http.Put("/filter", "{}", kJson));
  EXPECT_EQ(put.status, "ERROR");
  EXPECT_TRUE(put.http == 404 || put.http == 405) << put.http;

  Answer big = Post("/has/table", std::string(100000, 'x'), kBinary);
  ExpectHttpError(big, 413, {"larger than the limit of 65536 bytes"}, "oversized body");
  EXPECT_EQ(Post("/has/table", Str("t") + Long(0), kBinary).http, 200);
}

TEST_F(HttpTest, ARequestDecodesWithinItsMemoryBudget) {
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.http_port = 0;
  options.max_message_bytes = 1 << 16;  // decoded requests: at most 256 KiB
  StartServer(options);
  // 60,000 empty strings: a 60 KB body, 4 MB decoded (10^8 of them took 14 GB).
  const std::string avro =
      Str("t") + Long(60000) + std::string(60000, '\0') + Long(0) + Long(0) + Long(10) + Str("json") + Long(0);
  ExpectHttpError(Post("/get/records/bycolumn", avro, kBinary), 400,
                  {"field 'column_names", "decodes to more than 262144 bytes of memory"}, "Avro list");
  std::string json = R"({"table_name":"t","column_names":[)";
  for (int i = 0; i < 20000; ++i) json += i == 0 ? "[]" : ",[]";
  json += "]}";
  ExpectHttpError(Post("/get/records/bycolumn", json, kJson), 400, {"JSON decodes to more than 262144 bytes of memory"},
                  "JSON list");
  // A snappy body may expand to the largest message, no more.
  ExpectHttpError(
      Post("/has/table", Snappy(Str("t") + Long(1) + Str("k") + Str(std::string(70000, 'v')) + Long(0)), kSnappy), 400,
      {"expands to", "more than the largest message (65536 bytes)"}, "snappy");
  // A request within the budget is served.
  const std::string small =
      Str("t") + Long(2000) + std::string(2000, '\0') + Long(0) + Long(0) + Long(10) + Str("json") + Long(0);
  Answer a = Post("/get/records/bycolumn", small, kBinary);
  EXPECT_NE(a.message.find("'t' does not exist"), std::string::npos) << a.message;
  ExpectServing();
}

TEST_F(HttpTest, BasicAuthentication) {
  Start({{"ann", "pw:1"}, {"bob", "x"}});
  const std::string body = R"({"table_name":"t"})";
  auto basic = [](const std::string& user_password) {
    return httplib::Headers{{"Authorization", "Basic " + absl::Base64Escape(user_password)}};
  };
  const std::vector<std::pair<std::string, httplib::Headers>> refused = {
      {"none", {}},
      {"wrong password", basic("ann:pw")},
      {"unknown user", basic("eve:pw:1")},
      {"no colon", basic("annpw:1")},
      {"not base64", {{"Authorization", "Basic %%%"}}},
      {"bearer", {{"Authorization", "Bearer token"}}},
      {"other scheme", {{"Authorization", "Digest x"}}},
  };
  for (const auto& [what, headers] : refused) {
    httplib::Client http = NewHttp();
    auto result = http.Post("/has/table", headers, body, kJson);
    ASSERT_TRUE(result) << what;
    EXPECT_EQ(result->get_header_value("WWW-Authenticate"), "Basic realm=\"gpudb\"") << what;
    ExpectHttpError(Read(result), 401, {"Authorization"}, what);
  }
  EXPECT_EQ(Post("/has/table", body, kJson, basic("ann:pw:1")).http, 200);
  EXPECT_EQ(Post("/has/table", body, kJson, basic("bob:x")).http, 200);
  // An unknown endpoint is not revealed without credentials.
  EXPECT_EQ(Post("/nope", body, kJson).http, 401);
  // Liveness needs none.
  httplib::Client http = NewHttp();
  auto live = http.Get("/");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
}

TEST_F(HttpTest, ConcurrentClients) {
  Start();
  MakeRandomTable("c", R"([["v","int"]])", 5000, 11);
  const Json all = PostJson("/aggregate/statistics", {{"table_name", "c"}, {"column_name", "v"}, {"stats", "count,sum"}});
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      httplib::Client http = NewHttp();
      for (int i = 0; i < 40; ++i) {
        const Json request = {{"table_name", "c"}, {"column_name", "v"}, {"stats", "count,sum"}};
        Answer a;
        Json stats;
        switch ((k + i) % 3) {
          case 0:
            a = Read(http.Post("/aggregate/statistics", request.dump(), kJson));
            if (a.status == "OK") stats = Json::parse(a.data_str)["stats"];
            break;
          case 1:
            a = Read(http.Post("/aggregate/statistics", Encode("aggregate_statistics_request", request), kBinary));
            if (a.status == "OK") stats = Decode("aggregate_statistics_response", a.data)["stats"];
            break;
          default:
            a = Read(http.Post("/x/aggregate/statistics", Snappy(Encode("aggregate_statistics_request", request)),
                               kSnappy));
            if (a.status == "OK") stats = Decode("aggregate_statistics_response", a.data)["stats"];
            break;
        }
        if (a.http != 200 || stats != all["stats"]) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(HttpTest, PortInUseIsRefused) {
  Start();
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.http_port = server_->http_port();
  auto second = server::Server::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(Contains(std::string(second.status().message()), std::to_string(options.http_port))) << second.status();
  EXPECT_EQ(Post("/has/table", Str("t") + Long(0), kBinary).http, 200);
}

TEST_F(HttpTest, ShutdownAnswersWaitingRequests) {
  Start();
  MakeRandomTable("s", R"([["v","int"]])", 100, 5);
  gpudb_test::StreamGate gate(server_->engine());
  Json created = PostJson("/create/job", {{"endpoint", "/filter"}, {"request_encoding", "json"},
                                          {"data_str", R"({"table_name":"s","view_name":"","expression":"v > 0"})"},
                                          {"options", {{"job_tag", "parked"}}}});
  const int64_t id = created["job_id"].get<int64_t>();
  Answer waited;
  std::thread waiter([&] {
    httplib::Client http = NewHttp();
    waited = Read(http.Post("/get/job", Json{{"job_id", id}, {"options", {{"wait_timeout_ms", "60000"}}}}.dump(),
                            kJson));
  });
  // The /get/job waits on the job in the server; then shutdown begins (the
  // engine drains), and only then is the job let go.
  EXPECT_TRUE(PollUntil([&] { return server_->engine().tracker().watchers(id) >= 1; }))
      << "the /get/job never waited on the job";
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Shutdown(absl::Milliseconds(100)); });
  EXPECT_TRUE(PollUntil([&] { return server_->engine().draining(); })) << "shutdown did not begin";
  gate.Open();
  stopper.join();
  waiter.join();
  // Answered when the job ended (within the grace, or cancelled at its end),
  // not at the wait's 60 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(50));
  EXPECT_EQ(waited.http, 200) << waited.message;
  const Json job = Json::parse(waited.data_str, nullptr, false);
  ASSERT_TRUE(job.is_object()) << waited.data_str;
  EXPECT_EQ(job["running"], false);
  EXPECT_TRUE(job["job_status"] == "DONE" || job["job_status"] == "CANCELLED") << job.dump();
  // The listener is closed.
  httplib::Client http = NewHttp();
  http.set_connection_timeout(2, 0);
  EXPECT_FALSE(http.Get("/"));
}

TEST_F(HttpTest, AuthIdIsTheUserAndUsersSeeTheirOwnJobs) {
  // gRPC had no authentication, and any user listed, read and cancelled
  // every user's jobs.
  server::Users users;
  users.passwords = {{"ann", "pw:1"}, {"bob", "x"}, {"admin", "root"}};
  users.tokens = {{"t0k3n", "carol"}};
  StartWith([&](server::ServerOptions& options) { options.users = users; });
  client_->set_authorization("Basic " + absl::Base64Escape("admin:root"));
  MakeRandomTable("a", R"([["v","int"]])", 100, 9);
  // A job created by ann (JSON), one by bob (Avro), one by carol over gRPC
  // with her bearer token.
  Answer by_ann = Post("/create/job", CreateFilterJob("a", "v > 0").dump(), kJson, Basic("ann:pw:1"));
  ASSERT_EQ(by_ann.http, 200) << by_ann.message;
  const int64_t ann_id = Json::parse(by_ann.data_str)["job_id"].get<int64_t>();
  const std::string filter = Encode("filter_request", {{"table_name", "a"}, {"view_name", ""},
                                                       {"expression", "v <= 0"}, {"options", Json::object()}});
  Answer by_bob = Post("/create/job",
                       Encode("create_job_request",
                              {{"endpoint", "/filter"}, {"request_encoding", "binary"},
                               {"data", Json::binary(Json::binary_t::container_type(filter.begin(), filter.end()))},
                               {"data_str", ""}, {"options", Json::object()}}),
                       kBinary, Basic("bob:x"));
  ASSERT_EQ(by_bob.http, 200) << by_bob.message;
  const int64_t bob_id = Decode("create_job_response", by_bob.data)["job_id"].get<int64_t>();
  gpudb_test::Client carol(channel_);
  carol.set_authorization("Bearer t0k3n");
  const int64_t carol_id =
      carol.SubmitJson("/filter", {{"table_name", "a"}, {"view_name", ""}, {"expression", "v > 5"}}).first;
  ASSERT_GT(carol_id, 0);
  for (int64_t id : {ann_id, bob_id, carol_id}) EXPECT_EQ(client_->WaitFinished(id).job_status(), "DONE") << id;

  // Listed: each job with the user who submitted it; a user sees their own
  // jobs only, the administrator every job.
  const Json request = {{"options", {{"show_async_jobs", "true"}}}};
  const auto listing = [&](const Json& shown) {
    std::map<int64_t, std::string> auth;
    for (size_t i = 0; i < shown["job_id"].size(); ++i) {
      auth[shown["job_id"][i].get<int64_t>()] = shown["auth_id"][i].get<std::string>();
      EXPECT_EQ(shown["source_ip"][i], "127.0.0.1");
    }
    return auth;
  };
  Answer by_bob_listed = Post("/admin/show/jobs", request.dump(), kJson, Basic("bob:x"));
  ASSERT_EQ(by_bob_listed.http, 200) << by_bob_listed.message;
  std::map<int64_t, std::string> seen = listing(Json::parse(by_bob_listed.data_str));
  EXPECT_EQ(seen.count(ann_id), 0u);
  EXPECT_EQ(seen.count(carol_id), 0u);
  ASSERT_EQ(seen.count(bob_id), 1u);
  for (const auto& [id, user] : seen) EXPECT_EQ(user, "bob") << id;  // his listing too
  seen = listing(carol.Json("/admin/show/jobs", request, "admin_show_jobs_response"));
  ASSERT_EQ(seen.count(carol_id), 1u);
  EXPECT_EQ(seen[carol_id], "carol");
  EXPECT_EQ(seen.count(bob_id), 0u);
  seen = listing(client_->Json("/admin/show/jobs", request, "admin_show_jobs_response"));
  EXPECT_EQ(seen[ann_id], "ann");
  EXPECT_EQ(seen[bob_id], "bob");
  EXPECT_EQ(seen[carol_id], "carol");

  // Another user's job is not there: read by id or tag, watched, cancelled.
  Answer read = Post("/get/job", Json{{"job_id", ann_id}}.dump(), kJson, Basic("bob:x"));
  ExpectHttpError(read, 400, {"job_id: job", "does not exist"}, "bob reads ann's job");
  pb::GetJobRequest get;
  get.set_job_id(bob_id);
  gpudb_test::ExpectError(carol.GetJob(get), {"does not exist"}, "carol reads bob's job");
  grpc::Status watched;
  const std::vector<pb::GpudbResponse> messages = carol.Watch(bob_id, "", &watched);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].message().find("does not exist"), std::string::npos) << messages[0].message();
  const Json cancel = {{"job_ids", {ann_id}}, {"action", "cancel"}, {"options", Json::object()}};
  Answer cancelled = Post("/admin/alter/jobs", cancel.dump(), kJson, Basic("bob:x"));
  ASSERT_EQ(cancelled.http, 200);
  EXPECT_EQ(Json::parse(cancelled.data_str)["status"][0], absl::StrCat("NOT_FOUND: job ", ann_id, " does not exist"));
  // Their own, and the administrator any.
  EXPECT_EQ(Post("/get/job", Json{{"job_id", ann_id}}.dump(), kJson, Basic("ann:pw:1")).http, 200);
  EXPECT_EQ(client_->GetJob(get).status(), "OK");

  // gRPC without credentials, or with wrong ones: UNAUTHENTICATED.
  for (const std::string& bad : {std::string(), std::string("Bearer nope"), "Basic " + absl::Base64Escape("ann:x")}) {
    gpudb_test::Client other(channel_);
    other.set_authorization(bad);
    pb::GpudbResponse response;
    EXPECT_EQ(other.TryGetJob(get, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad;
    pb::ExecuteRequest execute;
    execute.set_endpoint("/has/table");
    execute.set_request_encoding("json");
    execute.set_data_str(R"({"table_name":"a"})");
    EXPECT_EQ(other.TryExecute(execute, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad;
    grpc::Status status;
    other.Watch(bob_id, "", &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad;
  }
}

// Per-user limits from the users file (Limits lines) over both transports:
// a request too large (413 / RESOURCE_EXHAUSTED), a result too large (the
// job ends in ERROR), too many unfinished jobs (429 / RESOURCE_EXHAUSTED);
// another user is not affected.
TEST_F(HttpTest, EachUserIsHeldToItsOwnLimits) {
  server::Users users;
  users.passwords = {{"ann", "a"}, {"admin", "root"}};
  users.limits["ann"] = engine::UserLimits{/*max_request_bytes=*/1024, /*max_result_bytes=*/4096, /*max_jobs=*/2};
  StartWith([&](server::ServerOptions& options) {
    options.users = users;
    options.engine.jobs.limits = server::LimitsOf(users, engine::UserLimits{});
  });
  client_->set_authorization("Basic " + absl::Base64Escape("admin:root"));
  MakeRandomTable("t", R"([["v","int"]])", 1000, 3);
  const httplib::Headers ann = Basic("ann:a");

  // Request size: over HTTP before decoding, over gRPC (Execute, CreateJob).
  const std::string padded = Json{{"table_name", "t"}, {"options", {{"pad", std::string(2000, 'x')}}}}.dump();
  ExpectHttpError(Post("/has/table", padded, kJson, ann), 413,
                  {"request: ", " bytes, more than user 'ann' may send at once (1024 bytes"}, "large request");
  EXPECT_EQ(Post("/has/table", padded, kJson, Basic("admin:root")).http, 200);
  gpudb_test::Client grpc_ann(channel_);
  grpc_ann.set_authorization("Basic " + absl::Base64Escape("ann:a"));
  pb::ExecuteRequest execute;
  execute.set_endpoint("/has/table");
  execute.set_request_encoding("json");
  execute.set_data_str(padded);
  pb::GpudbResponse response;
  grpc::Status s = grpc_ann.TryExecute(execute, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(Contains(s.error_message(), "more than user 'ann' may send at once")) << s.error_message();
  pb::CreateJobRequest create;
  create.set_endpoint("/has/table");
  create.set_request_encoding("json");
  create.set_data_str(padded);
  EXPECT_EQ(grpc_ann.TryCreateJob(create, &response).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Result size: 1,000 rows as JSON are more than 4 KiB; 3 rows are not.
  const Json read = {{"table_name", "t"}, {"offset", 0}, {"limit", 1000}, {"encoding", "json"}};
  ExpectHttpError(Post("/get/records", read.dump(), kJson, ann), 400,
                  {"result: about ", "more than user 'ann' may receive at once (4096 bytes"}, "large result");
  Json small = read;
  small["limit"] = 3;
  EXPECT_EQ(Post("/get/records", small.dump(), kJson, ann).http, 200);
  EXPECT_EQ(Post("/get/records", read.dump(), kJson, Basic("admin:root")).http, 200);

  // Unfinished jobs: two of ann's wait behind closed streams; a third is
  // refused, the administrator's is not.
  gpudb_test::StreamGate gate(server_->engine());
  std::vector<int64_t> waiting;
  for (int i = 0; i < 2; ++i) {
    Answer a = Post("/create/job", CreateFilterJob("t", "v > 0").dump(), kJson, ann);
    ASSERT_EQ(a.http, 200) << a.message;
    waiting.push_back(Json::parse(a.data_str)["job_id"].get<int64_t>());
  }
  ExpectHttpError(Post("/create/job", CreateFilterJob("t", "v > 0").dump(), kJson, ann), 429,
                  {"user 'ann' has 2 unfinished jobs, the most it may have at once"}, "third job");
  create.set_data_str(Json{{"table_name", "t"}}.dump());
  s = grpc_ann.TryCreateJob(create, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_EQ(Post("/create/job", CreateFilterJob("t", "v > 0").dump(), kJson, Basic("admin:root")).http, 200);
  gate.Open();
  for (int64_t id : waiting) EXPECT_EQ(client_->WaitFinished(id).job_status(), "DONE") << id;
  // Finished, they free their places.
  EXPECT_EQ(Post("/create/job", CreateFilterJob("t", "v > 0").dump(), kJson, ann).http, 200);
}

TEST_F(HttpTest, BusyServerAnswers429AndKeepsEveryAcceptedJob) {
  constexpr int kMaxQueued = 4, kThreads = 8, kPerThread = 6;
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.engine.devices.streams_per_device = 1;
  options.engine.max_queued_jobs = kMaxQueued;
  options.http_port = 0;
  StartServer(options);
  MakeRandomTable("t", R"([["k","int"]])", 1000, 11);
  // The table as it is, read back over HTTP: the reference for every count.
  const Json read = PostJson("/get/records", {{"table_name", "t"}, {"offset", 0}, {"limit", 1000}, {"encoding", "json"}});
  std::vector<int64_t> ks;
  for (const Json& r : read["records_json"]) ks.push_back(Json::parse(r.get<std::string>())["k"].get<int64_t>());
  ASSERT_EQ(ks.size(), 1000u);
  auto expected = [&](int64_t threshold) { return gpudb_test::CountAbove(ks, threshold); };

  gpudb_test::StreamGate gate(server_->engine());
  gpudb_test::Flood flood;
  flood.Run(kThreads, [&](int t) {
    httplib::Client http = NewHttp();
    for (int j = 0; j < kPerThread; ++j) {
      const int64_t threshold = (t * kPerThread + j) * 3000 - 70000;
      const Json create = CreateFilterJob("t", "k > " + std::to_string(threshold));
      // Both families: the JSON wrapper and the Avro one.
      const bool binary = (t + j) % 2 == 1;
      Answer a = binary ? Read(http.Post("/create/job", Encode("create_job_request", {{"endpoint", create["endpoint"]},
                                                                                     {"request_encoding", "json"},
                                                                                     {"data", Json::binary({})},
                                                                                     {"data_str", create["data_str"]},
                                                                                     {"options", Json::object()}}),
                                         kBinary))
                        : Read(http.Post("/create/job", create.dump(), kJson));
      if (a.http == 200) {
        ASSERT_EQ(a.status, "OK") << a.message;
        const Json created = binary ? Decode("create_job_response", a.data) : Json::parse(a.data_str);
        flood.Accepted(created["job_id"].get<int64_t>(), threshold);
      } else {
        ExpectHttpError(a, 429, {"server busy", "--max-queued-jobs", "retry later"}, "flooded /create/job");
        EXPECT_EQ(a.content_type, binary ? kBinary : kJson);
        flood.Refused();
      }
    }
  });
  const std::vector<std::pair<int64_t, int64_t>> accepted = flood.accepted();  // id, threshold
  EXPECT_EQ(accepted.size() + flood.refused(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kMaxQueued));
  // A synchronous call is refused too; job administration is not.
  ExpectHttpError(Post("/filter", Json{{"table_name", "t"}, {"view_name", ""}, {"expression", "k > 0"}}.dump(), kJson),
                  429, {"retry later"}, "synchronous /filter");
  const Json shown = PostJson("/admin/show/jobs", Json::object());
  for (const auto& [id, threshold] : accepted) {
    EXPECT_NE(std::find(shown["job_id"].begin(), shown["job_id"].end(), Json(id)), shown["job_id"].end()) << id;
  }

  gate.Open();
  for (const auto& [id, threshold] : accepted) {
    const Json job = PostJson("/get/job", {{"job_id", id}, {"options", {{"wait_timeout_ms", "30000"}}}});
    ASSERT_EQ(job["job_status"], "DONE") << id << ": " << job.dump();
    EXPECT_EQ(Json::parse(job["job_response_str"].get<std::string>())["count"], expected(threshold)) << "job " << id;
  }
  // Accepting again.
  const Json again = PostJson("/create/job", CreateFilterJob("t", "k > 0"));
  const Json done = PostJson("/get/job", {{"job_id", again["job_id"]}, {"options", {{"wait_timeout_ms", "30000"}}}});
  EXPECT_EQ(Json::parse(done["job_response_str"].get<std::string>())["count"], expected(0));
}

TEST_F(HttpTest, ShutdownRefusesNewRequestsWith503) {
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.engine.devices.streams_per_device = 1;
  options.http_port = 0;
  StartServer(options);
  MakeRandomTable("s", R"([["v","int"]])", 100, 5);
  const Json expected = PostJson("/filter", {{"table_name", "s"}, {"view_name", ""}, {"expression", "v > 0"}});
  gpudb_test::StreamGate gate(server_->engine());
  const Json created = PostJson("/create/job", CreateFilterJob("s", "v > 0", {{"job_tag", "before-shutdown"}}));

  // Draining: the job is parked, so shutdown waits out its grace for it.
  // Polled with /show/system/status, which runs at once (a call that queues
  // behind the gate before the drain begins would wait for it).
  std::thread stopper([&] { server_->Shutdown(absl::Seconds(60)); });
  Answer refused;
  PollUntil([&] {
    refused = Post("/show/system/status", Long(0), kBinary);
    return refused.http != 200;
  });
  ExpectHttpError(refused, 503, {"shutting down"}, "/show/system/status while shutting down (Avro)");
  EXPECT_EQ(refused.content_type, kBinary);
  ExpectHttpError(Post("/create/job", CreateFilterJob("s", "v > 1").dump(), kJson), 503, {"shutting down"},
                  "/create/job while shutting down");
  ExpectHttpError(Post("/has/table", Snappy(Str("s") + Long(0)), kSnappy), 503, {"shutting down"},
                  "synchronous /has/table while shutting down (snappy)");
  ExpectHttpError(Post("/filter", Json{{"table_name", "s"}, {"view_name", ""}, {"expression", "v > 1"}}.dump(), kJson),
                  503, {"shutting down"}, "synchronous /filter while shutting down");
  // Reading a job is not submitting one: still answered.
  Json parked = PostJson("/get/job", {{"job_id", created["job_id"]}});
  EXPECT_EQ(parked["job_status"], "RUNNING");

  gate.Open();
  stopper.join();
  // The accepted job finished within the grace, with its result.
  absl::StatusOr<engine::JobSnapshot> job = server_->engine().FindJob({created["job_id"].get<int64_t>()}, false);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, engine::JobState::kDone) << job->error;
  ASSERT_NE(job->response, nullptr);
  EXPECT_EQ((*job->response)["count"], expected["count"]);
}

TEST_F(HttpTest, OneConnectionServesManyRequestsEachAnswerInOneSegment) {
  Start();
  MakeRandomTable("t", R"([["v","int"]])", 1000, 7);
  RawConnection c(server_->http_port());
  ASSERT_TRUE(c.connected());
  // More requests than httplib's default of 5 per connection; small answers
  // and a ~15 KB one, each of which fits in one TCP segment here.
  const std::string has_table = Str("t") + Long(0);
  const Json records = {{"table_name", "t"}, {"offset", 0}, {"limit", 1000}, {"encoding", "json"}};
  for (int i = 0; i < 30; ++i) {
    const int64_t segments = c.DataSegmentsIn();
    const RawConnection::Reply r = i % 3 == 0   ? c.Call("/has/table", has_table, kBinary)
                                   : i % 3 == 1 ? c.Call("/has/table", R"({"table_name":"t"})", kJson)
                                                : c.Call("/get/records", records.dump(), kJson);
    ASSERT_EQ(r.http, 200) << "request " << i << " on one connection";
    EXPECT_EQ(r.Header("connection"), "") << i;
    EXPECT_EQ(r.Header("keep-alive"), "timeout=60") << i;
    ExpectRequestTime(r, absl::StrCat("request ", i));
    if (segments < 0) continue;  // the kernel does not count segments
    const size_t bytes = r.body.size() + 300;  // and the status line and headers
    if (bytes < static_cast<size_t>(c.SegmentSize())) {
      EXPECT_EQ(c.DataSegmentsIn() - segments, 1) << "answer " << i << " (" << r.body.size()
                                                   << " bytes of body) came in more than one TCP segment";
    }
  }
  // The client ends it: the answer says so, and the server closes.
  const RawConnection::Reply last = c.Call("/has/table", has_table, kBinary, "Connection: close\r\n");
  EXPECT_EQ(last.http, 200);
  EXPECT_EQ(last.Header("connection"), "close");
  EXPECT_EQ(last.Header("keep-alive"), "");
  EXPECT_TRUE(c.ClosedByServer());
}

TEST_F(HttpTest, EveryAnswerCarriesTheHeadersClientsRead) {
  Start({{"ann", "pw"}});
  RawConnection c(server_->http_port());
  ASSERT_TRUE(c.connected());
  const std::string auth = "Authorization: Basic " + absl::Base64Escape("ann:pw") + "\r\n";
  // Clients ask for gzip (Python's requests does); answers stay as they are.
  const std::string extra = auth + "Accept-Encoding: gzip, deflate\r\n";
  struct Case {
    const char* what;
    const char* method;
    const char* path;
    std::string body, type, extra;
    int http;
    const char* content_type;
  };
  const std::vector<Case> cases = {
      {"binary", "POST", "/has/table", Str("t") + Long(0), kBinary, extra, 200, kBinary},
      {"json", "POST", "/has/table", R"({"table_name":"t"})", kJson, extra, 200, kJson},
      {"malformed", "POST", "/has/table", Str("t"), kBinary, extra, 400, kBinary},
      {"unknown endpoint", "POST", "/no/such", "{}", kJson, extra, 404, kJson},
      {"no credentials", "POST", "/has/table", R"({"table_name":"t"})", kJson, "", 401, kJson},
      {"liveness", "GET", "/", "", "", extra, 200, "text/plain"},
      {"GET elsewhere", "GET", "/nope", "", "", extra, 404, kJson},
  };
  for (int round = 0; round < 2; ++round) {  // all on one connection, which errors leave open
    for (const Case& k : cases) {
      ASSERT_TRUE(c.Send(k.path, k.body, k.type, k.extra, k.method)) << k.what;
      const RawConnection::Reply r = c.Read();
      ASSERT_EQ(r.http, k.http) << k.what << ": " << r.body;
      EXPECT_EQ(r.Header("content-type"), k.content_type) << k.what;
      EXPECT_EQ(r.Header("content-encoding"), "") << k.what;
      EXPECT_EQ(r.Header("keep-alive"), "timeout=60") << k.what;
      EXPECT_EQ(r.Header("connection"), "") << k.what;
      ExpectRequestTime(r, k.what);
    }
  }
  // A large JSON answer is not compressed either.
  MakeRandomTable("big", R"([["v","long"]])", 5000, 3);
  const RawConnection::Reply big = c.Call(
      "/get/records", Json{{"table_name", "big"}, {"offset", 0}, {"limit", 5000}, {"encoding", "json"}}.dump(), kJson,
      extra);
  ASSERT_EQ(big.http, 200);
  EXPECT_EQ(big.Header("content-encoding"), "");
  EXPECT_EQ(Json::parse(Json::parse(big.body)["data_str"].get<std::string>())["records_json"].size(), 5000u);
}

TEST_F(HttpTest, Http10ConnectionsCloseUnlessAskedToStay) {
  Start();
  const std::string has_table = Str("t") + Long(0);
  RawConnection plain(server_->http_port());
  ASSERT_TRUE(plain.Send("/has/table", has_table, kBinary, "", "POST", "HTTP/1.0"));
  const RawConnection::Reply once = plain.Read();
  EXPECT_EQ(once.http, 200);
  EXPECT_EQ(once.Header("connection"), "close");
  EXPECT_EQ(once.Header("keep-alive"), "");
  ExpectRequestTime(once, "HTTP/1.0");
  EXPECT_TRUE(plain.ClosedByServer());

  RawConnection kept(server_->http_port());
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(kept.Send("/has/table", has_table, kBinary, "Connection: Keep-Alive\r\n", "POST", "HTTP/1.0"));
    const RawConnection::Reply r = kept.Read();
    ASSERT_EQ(r.http, 200) << "HTTP/1.0 keep-alive request " << i;
    EXPECT_EQ(r.Header("connection"), "keep-alive") << i;
    EXPECT_EQ(r.Header("keep-alive"), "timeout=60") << i;
  }
}

TEST_F(HttpTest, IdleConnectionsCloseAfterTheTimeout) {
  StartWith([](server::ServerOptions& options) { options.http_idle_timeout_s = 1; });
  RawConnection c(server_->http_port());
  const RawConnection::Reply r = c.Call("/has/table", Str("t") + Long(0), kBinary);
  EXPECT_EQ(r.http, 200);
  EXPECT_EQ(r.Header("keep-alive"), "timeout=1");
  EXPECT_TRUE(c.ClosedByServer()) << "an idle connection stayed open past its timeout";
  EXPECT_EQ(RawConnection(server_->http_port()).Call("/has/table", Str("t") + Long(0), kBinary).http, 200);
}

TEST_F(HttpTest, AClientTooSlowToSendItsRequestIsCutOff) {
  // One byte at a time kept a connection (and its thread) forever: each byte
  // restarted the read timeout.
  StartWith([](server::ServerOptions& options) { options.http_request_timeout_s = 1; });
  struct Slow {
    const char* what;
    std::string start;  // sent at once
    std::string drip;   // then sent every 100 ms
  };
  for (const Slow& slow : {Slow{"headers", "POST /has/table HTTP/1.1\r\nHost: x\r\n", "X-a: b\r\n"},
                           Slow{"body",
                                "POST /has/table HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Content-Length: 1000\r\n\r\n{",
                                " "}}) {
    RawConnection c(server_->http_port());
    ASSERT_TRUE(c.SendRaw(slow.start));
    const auto start = std::chrono::steady_clock::now();
    std::atomic<bool> stop{false};
    std::thread drip([&] {
      for (int i = 0; i < 100 && !stop.load(); ++i) {  // 10 s of drips at most
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!c.SendRaw(slow.drip)) break;
      }
    });
    // Others are served meanwhile.
    EXPECT_EQ(RawConnection(server_->http_port()).Call("/has/table", Str("t") + Long(0), kBinary).http, 200);
    EXPECT_TRUE(c.ReadUntilClosed()) << slow.what;
    // At most one answer (400) before the close.
    EXPECT_EQ(c.last_read().find("HTTP/1.1", 1), std::string::npos) << c.last_read();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stop.store(true);
    drip.join();
    // Cut off after its second (the body's: one more), well before the drips end.
    EXPECT_LT(seconds, 6.0) << slow.what;
  }
  ExpectServing();
}

TEST_F(HttpTest, ARequestWhoseClientHasGoneCancelsItsJob) {
  Start();
  MakeRandomTable("t", R"([["k","int"]])", 100, 1);
  gpudb_test::StreamGate gate(server_->engine());
  {
    RawConnection c(server_->http_port());
    ASSERT_TRUE(c.Send("/filter", R"({"table_name":"t","view_name":"","expression":"k > 0"})", kJson));
    ASSERT_TRUE(PollUntil([&] { return server_->engine().tracker().size() == 1; }));
  }  // the client closes its connection
  // Its job is cancelled (and forgotten), while the stream is still parked.
  EXPECT_TRUE(PollUntil([&] { return server_->engine().tracker().size() == 0; })) << server_->engine().tracker().size();
  gate.Open();
  ExpectServing();
}

TEST_F(HttpTest, ARequestCutShortByShutdownIs503) {
  Start();
  RawConnection c(server_->http_port());
  ASSERT_TRUE(
      c.SendRaw("POST /has/table HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000\r\n\r\n{"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its body is being read
  std::thread stopper([&] { server_->Shutdown(absl::Seconds(5)); });
  const RawConnection::Reply r = c.Read();
  stopper.join();
  EXPECT_EQ(r.http, 503) << r.body;  // was 400
  EXPECT_NE(r.body.find("shutting down"), std::string::npos) << r.body;
}

TEST_F(HttpTest, MoreKeepAliveConnectionsThanThreads) {
  StartWith([](server::ServerOptions& options) { options.http_threads = 2; });
  // Each connection holds a thread while it stays open; every one is served
  // while all stay open, in turns.
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 8; ++i) connections.push_back(std::make_unique<RawConnection>(server_->http_port()));
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < connections.size(); ++i) {
      const RawConnection::Reply r = connections[i]->Call("/has/table", Str("t") + Long(0), kBinary);
      ASSERT_EQ(r.http, 200) << "connection " << i << ", round " << round;
      EXPECT_EQ(r.Header("connection"), "") << "connection " << i << ", round " << round;
    }
  }
}

TEST_F(HttpTest, PastTheConnectionLimitIdleConnectionsMakeRoom) {
  StartWith([](server::ServerOptions& options) {
    options.http_threads = 1;
    options.http_max_connections = 2;
  });
  const std::string has_table = Str("t") + Long(0);
  RawConnection a(server_->http_port());
  ASSERT_EQ(a.Call("/has/table", has_table, kBinary).http, 200);
  RawConnection b(server_->http_port());
  ASSERT_EQ(b.Call("/has/table", has_table, kBinary).http, 200);
  // a and b hold both threads, idle; c's request is answered once one of
  // them closes to make room.
  RawConnection c(server_->http_port());
  EXPECT_EQ(c.Call("/has/table", has_table, kBinary).http, 200);
  const bool a_open = a.Call("/has/table", has_table, kBinary).http == 200;
  const bool b_open = b.Call("/has/table", has_table, kBinary).http == 200;
  EXPECT_FALSE(a_open && b_open) << "c was served while a and b both kept their threads";
}

}  // namespace
