#include "engine/storage/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "engine/jobs/device.h"
#include "engine/storage/format.h"
#include "engine/storage/segment.h"
#include "engine/table/names.h"
#include "engine/table/record_codec.h"
#include "kernels/host_threads.h"

namespace engine::storage {
namespace {

// Record kinds in the log.
enum Kind : uint32_t {
  kAddType = 1,
  kAddSchema = 2,
  kDropSchema = 3,
  kAddTable = 4,
  kDropTable = 5,
  kAppend = 6,
  kReplace = 7,
  kMetadata = 8,
  kJob = 9,
  kSyncPolicy = 10,
  kDelete = 11,
  kUpdate = 12,
  kRedefine = 13,
  kForgetJobs = 14,
};

// Ranks as a blob: int64 little-endian each.
std::string RanksBlob(const std::vector<int64_t>& ranks) {
  std::string out(ranks.size() * 8, '\0');
  for (size_t i = 0; i < ranks.size(); ++i) PutU64(static_cast<uint64_t>(ranks[i]), &out[i * 8]);
  return out;
}

// The ranks of a kDelete or kUpdate record (its blob `blob`), each checked
// against the table's `rows`.
absl::StatusOr<std::vector<int64_t>> ParseRanks(const ParsedBody& body, size_t blob, int64_t rows,
                                                const std::string& name) {
  if (body.blobs.size() <= blob || body.blobs[blob].size() % 8 != 0) {
    return absl::DataLossError(absl::StrCat("a change of table '", name, "' has no valid row list"));
  }
  std::vector<int64_t> ranks(body.blobs[blob].size() / 8);
  for (size_t i = 0; i < ranks.size(); ++i) {
    ranks[i] = static_cast<int64_t>(GetU64(body.blobs[blob].data() + i * 8));
    if (ranks[i] < 0 || ranks[i] >= rows) {
      return absl::DataLossError(absl::StrCat("a change of table '", name, "' names row ", ranks[i], " of ", rows));
    }
  }
  return ranks;
}

constexpr char kInterrupted[] = "interrupted by a server restart";

std::string LogName(int64_t n) { return absl::StrFormat("log-%06d.wal", n); }

absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return IoError(errno, "create", path);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("data directory: ", path, " is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "open", path);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : IoError(err, "sync", path);
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The number of a log file's name, or -1.
int64_t LogNumber(absl::string_view name) {
  int64_t n = -1;
  if (!absl::ConsumePrefix(&name, "log-") || !absl::ConsumeSuffix(&name, ".wal") || !absl::SimpleAtoi(name, &n)) {
    return -1;
  }
  return n;
}

// Writes `text` to `path` atomically: a temporary file, synced, renamed
// over it, the directory synced.
absl::Status WriteAtomically(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string tmp = absl::StrCat(dir, "/", name, ".tmp");
  const std::string path = absl::StrCat(dir, "/", name);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(errno, "create", tmp);
  int err = WriteAt(fd, {text}, 0);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return IoError(err, "write", path);
  }
  return SyncDir(dir);
}

Json JobToJson(const JobSnapshot& j) {
  Json out{{"id", j.id},
           {"tag", j.tag},
           {"endpoint", j.endpoint},
           {"encoding", j.request_encoding},
           {"state", static_cast<int>(j.state)},
           {"progress", j.progress},
           {"error", j.error},
           {"time_received_ms", j.time_received_ms},
           {"received_us", j.received_us},
           {"started_us", j.started_us},
           {"finished_us", j.finished_us},
           {"user_data", j.user_data},
           {"source_ip", j.source_ip},
           {"auth_id", j.auth_id},
           {"worker", j.worker},
           {"remove_on_complete", j.remove_on_complete}};
  if (j.response != nullptr) out["response"] = *j.response;
  return out;
}

absl::StatusOr<JobSnapshot> JobFromJson(const Json& m) {
  try {
    JobSnapshot j;
    j.id = m.at("id").get<int64_t>();
    j.tag = m.at("tag").get<std::string>();
    j.endpoint = m.at("endpoint").get<std::string>();
    j.request_encoding = m.at("encoding").get<std::string>();
    const int state = m.at("state").get<int>();
    if (state < 0 || state > static_cast<int>(JobState::kCancelled)) return absl::DataLossError("job state");
    j.state = static_cast<JobState>(state);
    j.progress = m.at("progress").get<int>();
    j.error = m.at("error").get<std::string>();
    j.time_received_ms = m.at("time_received_ms").get<int64_t>();
    j.received_us = m.at("received_us").get<int64_t>();
    j.started_us = m.at("started_us").get<int64_t>();
    j.finished_us = m.at("finished_us").get<int64_t>();
    j.user_data = m.at("user_data").get<std::string>();
    j.source_ip = m.at("source_ip").get<std::string>();
    j.auth_id = m.at("auth_id").get<std::string>();
    j.worker = m.at("worker").get<std::string>();
    j.remove_on_complete = m.at("remove_on_complete").get<bool>();
    if (m.contains("response")) j.response = std::make_shared<const Json>(m["response"]);
    return j;
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("a job record is not valid: ", e.what()));
  }
}


}  // namespace

