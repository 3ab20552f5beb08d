#pragma once

// Shared helpers of the end-to-end tests (grpc_e2e_test.cc,
// lifecycle_e2e_test.cc): a gRPC client of gpudb.v1.Gpudb with checks of the
// wrapper and of get_job_response, a gate that parks the engine's streams,
// and a fixture that runs a real server::Server on an ephemeral port of
// 127.0.0.1.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/server.h"

namespace gpudb_test {

namespace pb = gpudb::v1;
using nlohmann::json;

bool Contains(const std::string& text, const std::string& part);

// map[key], or "" when absent.
template <typename Map>
std::string At(const Map& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? std::string() : std::string(it->second);
}

// A raw snappy block (no framing) of `raw`.
std::string Snappy(const std::string& raw);

// Expects an error wrapper whose message has every one of `parts`.
void ExpectError(const pb::GpudbResponse& r, const std::vector<std::string>& parts, const std::string& what);

// Checks the consistency rules of a get_job_response (spec §2) for its
// job_status; `what` names the call in failures.
void ExpectConsistentJob(const pb::GetJobResponse& job, const std::string& what);

// A client of one channel. Calls that fail at the gRPC level are reported as
// test failures (and answered with status "TRANSPORT"), except the Try*
// calls, which return the gRPC status.
class Client {
 public:
  explicit Client(std::shared_ptr<grpc::Channel> channel) : stub_(pb::Gpudb::NewStub(channel)) {}

  pb::Gpudb::Stub& stub() { return *stub_; }
  // The `authorization` metadata of every call from now on ("": none).
  void set_authorization(std::string value) { authorization_ = std::move(value); }

  pb::GpudbResponse Execute(const pb::ExecuteRequest& request);
  pb::GpudbResponse CreateJob(const pb::CreateJobRequest& request);
  pb::GpudbResponse GetJob(const pb::GetJobRequest& request);

  // The calls as they are, with their gRPC status.
  grpc::Status TryExecute(const pb::ExecuteRequest& request, pb::GpudbResponse* response, int timeout_s = 60);
  grpc::Status TryCreateJob(const pb::CreateJobRequest& request, pb::GpudbResponse* response, int timeout_s = 60);
  grpc::Status TryGetJob(const pb::GetJobRequest& request, pb::GpudbResponse* response, int timeout_s = 60);

  // Execute with a given encoding and carriers, as is.
  pb::GpudbResponse ExecuteRaw(const std::string& endpoint, const std::optional<std::string>& encoding,
                               const std::string& data, const std::string& data_str);
  pb::GpudbResponse ExecuteJson(const std::string& endpoint, const json& request);
  pb::GpudbResponse ExecuteBinary(const std::string& endpoint, const google::protobuf::Message& request);
  pb::GpudbResponse ExecuteSnappy(const std::string& endpoint, const google::protobuf::Message& request);

  // A json Execute that must succeed; returns the response record.
  json Json(const std::string& endpoint, const json& request, const std::string& data_type);
  // A binary (or snappy) Execute that must succeed; returns the parsed response.
  template <typename Response>
  Response Binary(const std::string& endpoint, const google::protobuf::Message& request,
                  const std::string& data_type, bool snappy = false) {
    const pb::GpudbResponse r = snappy ? ExecuteSnappy(endpoint, request) : ExecuteBinary(endpoint, request);
    EXPECT_EQ(r.status(), "OK") << endpoint << ": " << r.message();
    EXPECT_EQ(r.data_type(), data_type) << endpoint;
    EXPECT_TRUE(r.data_str().empty()) << endpoint;
    Response parsed;
    EXPECT_TRUE(parsed.ParseFromString(r.data())) << endpoint << ": data is not a " << parsed.GetTypeName();
    return parsed;
  }

  // Submits a job; returns (id, tag), or (0, "") after a failure is reported.
  std::pair<int64_t, std::string> Submit(const std::string& endpoint, const std::string& encoding,
                                         const std::string& payload,
                                         const std::map<std::string, std::string>& options = {});
  std::pair<int64_t, std::string> SubmitJson(const std::string& endpoint, const json& request,
                                             const std::map<std::string, std::string>& options = {});
  std::pair<int64_t, std::string> SubmitBinary(const std::string& endpoint,
                                               const google::protobuf::Message& request,
                                               const std::map<std::string, std::string>& options = {});

