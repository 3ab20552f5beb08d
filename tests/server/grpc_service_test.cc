// The two ways a job's description is written: WriteGetJobResponse (the gRPC
// service, straight into the protobuf message) must carry what
// GetJobResponseRecord encoded by ProtobufCodec carries (Execute of
// /get/job), for every state a job can be in; JobApi's millisecond figures
// must read as StrFormat("%.3f") would write them.

#include "server/grpc_service.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "engine/engine.h"
#include "proto/gpudb.pb.h"
#include "server/codec.h"
#include "server/job_api.h"

namespace server {
namespace {

using engine::Json;
using engine::JobSnapshot;
using engine::JobState;

class GetJobResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.devices.spec = "host";
    options.devices.streams_per_device = 1;
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status();
    engine_ = *std::move(created);
    api_ = std::make_unique<JobApi>(*engine_, codec_, size_t{256} << 20);
  }

  // The generic path: the record, then the codec's encoding of it.
  gpudb::v1::GpudbResponse Generic(const JobSnapshot& job) {
    auto described = api_->Describe(job);
    EXPECT_TRUE(described.ok()) << described.status();
    auto wrapped = api_->Wrap(*engine::FindRecord("get_job_response"), GetJobResponseRecord(*described), "binary");
    EXPECT_TRUE(wrapped.ok()) << wrapped.status();
    gpudb::v1::GpudbResponse out;
    out.set_status(wrapped->status);
    out.set_message(wrapped->message);
    out.set_data_type(wrapped->data_type);
    out.set_data(wrapped->data);
    out.set_data_str(wrapped->data_str);
    return out;
  }

  void ExpectSame(const JobSnapshot& job) {
    const gpudb::v1::GpudbResponse want = Generic(job);
    gpudb::v1::GpudbResponse got;
    got.set_message("left over from an earlier use");  // must be cleared
    ASSERT_TRUE(Direct(job, &got));
    EXPECT_EQ(got.status(), want.status());
    EXPECT_EQ(got.message(), want.message());
    EXPECT_EQ(got.data_type(), want.data_type());
    EXPECT_EQ(got.data_str(), want.data_str());
    gpudb::v1::GetJobResponse got_record, want_record;
    ASSERT_TRUE(got_record.ParseFromString(got.data()));
    ASSERT_TRUE(want_record.ParseFromString(want.data()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got_record, want_record))
        << "direct:  " << got_record.ShortDebugString() << "\ngeneric: " << want_record.ShortDebugString();
  }

  // The gRPC service's path; false when the job cannot be described.
  bool Direct(const JobSnapshot& job, gpudb::v1::GpudbResponse* out) {
    auto described = api_->Describe(job);
    if (!described.ok()) return false;
    WriteGetJobResponse(*std::move(described), out);
    return true;
  }

  static JobSnapshot Job(JobState state, const std::string& encoding) {
    JobSnapshot job;
    job.id = 7;
    job.tag = "0123456789abcdef0123456789abcdef";
    job.endpoint = "/has/table";
    job.request_encoding = encoding;
    job.state = state;
    job.received_us = 1700000000000000;
    return job;
  }

  ProtobufCodec codec_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<JobApi> api_;
};

TEST_F(GetJobResponseTest, QueuedAndRunning) {
  JobSnapshot job = Job(JobState::kQueued, "binary");
  ExpectSame(job);  // no queue_ms yet
  job.state = JobState::kRunning;
  job.progress = 42;
  job.started_us = job.received_us + 1234;
  ExpectSame(job);  // queue_ms, no execution_ms yet
}

TEST_F(GetJobResponseTest, DoneBinaryJsonAndSnappy) {
  for (const char* encoding : {"binary", "json", "snappy"}) {
    SCOPED_TRACE(encoding);
    JobSnapshot job = Job(JobState::kDone, encoding);
    job.progress = 100;
    job.started_us = job.received_us + 15;
    job.finished_us = job.started_us + 3;
    job.response = std::make_shared<const Json>(
        Json{{"table_name", "t \xc3\xa9"}, {"table_exists", true}, {"info", Json{{"k", "v"}}}});
    ExpectSame(job);
    gpudb::v1::GpudbResponse got;
    ASSERT_TRUE(Direct(job, &got));
    gpudb::v1::GetJobResponse record;
    ASSERT_TRUE(record.ParseFromString(got.data()));
    EXPECT_EQ(record.response_encoding(), std::string(encoding) == "json" ? "json" : "binary");
    EXPECT_EQ(record.info().at("queue_ms"), "0.015");
    EXPECT_EQ(record.info().at("execution_ms"), "0.003");
  }
}

TEST_F(GetJobResponseTest, ErrorAndCancelled) {
  JobSnapshot job = Job(JobState::kError, "binary");
  job.error = "table_name: 'x' does not exist";
  job.started_us = job.received_us + 2;
  job.finished_us = job.started_us + 2000001;
  ExpectSame(job);
  job.state = JobState::kCancelled;
  job.error = "cancelled before it started";
  job.started_us = job.finished_us = 0;
  ExpectSame(job);
}

TEST_F(GetJobResponseTest, UnencodableResponseIsAnError) {
  JobSnapshot job = Job(JobState::kDone, "binary");
  job.response = std::make_shared<const Json>(Json{{"table_name", 5}});  // not a string
  gpudb::v1::GpudbResponse got;
  EXPECT_FALSE(Direct(job, &got));
  EXPECT_FALSE(api_->Describe(job).ok());
}

// info[key] of a description, or "" when it leaves the key out.
std::string Info(const JobDescription& d, const std::string& key) {
  for (const auto& [k, v] : d.info) {
    if (k == key) return v;
  }
  return "";
}

TEST(JobApiTest, MillisecondsReadAsPrintfWould) {
  ProtobufCodec codec;
  engine::EngineOptions options;
  options.devices.spec = "host";
  auto engine = engine::Engine::Create(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  JobApi api(**engine, codec, size_t{256} << 20);
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{9}, int64_t{10}, int64_t{999}, int64_t{1000},
                     int64_t{1001}, int64_t{123456}, int64_t{86400000000}, int64_t{-1}, int64_t{-999},
                     int64_t{-1000}, int64_t{-123456}}) {
    JobSnapshot job;
    job.received_us = 1000000;
    job.started_us = job.received_us + us;
    job.finished_us = job.started_us + us;
    if (job.started_us <= 0) continue;
    job.state = JobState::kError;
    auto described = api.Describe(job);
    ASSERT_TRUE(described.ok()) << described.status();
    EXPECT_EQ(Info(*described, "queue_ms"), absl::StrFormat("%.3f", us / 1000.0)) << us;
    EXPECT_EQ(Info(*described, "execution_ms"), job.finished_us > 0 ? absl::StrFormat("%.3f", us / 1000.0) : "")
        << us;
  }
  JobSnapshot queued;
  auto described = api.Describe(queued);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(Info(*described, "queue_ms"), "");
  EXPECT_EQ(Info(*described, "execution_ms"), "");
}

}  // namespace
}  // namespace server