// The state recovery builds: the manifest's, then each log record applied.
struct RecoveryState {
  std::set<std::string> schemas;
  std::map<std::string, TableType> types;  // by id
  std::map<std::string, RecoveredTable> tables;  // by qualified name
  std::vector<std::string> order;                // qualified names as created
  std::map<std::string, std::pair<std::string, absl::Status>> unavailable;  // name → file, why
  std::map<int64_t, JobSnapshot> jobs;
  std::set<std::string> changed;  // tables changed by the log since the manifest
  int64_t first_log = 0;          // the first log to replay

  absl::Status Apply(uint32_t kind, const ParsedBody& body);
};

absl::Status RecoveryState::Apply(uint32_t kind, const ParsedBody& body) {
  const Json& m = body.meta;
  const std::string name = m.value("name", "");
  const std::string qualified = name.empty() ? "" : QualifiedTableName(name);
  auto table = tables.find(qualified);
  switch (kind) {
    case kAddType: {
      auto type = TypeFromJson(m.at("type"));
      if (!type.ok()) return type.status();
      types.emplace(type->TypeId(), *type);
      return absl::OkStatus();
    }
    case kAddSchema:
      schemas.insert(name);
      return absl::OkStatus();
    case kDropSchema: {
      schemas.erase(name);
      const std::string prefix = absl::StrCat(name, ".");
      for (auto it = tables.begin(); it != tables.end();) {
        it = absl::StartsWith(it->first, prefix) ? tables.erase(it) : std::next(it);
      }
      for (auto it = unavailable.begin(); it != unavailable.end();) {
        it = absl::StartsWith(it->first, prefix) ? unavailable.erase(it) : std::next(it);
      }
      return absl::OkStatus();
    }
    case kAddTable: {
      auto type = TypeFromJson(m.at("type"));
      if (!type.ok()) return type.status();
      RecoveredTable t{name, *type, {}, "", MakeHostColumns(*type)};
      if (m.contains("metadata")) t.metadata = m["metadata"].get<std::map<std::string, std::string>>();
      t.replicated = m.value("replicated", false);
      unavailable.erase(qualified);
      tables.insert_or_assign(qualified, std::move(t));
      order.push_back(qualified);
      changed.insert(qualified);
      return absl::OkStatus();
    }
    case kDropTable:
      tables.erase(qualified);
      unavailable.erase(qualified);
      return absl::OkStatus();
    case kAppend:
    case kReplace: {
      if (unavailable.count(qualified) != 0) return absl::OkStatus();  // its rows are lost already
      if (table == tables.end()) return absl::DataLossError(absl::StrCat("rows for table '", name, "', not created"));
      if (kind == kReplace) table->second.columns = MakeHostColumns(table->second.type);
      size_t next = 0;
      changed.insert(qualified);
      return AppendRows(m.at("columns"), body.blobs, &next, &table->second.columns);
    }
    case kDelete:
    case kUpdate: {
      if (unavailable.count(qualified) != 0) return absl::OkStatus();
      if (table == tables.end())
        return absl::DataLossError(absl::StrCat("a change of table '", name, "', not created"));
      std::vector<HostColumn>& columns = table->second.columns;
      const int64_t rows = columns.empty() ? 0 : columns[0].size;
      auto ranks = ParseRanks(body, 0, rows, name);
      if (!ranks.ok()) return ranks.status();
      const bool deletes_too = m.value("deleted", false);
      std::vector<int64_t> deleted;
      if (deletes_too) {
        auto d = ParseRanks(body, 1, rows, name);
        if (!d.ok()) return d.status();
        deleted = *std::move(d);
      }
      changed.insert(qualified);
      // kUpdate: the updated columns' new values.
      std::vector<int> updated_columns;
      if (kind == kUpdate) updated_columns = m.at("updated_columns").get<std::vector<int>>();
      std::vector<ColumnDef> updated_defs;
      for (int c : updated_columns) {
        if (c < 0 || c >= static_cast<int>(columns.size())) {
          return absl::DataLossError(absl::StrCat("an update of table '", name, "' names column ", c));
        }
        updated_defs.push_back(table->second.type.column(c));
      }
      std::vector<HostColumn> values = MakeHostColumns(TableType(updated_defs, ""));
      std::vector<int> value_of(columns.size(), -1);  // column -> its index in values
      for (size_t i = 0; i < updated_columns.size(); ++i) value_of[updated_columns[i]] = static_cast<int>(i);
      if (kind == kUpdate) {
        size_t next = deletes_too ? 2 : 1;
        if (absl::Status s = AppendRows(m.at("columns"), body.blobs, &next, &values); !s.ok()) return s;
        if (!values.empty() && values[0].size != static_cast<int64_t>(ranks->size())) {
          return absl::DataLossError(absl::StrCat("an update of table '", name, "' has ", values[0].size, " rows for ",
                                                  ranks->size(), " row numbers"));
        }
      }
      // Each row: as it was, its new value (kUpdate) or gone (kDelete, -2).
      std::vector<int64_t> source(static_cast<size_t>(rows), -1);
      for (size_t i = 0; i < ranks->size(); ++i) source[(*ranks)[i]] = kind == kDelete ? -2 : static_cast<int64_t>(i);
      for (int64_t r : deleted) source[r] = -2;
      std::vector<HostColumn> changed_columns = MakeHostColumns(table->second.type);
      for (size_t c = 0; c < columns.size(); ++c) {
        changed_columns[c].Reserve(rows);
        for (int64_t r = 0; r < rows; ++r) {
          if (source[r] == -1 || (source[r] >= 0 && value_of[c] < 0)) {
            changed_columns[c].AppendRowOf(columns[c], r);
          } else if (source[r] >= 0) {
            changed_columns[c].AppendRowOf(values[value_of[c]], source[r]);
          }
        }
      }
      columns = std::move(changed_columns);
      return absl::OkStatus();
    }
    case kRedefine: {
      if (table == tables.end())
        return absl::DataLossError(absl::StrCat("a redefinition of table '", name, "', not created"));
      auto type = TypeFromJson(m.at("type"));
      if (!type.ok()) return type.status();
      const std::string new_name = m.at("new_name").get<std::string>();
      RecoveredTable t{new_name, *type, {}, table->second.sync_policy, MakeHostColumns(*type)};
      t.metadata = m.at("metadata").get<std::map<std::string, std::string>>();
      t.replicated = m.value("replicated", false);
      size_t next = 0;
      if (absl::Status s = AppendRows(m.at("columns"), body.blobs, &next, &t.columns); !s.ok()) return s;
      tables.erase(table);
      const std::string renamed = QualifiedTableName(new_name);
      tables.insert_or_assign(renamed, std::move(t));
      order.push_back(renamed);
      changed.insert(renamed);
      return absl::OkStatus();
    }
    case kMetadata: {
      if (table == tables.end()) return absl::OkStatus();
      const auto changes = m.at("metadata").get<std::map<std::string, std::string>>();
      if (changes.empty()) table->second.metadata.clear();
      for (const auto& [k, v] : changes) table->second.metadata[k] = v;
      changed.insert(qualified);
      return absl::OkStatus();
    }
    case kSyncPolicy:
      if (table != tables.end()) table->second.sync_policy = m.at("sync_policy").get<std::string>();
      return absl::OkStatus();
    case kJob: {
      auto job = JobFromJson(m.at("job"));
      if (!job.ok()) return job.status();
      jobs.insert_or_assign(job->id, *std::move(job));
      return absl::OkStatus();
    }
    case kForgetJobs:
      for (const Json& id : m.at("ids")) jobs.erase(id.get<int64_t>());
      return absl::OkStatus();
  }
  return absl::DataLossError(absl::StrCat("unknown record kind ", kind));
}


