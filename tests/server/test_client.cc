#include "tests/server/test_client.h"

#include <snappy.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tests/common/sync.h"

namespace gpudb_test {
namespace {

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

}  // namespace

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string Snappy(const std::string& raw) {
  std::string block(snappy::MaxCompressedLength(raw.size()), '\0');
  size_t n = 0;
  snappy::RawCompress(raw.data(), raw.size(), &block[0], &n);
  block.resize(n);
  return block;
}

void ExpectError(const pb::GpudbResponse& r, const std::vector<std::string>& parts, const std::string& what) {
  EXPECT_EQ(r.status(), "ERROR") << what;
  EXPECT_EQ(r.data_type(), "none") << what;
  EXPECT_TRUE(r.data().empty()) << what;
  EXPECT_TRUE(r.data_str().empty()) << what;
  for (const std::string& p : parts) {
    EXPECT_TRUE(Contains(r.message(), p)) << what << ": message '" << r.message() << "' lacks '" << p << "'";
  }
}

void ExpectConsistentJob(const pb::GetJobResponse& job, const std::string& what) {
  const std::string& s = job.job_status();
  if (s == "RUNNING") {
    EXPECT_TRUE(job.running()) << what;
    EXPECT_FALSE(job.successful()) << what;
    EXPECT_GE(job.progress(), 0) << what;
    EXPECT_LE(job.progress(), 100) << what;
  } else if (s == "DONE") {
    EXPECT_FALSE(job.running()) << what;
    EXPECT_TRUE(job.successful()) << what;
    EXPECT_EQ(job.progress(), 100) << what;
    EXPECT_EQ(job.status_map().count("error_message"), 0u) << what;
  } else if (s == "ERROR" || s == "CANCELLED") {
    EXPECT_FALSE(job.running()) << what;
    EXPECT_FALSE(job.successful()) << what;
    EXPECT_TRUE(job.job_response().empty()) << what;
    EXPECT_TRUE(job.job_response_str().empty()) << what;
    if (s == "ERROR") EXPECT_FALSE(At(job.status_map(), "error_message").empty()) << what;
  } else {
    ADD_FAILURE() << what << ": job_status '" << s << "'";
  }
}

// ---------------------------------------------------------------------------
// Client.

void Client::Prepare(grpc::ClientContext* context, int timeout_s) const {
  context->set_deadline(In(timeout_s));
  if (!authorization_.empty()) context->AddMetadata("authorization", authorization_);
}

void Client::Transport(const grpc::Status& status, pb::GpudbResponse* response) {
  ADD_FAILURE() << "gRPC call failed: " << status.error_code() << " " << status.error_message();
  response->set_status("TRANSPORT");
  response->set_message(status.error_message());
}

grpc::Status Client::TryExecute(const pb::ExecuteRequest& request, pb::GpudbResponse* response, int timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  return stub_->Execute(&context, request, response);
}
grpc::Status Client::TryCreateJob(const pb::CreateJobRequest& request, pb::GpudbResponse* response,
                                  int timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  return stub_->CreateJob(&context, request, response);
}
grpc::Status Client::TryGetJob(const pb::GetJobRequest& request, pb::GpudbResponse* response, int timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  return stub_->GetJob(&context, request, response);
}

pb::GpudbResponse Client::Execute(const pb::ExecuteRequest& request) {
  pb::GpudbResponse response;
  const grpc::Status status = TryExecute(request, &response);
  if (!status.ok()) Transport(status, &response);
  return response;
}
pb::GpudbResponse Client::CreateJob(const pb::CreateJobRequest& request) {
  pb::GpudbResponse response;
  const grpc::Status status = TryCreateJob(request, &response);
  if (!status.ok()) Transport(status, &response);
  return response;
}
pb::GpudbResponse Client::GetJob(const pb::GetJobRequest& request) {
  pb::GpudbResponse response;
  const grpc::Status status = TryGetJob(request, &response);
  if (!status.ok()) Transport(status, &response);
  return response;
}

pb::GpudbResponse Client::ExecuteRaw(const std::string& endpoint, const std::optional<std::string>& encoding,
                                     const std::string& data, const std::string& data_str) {
  pb::ExecuteRequest r;
  r.set_endpoint(endpoint);
  if (encoding) r.set_request_encoding(*encoding);
  r.set_data(data);
  r.set_data_str(data_str);
  return Execute(r);
}
pb::GpudbResponse Client::ExecuteJson(const std::string& endpoint, const json& request) {
  return ExecuteRaw(endpoint, "json", "", request.dump());
}
pb::GpudbResponse Client::ExecuteBinary(const std::string& endpoint, const google::protobuf::Message& request) {
  return ExecuteRaw(endpoint, "binary", request.SerializeAsString(), "");
}
pb::GpudbResponse Client::ExecuteSnappy(const std::string& endpoint, const google::protobuf::Message& request) {
  return ExecuteRaw(endpoint, "snappy", Snappy(request.SerializeAsString()), "");
}

json Client::Json(const std::string& endpoint, const json& request, const std::string& data_type) {
  const pb::GpudbResponse r = ExecuteJson(endpoint, request);
  EXPECT_EQ(r.status(), "OK") << endpoint << ": " << r.message();
  EXPECT_EQ(r.data_type(), data_type) << endpoint;
  EXPECT_TRUE(r.data().empty()) << endpoint;
  json parsed = json::parse(r.data_str(), nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << endpoint << ": data_str is not JSON: " << r.data_str();
  return parsed.is_discarded() ? json::object() : parsed;
}

std::pair<int64_t, std::string> Client::Submit(const std::string& endpoint, const std::string& encoding,
                                               const std::string& payload,
                                               const std::map<std::string, std::string>& options) {
  pb::CreateJobRequest request;
  request.set_endpoint(endpoint);
  request.set_request_encoding(encoding);
  if (encoding == "json")
    request.set_data_str(payload);
  else
    request.set_data(payload);
  for (const auto& [k, v] : options) (*request.mutable_options())[k] = v;
  const pb::GpudbResponse r = CreateJob(request);
  EXPECT_EQ(r.status(), "OK") << "CreateJob " << endpoint << ": " << r.message();
  EXPECT_EQ(r.data_type(), "create_job_response");
  EXPECT_TRUE(r.data_str().empty());
  pb::CreateJobResponse created;
  if (r.status() != "OK" || !created.ParseFromString(r.data())) {
    ADD_FAILURE() << "CreateJob " << endpoint << " gave no job";
    return {0, ""};
  }
  EXPECT_GT(created.job_id(), 0);
  const std::string tag = At(created.info(), "job_tag");
  EXPECT_FALSE(tag.empty());
  if (auto it = options.find("job_tag"); it != options.end()) EXPECT_EQ(tag, it->second);
  return {created.job_id(), tag};
}
std::pair<int64_t, std::string> Client::SubmitJson(const std::string& endpoint, const json& request,
                                                   const std::map<std::string, std::string>& options) {
  return Submit(endpoint, "json", request.dump(), options);
}
std::pair<int64_t, std::string> Client::SubmitBinary(const std::string& endpoint,
                                                     const google::protobuf::Message& request,
                                                     const std::map<std::string, std::string>& options) {
  return Submit(endpoint, "binary", request.SerializeAsString(), options);
}

pb::GpudbResponse Client::Poll(int64_t id, const std::string& tag, pb::GetJobResponse* job, int64_t wait_ms) {
  pb::GetJobRequest request;
  if (tag.empty())
    request.set_job_id(id);
  else
    (*request.mutable_options())["job_tag"] = tag;
  if (wait_ms >= 0) (*request.mutable_options())["wait_timeout_ms"] = std::to_string(wait_ms);
  pb::GpudbResponse r = GetJob(request);
  if (r.status() != "OK") return r;
  EXPECT_EQ(r.data_type(), "get_job_response");
  EXPECT_TRUE(job->ParseFromString(r.data()));
  if (!tag.empty()) EXPECT_EQ(At(job->info(), "job_tag"), tag);
  ExpectConsistentJob(*job, "GetJob " + (tag.empty() ? std::to_string(id) : tag));
  return r;
}

pb::GetJobResponse Client::Wait(int64_t id, const std::string& tag) {
  pb::GetJobResponse job;
  bool failed = false;
  const bool finished = PollUntil(
      [&] {
        job.Clear();
        const pb::GpudbResponse r = Poll(id, tag, &job);
        if (r.status() != "OK") {
          ADD_FAILURE() << "GetJob " << (tag.empty() ? std::to_string(id) : tag) << ": " << r.message();
          failed = true;
        }
        return failed || !job.running();
      },
      std::chrono::seconds(60), std::chrono::milliseconds(2));
  if (!finished) ADD_FAILURE() << "job " << id << " " << tag << " did not finish";
  return job;
}

pb::GetJobResponse Client::WaitFinished(int64_t id, const std::string& tag) {
  pb::GetJobResponse job;
  const pb::GpudbResponse r = Poll(id, tag, &job, /*wait_ms=*/50000);
  if (r.status() != "OK") {
    ADD_FAILURE() << "GetJob " << (tag.empty() ? std::to_string(id) : tag) << ": " << r.message();
  } else if (job.running()) {
    ADD_FAILURE() << "job " << id << " " << tag << " did not finish within 50 s";
  }
  return job;
}

json Client::WaitJson(int64_t id, const std::string& tag) {
  const pb::GetJobResponse job = Wait(id, tag);
  EXPECT_EQ(job.job_status(), "DONE") << At(job.status_map(), "error_message");
  EXPECT_EQ(job.response_encoding(), "json");
  EXPECT_TRUE(job.job_response().empty());
  json parsed = json::parse(job.job_response_str(), nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << job.job_response_str();
  return parsed.is_discarded() ? json::object() : parsed;
}

std::vector<pb::GpudbResponse> Client::Watch(int64_t id, const std::string& tag, grpc::Status* status,
                                             const std::function<void(const pb::GpudbResponse&)>& on_message) {
  pb::GetJobRequest request;
  if (tag.empty())
    request.set_job_id(id);
  else
    (*request.mutable_options())["job_tag"] = tag;
  grpc::ClientContext context;
  Prepare(&context, 60);
  std::unique_ptr<grpc::ClientReader<pb::GpudbResponse>> reader = stub_->WatchJob(&context, request);
  std::vector<pb::GpudbResponse> messages;
  pb::GpudbResponse message;
  while (reader->Read(&message)) {
    if (on_message) on_message(message);
    messages.push_back(message);
  }
  const grpc::Status finished = reader->Finish();
  if (status != nullptr) {
    *status = finished;
  } else {
    EXPECT_TRUE(finished.ok()) << "WatchJob " << id << " " << tag << ": " << finished.error_code() << " "
                               << finished.error_message();
  }
  return messages;
}

// ---------------------------------------------------------------------------
// StreamGate.

StreamGate::StreamGate(engine::Engine& engine) : opened_(gate_.get_future().share()) {
  for (const auto& device : engine.devices()) {
    for (int s = 0; s < device->stream_count(); ++s) {
      std::promise<void> started;
      std::future<void> running = started.get_future();
      device->stream(s).Post([opened = opened_, started = std::make_shared<std::promise<void>>(std::move(started))] {
        started->set_value();
        opened.wait();
      });
      running.wait();  // the worker is now inside the blocker
    }
  }
}

void StreamGate::Open() {
  if (!open_) gate_.set_value();
  open_ = true;
}

// ---------------------------------------------------------------------------
// References and floods.

int64_t CountAbove(const std::vector<int64_t>& values, int64_t threshold) {
  return static_cast<int64_t>(std::count_if(values.begin(), values.end(), [&](int64_t v) { return v > threshold; }));
}

void Flood::Run(int threads, const std::function<void(int thread)>& body) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) running.emplace_back(body, t);
  for (std::thread& th : running) th.join();
}

void Flood::Accepted(int64_t id, int64_t threshold) {
  std::lock_guard<std::mutex> lock(mu_);
  accepted_.emplace_back(id, threshold);
}

void Flood::Refused() {
  std::lock_guard<std::mutex> lock(mu_);
  ++refused_;
}

std::vector<std::pair<int64_t, int64_t>> Flood::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

int Flood::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

// ---------------------------------------------------------------------------
// The fixture.

server::ServerOptions TestServerOptions(const std::string& devices) {
  server::ServerOptions options;
  options.host = "127.0.0.1";
  options.grpc_port = 0;
  options.engine.devices.spec = devices;
  // Tables spread over every device even at test sizes, so that the
  // end-to-end tests (answers against references) cover the shard paths.
  options.engine.limits.spread_chunk_rows = 64;
  return options;
}

void ServerTest::StartServer(const server::ServerOptions& options) {
  auto server = server::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  ASSERT_GT(server_->grpc_port(), 0);
  channel_ = NewChannel();
  client_ = std::make_unique<Client>(channel_);
}

std::shared_ptr<grpc::Channel> ServerTest::NewChannel() const {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                             grpc::InsecureChannelCredentials());
}

void ServerTest::ExpectServing() {
  const json r = client_->Json("/has/table", {{"table_name", "anything"}}, "has_table_response");
  EXPECT_EQ(r.value("table_exists", true), false);
}

void ServerTest::MakeRandomTable(const std::string& table, const std::string& columns, int64_t count, int seed) {
  client_->Json("/create/table", {{"table_name", table}, {"type_id", columns}}, "create_table_response");
  const json r = client_->Json("/insert/records/random",
                               {{"table_name", table}, {"count", count}, {"options", {{"seed", {{"value", seed}}}}}},
                               "insert_records_random_response");
  EXPECT_EQ(r.value("count", -1), count);
}

}  // namespace gpudb_test
