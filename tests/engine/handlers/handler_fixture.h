#pragma once

// The fixture of the handler tests that call endpoints one at a time through
// the engine (Engine::Submit, then the job's final record): an engine on
// GPUDB_TEST_DEVICES if set, else one host device, and three ways to call:
//   - Run: a job that must succeed; its response;
//   - Error: a job, or its submission, that must fail; its message;
//   - Submit + Await: jobs in flight together.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "tests/common/job_watch.h"

namespace engine {

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* devices = std::getenv("GPUDB_TEST_DEVICES");
    EngineOptions options;
    options.devices.spec = devices != nullptr && *devices != '\0' ? devices : "host:1";
    options.devices.streams_per_device = 2;
    options.devices.memory_limit = size_t{256} << 20;
    auto engine = Engine::Create(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  absl::StatusOr<int64_t> Submit(const std::string& endpoint, Json request) {
    JobRequest job;
    job.endpoint = FindEndpoint(endpoint);
    EXPECT_NE(job.endpoint, nullptr) << endpoint;
    job.request = std::move(request);
    auto submitted = engine_->Submit(std::move(job));
    if (!submitted.ok()) return submitted.status();
    return submitted->id;
  }

  JobSnapshot Await(int64_t id) { return gpudb_test::AwaitFinished(*engine_, id); }

  Json Run(const std::string& endpoint, Json request) {
    const std::string text = request.dump();
    auto id = Submit(endpoint, std::move(request));
    EXPECT_TRUE(id.ok()) << endpoint << " " << text << ": " << id.status();
    if (!id.ok()) return Json::object();
    JobSnapshot job = Await(*id);
    EXPECT_EQ(job.state, JobState::kDone) << endpoint << " " << text << ": " << job.error;
    return job.state == JobState::kDone && job.response != nullptr ? *job.response : Json::object();
  }

  std::string Error(const std::string& endpoint, Json request) {
    auto id = Submit(endpoint, std::move(request));
    if (!id.ok()) return std::string(id.status().message());
    JobSnapshot job = Await(*id);
    EXPECT_EQ(job.state, JobState::kError) << endpoint << " did not fail";
    return job.error;
  }

  std::unique_ptr<Engine> engine_;
};

}  // namespace engine