Store::Store(StorageOptions options, int lock_fd)
    : options_(std::move(options)), lock_fd_(lock_fd), sync_(options_.sync) {}

std::string Store::Path(absl::string_view name) const { return absl::StrCat(options_.data_dir, "/", name); }

absl::Status Store::LoadCheckpoint(RecoveryState* state, Recovered* recovered) {
  // The manifest: the last checkpoint.
  const std::string manifest_path = Path("MANIFEST");
  if (::access(manifest_path.c_str(), F_OK) == 0) {
    auto text = ReadWholeFile(manifest_path);
    if (!text.ok()) return text.status();
    const Json manifest = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("format")) {
      return absl::DataLossError(absl::StrCat(manifest_path, " is damaged (not the JSON of a manifest)"));
    }
    const int64_t format = manifest["format"].get<int64_t>();
    if (format > kFormatVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(manifest_path, ": format version ", format,
                       " was written by a newer server; this server reads versions up to ", kFormatVersion,
                       " (upgrade the server)"));
    }
    try {
      checkpoint_number_ = manifest.at("checkpoint").get<int64_t>();
      state->first_log = manifest.at("log").get<int64_t>();
      for (const Json& s : manifest.at("schemas")) state->schemas.insert(s.get<std::string>());
      for (const Json& t : manifest.at("types")) {
        auto type = TypeFromJson(t);
        if (!type.ok()) return absl::DataLossError(absl::StrCat(manifest_path, ": ", type.status().message()));
        state->types.emplace(type->TypeId(), *type);
      }
      const absl::Time started = absl::Now();
      uint64_t bytes = 0;
      for (const Json& t : manifest.at("tables")) {
        const std::string name = t.at("name").get<std::string>();
        const std::string file = t.at("segment").get<std::string>();
        const std::string qualified = QualifiedTableName(name);
        if (t.contains("unavailable")) {
          state->unavailable[qualified] = {file, absl::DataLossError(t["unavailable"].get<std::string>())};
          continue;
        }
        auto type = TypeFromJson(t.at("type"));
        if (!type.ok()) return absl::DataLossError(absl::StrCat(manifest_path, ": ", type.status().message()));
        RecoveredTable table{name, *type, {}, "", MakeHostColumns(*type)};
        table.metadata = t.at("metadata").get<std::map<std::string, std::string>>();
        table.sync_policy = t.value("sync_policy", "");
        table.replicated = t.value("replicated", false);
        absl::Status read = ReadSegment(Path(file), *type, &table.columns);
        if (!read.ok()) {
          state->unavailable[qualified] = {
              file, absl::DataLossError(absl::StrCat("table '", name, "' is unavailable: ", read.message()))};
          recovered->notes.push_back(std::string(read.message()));
          continue;
        }
        struct stat st;
        if (::stat(Path(file).c_str(), &st) == 0) bytes += static_cast<uint64_t>(st.st_size);
        state->tables.insert_or_assign(qualified, std::move(table));
        state->order.push_back(qualified);
        recovered_segments_[qualified] = file;
      }
      const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
      recovered->notes.push_back(absl::StrFormat("checkpoint %d: %d tables, %.1f MB of segments read in %.3f s",
                                                 checkpoint_number_, state->tables.size(), bytes / 1e6,
                                                 seconds));
    } catch (const std::exception& e) {
      return absl::DataLossError(absl::StrCat(manifest_path, " is damaged: ", e.what()));
    }
  }

  return absl::OkStatus();
}

