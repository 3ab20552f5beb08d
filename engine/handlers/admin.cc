// /admin/alter/jobs, /admin/show/jobs, /show/system/status,
// /show/system/properties: run at submission (AdminContext).

#include <cinttypes>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "engine/api/options.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"

namespace engine {
namespace {

// The version of Kinetica whose API this server speaks; clients read it from
// /show/system/properties.
constexpr absl::string_view kCoreVersion = "7.2.2.0";

// A memory figure of this process from /proc/self/status (`field` is
// "VmHWM:" for the peak resident size, "VmRSS:" for the current one), or 0
// when unknown.
int64_t ProcessBytes(absl::string_view field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  int64_t kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (absl::string_view(line).substr(0, field.size()) == field) {
      std::sscanf(line + field.size(), "%" SCNd64, &kib);
      break;
    }
  }
  std::fclose(f);
  return kib * 1024;
}

absl::StatusOr<Json> AlterJobs(AdminContext& ctx, const Json& request) {
  const std::string& action = StringField(request, "action");
  if (action != "cancel") {
    return absl::InvalidArgumentError(absl::StrCat("action: '", action, "' is not supported; the action is 'cancel'"));
  }
  std::vector<int64_t> ids = request["job_ids"].get<std::vector<int64_t>>();
  if (const std::string* tag = FindOption(request["options"], "job_tag")) {
    auto job = ctx.jobs.GetByTag(*tag, /*consume=*/false, ctx.caller);
    if (!job.ok()) return job.status();
    ids.push_back(job->id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("job_ids: no job given; give job_ids or options.job_tag");
  Json status = Json::array();
  for (int64_t id : ids) status.push_back(ctx.jobs.Cancel(id, ctx.caller));
  return Json{{"job_ids", ids}, {"action", action}, {"status", status}, {"info", Json::object()}};
}

absl::StatusOr<Json> ShowJobs(AdminContext& ctx, const Json& request) {
  auto show_async = BoolOption(request, "show_async_jobs", false);
  if (!show_async.ok()) return show_async.status();
  auto show_worker = BoolOption(request, "show_worker_info", false);
  if (!show_worker.ok()) return show_worker.status();
  Json ids = Json::array(), status = Json::array(), endpoints = Json::array(), received = Json::array(),
       auth = Json::array(), source = Json::array(), query = Json::array(), user_data = Json::array(),
       flags = Json::array(), tags = Json::array(), workers = Json::array();
  for (const JobSnapshot& job : ctx.jobs.List()) {
    // Finished async jobs only when asked; finished synchronous ones are
    // gone. Other users' jobs only for the administrator.
    if (job.finished() && !*show_async) continue;
    if (!MaySee(ctx.caller, job)) continue;
    ids.push_back(job.id);
    status.push_back(JobStatusName(job.state));
    endpoints.push_back(job.endpoint);
    received.push_back(job.time_received_ms);
    auth.push_back(job.auth_id);
    source.push_back(job.source_ip);
    query.push_back("");
    user_data.push_back(job.user_data);
    flags.push_back(job.async ? "async" : "sync");
    tags.push_back(job.tag);
    workers.push_back(Json{{"job_id", job.id}, {"worker", job.worker}, {"progress", job.progress}});
  }
  // info is one map for all jobs: per-job values go in JSON arrays parallel
  // to job_id.
  Json info = Json{{"job_tag", engine::DumpJson(tags)}};
  if (*show_worker) info["worker_info"] = engine::DumpJson(workers);
  return Json{{"job_id", ids},   {"status", status},    {"endpoint_name", endpoints}, {"time_received", received},
              {"auth_id", auth}, {"source_ip", source}, {"query_text", query},        {"user_data", user_data},
              {"flags", flags},  {"info", info}};
}

absl::StatusOr<Json> SystemStatus(AdminContext& ctx, const Json&) {
  Json devices = Json::array();
  for (const auto& d : ctx.devices) {
    devices.push_back(Json{{"name", d->name()},
                           {"memory_limit", d->memory().limit()},
                           {"memory_in_use", d->memory().in_use()},
                           {"memory_peak", d->memory().peak()},
                           {"memory_cached", d->memory().cached()},
                           {"streams", d->stream_count()},
                           {"pending", d->pending()}});
  }
  const Json system = Json{{"status", ctx.draining ? "draining" : "running"},
                           {"devices", devices},
                           {"jobs", ctx.jobs.size()},
                           {"job_tombstones", ctx.jobs.records() - ctx.jobs.size()},
                           {"result_bytes", ctx.jobs.result_bytes()},
                           {"tables", ctx.catalog.List().size()},
                           {"host_resident_bytes", ProcessBytes("VmRSS:")},
                           {"host_peak_resident_bytes", ProcessBytes("VmHWM:")}};
  return Json{{"status_map", Json{{"system", engine::DumpJson(system)}}}, {"info", Json::object()}};
}

// Besides the version: one rank, so no worker HTTP servers. Kinetica's
// clients read conf.enable_worker_http_servers when they set up multi-head
// I/O (GPUdbTable's use_multihead_io); FALSE sends every insert and read to
// the head node, the server the client connected to.
absl::StatusOr<Json> SystemProperties(AdminContext& ctx, const Json&) {
  std::string names;
  for (const auto& d : ctx.devices) absl::StrAppend(&names, names.empty() ? "" : ",", d->name());
  return Json{{"property_map", Json{{"version.gpudb_core_version", kCoreVersion},
                                    {"conf.devices", names},
                                    {"conf.max_get_records_size", absl::StrCat(ctx.limits.max_get_records_size)},
                                    {"conf.enable_worker_http_servers", "FALSE"}}},
              {"info", Json::object()}};
}

absl::StatusOr<std::vector<Access>> NoAccess(const Json&) { return std::vector<Access>{}; }

Handler Admin(absl::StatusOr<Json> (*run)(AdminContext&, const Json&)) {
  Handler h;
  h.access = NoAccess;
  h.run_admin = run;
  return h;
}

}  // namespace

void AddAdminHandlers(HandlerMap* handlers) {
  (*handlers)["/admin/alter/jobs"] = Admin(AlterJobs);
  (*handlers)["/admin/show/jobs"] = Admin(ShowJobs);
  (*handlers)["/show/system/status"] = Admin(SystemStatus);
  (*handlers)["/show/system/properties"] = Admin(SystemProperties);
}

}  // namespace engine