  // One GetJob, by id or (when `tag` is not empty) by tag, with
  // options.wait_timeout_ms when `wait_ms` >= 0. Checks the wrapper and the
  // consistency rules of get_job_response.
  pb::GpudbResponse Poll(int64_t id, const std::string& tag, pb::GetJobResponse* job, int64_t wait_ms = -1);

  // Polls GetJob (short backoff) until the job has finished.
  pb::GetJobResponse Wait(int64_t id, const std::string& tag = "");
  // Waits for the job to finish with GetJob's wait_timeout_ms (no polling).
  pb::GetJobResponse WaitFinished(int64_t id, const std::string& tag = "");
  // Waits for a job that must succeed with a json response.
  json WaitJson(int64_t id, const std::string& tag = "");
  // Waits for a job that must succeed with a binary response.
  template <typename Response>
  Response WaitBinary(int64_t id, const std::string& tag = "") {
    const pb::GetJobResponse job = Wait(id, tag);
    EXPECT_EQ(job.job_status(), "DONE") << At(job.status_map(), "error_message");
    EXPECT_EQ(job.response_encoding(), "binary");
    EXPECT_TRUE(job.job_response_str().empty());
    Response parsed;
    EXPECT_TRUE(parsed.ParseFromString(job.job_response()));
    return parsed;
  }

  // Every message of WatchJob on the job (by tag when `tag` is not empty),
  // until the server ends the stream; `status` gets the stream's status.
  // `on_message`, when given, sees each message as it arrives.
  std::vector<pb::GpudbResponse> Watch(int64_t id, const std::string& tag = "", grpc::Status* status = nullptr,
                                       const std::function<void(const pb::GpudbResponse&)>& on_message = nullptr);

 private:
  static void Transport(const grpc::Status& status, pb::GpudbResponse* response);
  // Sets a call's deadline and metadata.
  void Prepare(grpc::ClientContext* context, int timeout_s) const;

  std::unique_ptr<pb::Gpudb::Stub> stub_;
  std::string authorization_;
};

// Blocks every stream of every device until opened (or destroyed), so that
// jobs submitted meanwhile stay queued: a deterministic way to see RUNNING.
class StreamGate {
 public:
  explicit StreamGate(engine::Engine& engine);
  ~StreamGate() { Open(); }
  void Open();

 private:
  std::promise<void> gate_;
  std::shared_future<void> opened_;
  bool open_ = false;
};

// How many of `values` are above `threshold`: the count of a filter "k > threshold".
int64_t CountAbove(const std::vector<int64_t>& values, int64_t threshold);

// Submissions from several threads at once to a server that queues only so
// many jobs: the jobs accepted, with the threshold each submission carried,
// and how many were refused. Thread-safe.
class Flood {
 public:
  // Runs body(thread) on `threads` threads at once; returns when all are done.
  void Run(int threads, const std::function<void(int thread)>& body);
  void Accepted(int64_t id, int64_t threshold);
  void Refused();
  // (job id, threshold) of each accepted submission.
  std::vector<std::pair<int64_t, int64_t>> accepted() const;
  int refused() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> accepted_;
  int refused_ = 0;
};

// Server options for a test server: 127.0.0.1, a free port, `devices`, and
// tables spread over the devices from 64 rows on (--spread-chunk-rows).
server::ServerOptions TestServerOptions(const std::string& devices);

// The fixture: a real server per test, a channel and a client.
class ServerTest : public ::testing::Test {
 protected:
  // Starts the server (fails the test when it cannot).
  void StartServer(const server::ServerOptions& options);
  // A new channel to the server.
  std::shared_ptr<grpc::Channel> NewChannel() const;

  // A call that must succeed: the server is still serving.
  void ExpectServing();
  // Creates `table` with the compact list and fills it with `count` random rows.
  void MakeRandomTable(const std::string& table, const std::string& columns, int64_t count, int seed);

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Client> client_;
};

}  // namespace gpudb_test