absl::StatusOr<int64_t> Store::ReplayLogs(RecoveryState* state, Recovered* recovered) {
  // The logs after it, in order, up to the first torn or damaged record.
  std::vector<int64_t> logs;
  for (const std::string& name : ListDir(options_.data_dir)) {
    if (const int64_t n = LogNumber(name); n >= state->first_log && n >= 0) logs.push_back(n);
  }
  std::sort(logs.begin(), logs.end());
  bool stopped = false;
  for (int64_t n : logs) {
    const std::string path = Path(LogName(n));
    if (stopped) {  // after a damaged record nothing later can be applied
      const std::string aside = absl::StrCat(path, ".dropped");
      ::rename(path.c_str(), aside.c_str());
      recovered->notes.push_back(absl::StrCat(LogName(n), ": not replayed (after a damaged record); kept as ", aside));
      continue;
    }
    auto contents = ReadLog(path);
    if (!contents.ok()) return contents.status();
    int64_t applied = 0;
    for (const Frame& f : contents->frames) {
      auto body = ParseBody(f.body);
      absl::Status s = body.ok() ? absl::OkStatus() : body.status();
      if (s.ok()) {
        try {
          s = state->Apply(f.kind, *body);
        } catch (const std::exception& e) {
          s = absl::DataLossError(e.what());
        }
      }
      if (!s.ok()) {
        // A whole record that cannot be applied: stop as at a damaged one.
        contents->problem = absl::DataLossError(absl::StrCat("record ", applied + 1, ": ", s.message()));
        contents->valid_bytes = static_cast<uint64_t>(f.body.data() - contents->bytes.data()) - kFrameHeaderBytes;
        break;
      }
      ++applied;
    }
    replayed_ += applied;
    std::string note = absl::StrCat(LogName(n), ": ", applied, " records replayed");
    if (!contents->problem.ok()) {
      const uint64_t dropped = contents->bytes.size() - contents->valid_bytes;
      if (::truncate(path.c_str(), static_cast<off_t>(contents->valid_bytes)) != 0) {
        return IoError(errno, "truncate", path);
      }
      absl::StrAppend(&note, "; ", dropped, " bytes dropped at byte ", contents->valid_bytes, " (",
                      contents->problem.message(), ")");
      stopped = true;
    }
    recovered->notes.push_back(note);
  }

  return logs.empty() ? 0 : logs.back();
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StorageOptions& options, Recovered* recovered) {
  const std::string& dir = options.data_dir;
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  if (absl::Status s = MakeDir(absl::StrCat(dir, "/segments")); !s.ok()) return s;
  const std::string lock_path = absl::StrCat(dir, "/LOCK");
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return IoError(errno, "create", lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", dir, " is in use by another server (", lock_path, " is locked)"));
  }
  std::unique_ptr<Store> store(new Store(options, lock_fd));
  RecoveryState state;
  if (absl::Status s = store->LoadCheckpoint(&state, recovered); !s.ok()) return s;
  auto last_log = store->ReplayLogs(&state, recovered);
  if (!last_log.ok()) return last_log.status();

  // Hand the state over; jobs that never finished failed with the restart.
  const int64_t now_us = absl::ToUnixMicros(absl::Now());
  const int64_t ttl_us = absl::ToInt64Microseconds(options.job_ttl);
  std::vector<JobSnapshot> interrupted;
  for (auto& [id, job] : state.jobs) {
    if (!job.finished()) {
      job.state = JobState::kError;
      job.error = kInterrupted;
      job.finished_us = now_us;
      interrupted.push_back(job);
    }
    if (now_us - job.finished_us > ttl_us) continue;
    recovered->jobs.push_back(job);
  }
  for (const std::string& s : state.schemas) recovered->schemas.push_back(s);
  for (auto& [id, type] : state.types) recovered->types.push_back(type);
  std::set<std::string> seen;
  for (const std::string& q : state.order) {
    auto it = state.tables.find(q);
    if (it == state.tables.end() || !seen.insert(q).second) continue;
    if (state.changed.count(q) != 0) store->recovered_segments_.erase(q);
    recovered->tables.push_back(std::move(it->second));
  }
  for (auto& [name, entry] : state.unavailable) {
    recovered->unavailable.emplace_back(name, entry.second);
    store->unavailable_[name] = {entry.first, std::string(entry.second.message())};
  }

  // A new log for what follows; the old ones go at the next checkpoint.
  store->log_number_ = std::max<int64_t>(state.first_log, *last_log) + 1;
  auto log = LogWriter::Create(store->Path(LogName(store->log_number_)), options.sync);
  if (!log.ok()) return log.status();
  store->log_ = *std::move(log);
  {
    absl::MutexLock lock(&store->jobs_mu_);
    for (const JobSnapshot& j : recovered->jobs) {
      store->jobs_[j.id] = JobEntry{Json::to_cbor(JobToJson(j)), j.finished_us};
    }
  }
  for (const JobSnapshot& j : interrupted) {
    if (absl::Status s = store->LogJob(j); !s.ok()) return s;
  }
  if (!interrupted.empty()) {
    recovered->notes.push_back(absl::StrCat(interrupted.size(), " jobs were running at the restart: ", kInterrupted));
  }
  return store;
}

Store::~Store() {
  {
    absl::MutexLock lock(&loop_mu_);
    stopping_ = true;
    loop_cv_.SignalAll();
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  log_.reset();
  ::close(lock_fd_);
}

uint64_t Store::Start(const JournalChange& change) {
  if (change.kind == JournalChange::Kind::kSyncPolicy && change.name == "*") {
    sync_ = *ParseSync(change.sync_policy);  // the server's level: nothing to record
    return 0;
  }
  Json meta{{"name", change.name}};
  Pieces data;
  uint32_t kind = 0;
  switch (change.kind) {
    case JournalChange::Kind::kAddType:
      kind = kAddType;
      meta["type"] = TypeToJson(*change.type);
      break;
    case JournalChange::Kind::kAddSchema:
      kind = kAddSchema;
      break;
    case JournalChange::Kind::kDropSchema:
      kind = kDropSchema;
      meta["cascade"] = change.cascade;
      break;
    case JournalChange::Kind::kAddTable:
      kind = kAddTable;
      meta["type"] = TypeToJson(*change.type);
      meta["metadata"] = change.metadata != nullptr ? Json(*change.metadata) : Json::object();
      if (change.replicated) meta["replicated"] = true;
      break;
    case JournalChange::Kind::kDropTable: {
      kind = kDropTable;
      absl::MutexLock lock(&unavailable_mu_);
      unavailable_.erase(QualifiedTableName(change.name));
      break;
    }
    case JournalChange::Kind::kAppend:
    case JournalChange::Kind::kReplace:
      kind = change.kind == JournalChange::Kind::kAppend ? kAppend : kReplace;
      meta["columns"] = AddRows(*change.type, *change.rows, *change.exec, &data);
      break;
    case JournalChange::Kind::kDelete:
    case JournalChange::Kind::kUpdate:
      kind = change.kind == JournalChange::Kind::kDelete ? kDelete : kUpdate;
      data.AddCopy(RanksBlob(*change.ranks));
      if (change.deleted_ranks != nullptr) {
        meta["deleted"] = true;
        data.AddCopy(RanksBlob(*change.deleted_ranks));
      }
      if (change.kind == JournalChange::Kind::kUpdate) {
        meta["updated_columns"] = *change.columns;
        meta["columns"] = AddRows(*change.type, *change.rows, *change.exec, &data);
      }
      break;
    case JournalChange::Kind::kRedefine:
      kind = kRedefine;
      meta["new_name"] = change.new_name;
      meta["type"] = TypeToJson(*change.type);
      meta["metadata"] = *change.metadata;
      if (change.replicated) meta["replicated"] = true;
      meta["columns"] = AddRows(*change.type, *change.rows, *change.exec, &data);
      break;
    case JournalChange::Kind::kMetadata:
      kind = kMetadata;
      meta["metadata"] = *change.metadata;
      break;
    case JournalChange::Kind::kSyncPolicy:
      kind = kSyncPolicy;
      meta["sync_policy"] = change.sync_policy;
      break;
  }
  Sync sync = sync_;
  if (auto own = ParseSync(change.sync_policy); !change.sync_policy.empty() && own.ok()) sync = *own;
  Pieces body = Body(std::move(meta), std::move(data));
  // A large record at none or background is written as at flush: copying it
  // into the buffer costs more than writing it from where it is.
  constexpr size_t kLargeBytes = size_t{1} << 20;
  if ((sync == Sync::kNone || sync == Sync::kBackground) && body.bytes() >= kLargeBytes) sync = Sync::kFlush;
  const bool borrow = sync == Sync::kFlush || sync == Sync::kFsync;
  const uint64_t ticket = log_->Add(kind, body, sync, borrow);
  // A large record is written by the log's thread while the change is applied.
  if (borrow && body.bytes() >= kLargeBytes) log_->Kick(sync);
  absl::MutexLock lock(&pending_mu_);
  pending_.emplace(ticket, Pending{std::move(body), sync});
  return ticket;
}

absl::Status Store::Finish(uint64_t ticket) {
  if (ticket == 0) return absl::OkStatus();
  Sync sync;
  {
    absl::MutexLock lock(&pending_mu_);
    sync = pending_.at(ticket).sync;
  }
  absl::Status s = log_->Wait(ticket, sync);
  {
    absl::MutexLock lock(&pending_mu_);
    pending_.erase(ticket);
  }
  if (log_->bytes() > options_.checkpoint_log_bytes) {
    absl::MutexLock lock(&loop_mu_);
    wanted_ = true;
    loop_cv_.Signal();
  }
  return s;
}

absl::Status Store::LogJob(const JobSnapshot& job) {
  if (!job.async) return absl::OkStatus();
  Json record = JobToJson(job);
  uint64_t ticket;
  {
    absl::MutexLock lock(&jobs_mu_);
    JobEntry& entry = jobs_[job.id];
    entry.record = Json::to_cbor(record);
    entry.finished_us = job.finished() ? job.finished_us : 0;
    ticket = log_->Add(kJob, Body(Json{{"job", std::move(record)}}, Pieces()), sync_);
  }
  return log_->Wait(ticket, sync_);
}

void Store::ForgetJobs(const std::vector<int64_t>& ids) {
  absl::MutexLock lock(&jobs_mu_);
  Json gone = Json::array();
  for (int64_t id : ids) {
    if (jobs_.erase(id) > 0) gone.push_back(id);
  }
  if (!gone.empty()) log_->Add(kForgetJobs, Body(Json{{"ids", std::move(gone)}}, Pieces()));
}

void Store::Start(const Catalog* catalog) {
  catalog_ = catalog;
  for (const auto& table : catalog->List()) {
    const std::string qualified = QualifiedTableName(table->name());
    auto it = recovered_segments_.find(qualified);
    if (it == recovered_segments_.end() || table->kind() != Table::Kind::kTable) continue;
    segments_[qualified] = Segment{table, table->version(), it->second};
  }
  recovered_segments_.clear();
  // What was replayed goes into segments now, so that the logs of many
  // restarts in a row (crashes) do not pile up.
  if (replayed_ > 0) {
    absl::MutexLock lock(&loop_mu_);
    wanted_ = true;
  }
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
}

absl::Status Store::Checkpoint() {
  if (catalog_ == nullptr) return absl::FailedPreconditionError("data directory: not started");
  absl::WriterMutexLock lock(&change_mu_);
  return CheckpointLocked();
}

absl::Status Store::CheckpointLocked() {
  const absl::Time started = absl::Now();
  const int64_t number = checkpoint_number_ + 1;
  const int64_t log_number = log_number_ + 1;
  {
    // The new log starts with every job kept, so the old logs can go. (No
    // change is under way; job records wait for the rotation.)
    absl::MutexLock jobs_lock(&jobs_mu_);
    if (absl::Status s = log_->Rotate(Path(LogName(log_number))); !s.ok()) return s;
    log_number_ = log_number;
    const int64_t now_us = absl::ToUnixMicros(absl::Now());
    const int64_t ttl_us = absl::ToInt64Microseconds(options_.job_ttl);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.finished_us != 0 && now_us - it->second.finished_us > ttl_us) {
        it = jobs_.erase(it);
        continue;
      }
      Json record = Json::from_cbor(it->second.record);
      log_->Add(kJob, Body(Json{{"job", std::move(record)}}, Pieces()));
      ++it;
    }
  }
  if (absl::Status s = log_->Flush(true); !s.ok()) return s;

  // Each table changed since the last checkpoint gets a new segment.
  Json tables = Json::array();
  std::map<std::string, Segment> segments;
  uint64_t written = 0;
  int index = 0;
  for (const auto& table : catalog_->List()) {
    if (table->kind() != Table::Kind::kTable) continue;
    const std::string qualified = QualifiedTableName(table->name());
    Segment segment{table, table->version(), ""};
    auto old = segments_.find(qualified);
    if (old != segments_.end() && old->second.table.lock() == table && old->second.version == segment.version) {
      segment.file = old->second.file;
    } else {
      segment.file = absl::StrFormat("segments/t-%06d-%06d.seg", number, index++);
      const kernels::Exec& exec = table->device()->stream(0).exec();
      // A distributed table's rows are brought to its home device first.
      std::vector<kernels::Column> assembled;
      std::vector<kernels::ColumnView> views;
      if (table->distributed()) {
        absl::Status moved = GuardKernels([&] {
          assembled = table->Assemble(exec);
          kernels::Synchronize(exec);
          return absl::OkStatus();
        });
        if (!moved.ok()) return moved;
        for (const kernels::Column& c : assembled) views.push_back(c.view());
      } else {
        views = table->views();
      }
      auto bytes = WriteSegment(Path(segment.file), table->type(), views, exec);
      if (!bytes.ok()) return bytes.status();
      written += *bytes;
    }
    tables.push_back(Json{{"name", table->name()},
                          {"type", TypeToJson(table->type())},
                          {"metadata", table->metadata()},
                          {"rows", table->rows()},
                          {"sync_policy", table->sync_policy()},
                          {"replicated", table->layout().kind == Layout::Kind::kReplicated},
                          {"segment", segment.file}});
    segments[qualified] = std::move(segment);
  }
  for (const auto& [name, entry] : unavailable_) {
    tables.push_back(Json{{"name", name}, {"segment", entry.first}, {"unavailable", entry.second}});
  }
  Json schemas = Json::array();
  for (const std::string& s : catalog_->Schemas()) {
    if (s != kDefaultSchema) schemas.push_back(s);
  }
  Json types = Json::array();
  for (const auto& [id, type] : catalog_->Types()) types.push_back(TypeToJson(type));
  const Json manifest{{"format", kFormatVersion}, {"checkpoint", number}, {"log", log_number},
                      {"schemas", schemas},       {"types", types},       {"tables", tables}};
  if (absl::Status s = WriteAtomically(options_.data_dir, "MANIFEST", manifest.dump(1)); !s.ok()) return s;
  checkpoint_number_ = number;
  segments_ = std::move(segments);

  // What the manifest no longer names.
  std::set<std::string> keep;
  for (const auto& [name, segment] : segments_) keep.insert(segment.file);
  for (const auto& [name, entry] : unavailable_) keep.insert(entry.first);
  for (const std::string& name : ListDir(Path("segments"))) {
    if (name != "." && name != ".." && keep.count(absl::StrCat("segments/", name)) == 0) {
      ::unlink(Path(absl::StrCat("segments/", name)).c_str());
    }
  }
  for (const std::string& name : ListDir(options_.data_dir)) {
    if (const int64_t n = LogNumber(name); n >= 0 && n < log_number) ::unlink(Path(name).c_str());
  }
  absl::MutexLock stats_lock(&stats_mu_);
  ++stats_.checkpoints;
  stats_.last_checkpoint_bytes = written;
  stats_.last_checkpoint_seconds = absl::ToDoubleSeconds(absl::Now() - started);
  return absl::OkStatus();
}

void Store::CheckpointLoop() {
  absl::MutexLock lock(&loop_mu_);
  while (!stopping_) {
    if (!wanted_) loop_cv_.WaitWithTimeout(&loop_mu_, absl::Seconds(1));  // (see LogWriter::FlushLoop)
    if (stopping_ || !wanted_) continue;
    wanted_ = false;
    loop_mu_.Unlock();
    absl::Status s = Checkpoint();
    kernels::ReleaseHostThreads();  // idle until the next checkpoint
    if (!s.ok()) std::fprintf(stderr, "gpudb-engine: checkpoint failed (retried later): %s\n", std::string(s.message()).c_str());
    loop_mu_.Lock();
  }
}

Journal::Description Store::Describe() {
  return Description{SyncName(sync_), log_->bytes(), options_.checkpoint_log_bytes};
}

Store::Stats Store::stats() const {
  Stats out;
  {
    absl::MutexLock lock(&stats_mu_);
    out = stats_;
  }
  out.log_bytes = log_->bytes();
  return out;
}

}  // namespace engine::storage
