// The data directory (engine/storage): records and their checksums, the log
// with group commit and failed writes, segment files, and an engine that
// brings its tables and finished jobs back after a restart, after a crash
// (a copy of the directory taken while it runs is what kill -9 leaves:
// every record written to the OS), with a damaged log or segment, a newer
// format, a full disk, and a directory another server holds.

#include "engine/storage/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/storage/format.h"
#include "engine/storage/log.h"
#include "engine/storage/segment.h"
#include "engine/table/record_codec.h"
#include "tests/common/job_watch.h"

namespace engine::storage {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the test's temporary directory, removed after.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "gpudb-storage-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// ---------------------------------------------------------------------------
// Records

Pieces Text(const std::string& s) {
  Pieces p;
  p.AddCopy(s);
  return p;
}

TEST(FormatTest, FramesRoundTripAndTornOrDamagedOnesAreRecognized) {
  std::string bytes;
  size_t last = 0;  // where the last record starts
  for (int i = 0; i < 3; ++i) {
    last = bytes.size();
    Pieces body = Body(Json{{"i", i}}, Text(std::string(100 * i, 'a' + i)));
    bytes += FrameHeader(7 + i, body);
    for (absl::string_view p : body.parts()) bytes.append(p.data(), p.size());
  }
  absl::string_view rest(bytes);
  for (int i = 0; i < 3; ++i) {
    auto frame = NextFrame(&rest);
    ASSERT_TRUE(frame.ok()) << frame.status();
    EXPECT_EQ(frame->kind, static_cast<uint32_t>(7 + i));
    auto body = ParseBody(frame->body);
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ(body->meta["i"], i);
    ASSERT_EQ(body->blobs.size(), 1u);
    EXPECT_EQ(body->blobs[0], std::string(100 * i, 'a' + i));
  }
  EXPECT_TRUE(rest.empty());
  // Cut anywhere inside the last record: torn. Any byte changed: damaged.
  for (size_t cut = last; cut < bytes.size(); cut += 7) {
    absl::string_view r(bytes.data(), cut);
    ASSERT_TRUE(NextFrame(&r).ok());
    ASSERT_TRUE(NextFrame(&r).ok());
    EXPECT_EQ(NextFrame(&r).status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  for (size_t at = last; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] ^= 0x10;
    absl::string_view r(flipped);
    ASSERT_TRUE(NextFrame(&r).ok());
    ASSERT_TRUE(NextFrame(&r).ok());
    EXPECT_EQ(NextFrame(&r).status().code(), absl::StatusCode::kDataLoss) << at;
  }
}

TEST(FormatTest, ANewerFormatIsRefusedByName) {
  std::string header = FileHeader("GPUDBLOG");
  EXPECT_TRUE(CheckFileHeader(header, "GPUDBLOG", "x.wal").ok());
  header[8] = static_cast<char>(kFormatVersion + 1);
  const absl::Status s = CheckFileHeader(header, "GPUDBLOG", "x.wal");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("x.wal: format version 2 was written by a newer server"), std::string::npos)
      << s.message();
  EXPECT_FALSE(CheckFileHeader(FileHeader("GPUDBSEG"), "GPUDBLOG", "x.wal").ok());
}

// ---------------------------------------------------------------------------
// The log

TEST(LogWriterTest, ConcurrentAppendsAreEachReadBackWhole) {
  for (Sync sync : {Sync::kNone, Sync::kFlush, Sync::kFsync}) {
    SCOPED_TRACE(SyncName(sync));
    TempDir dir;
    const std::string path = dir / "log-000001.wal";
    {
      auto log = LogWriter::Create(path, sync);
      ASSERT_TRUE(log.ok()) << log.status();
      std::vector<std::thread> threads;
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < 50; ++i) {
            Pieces body = Body(Json{{"t", t}, {"i", i}}, Text(std::string(i * 37, 'x')));
            EXPECT_TRUE((*log)->Append(1, body).ok());
          }
        });
      }
      for (auto& th : threads) th.join();
      if (sync == Sync::kFlush || sync == Sync::kFsync) {
        // Acknowledged means written: the file holds them all before the writer closes.
        auto now = ReadLog(path);
        ASSERT_TRUE(now.ok());
        EXPECT_EQ(now->frames.size(), 400u);
      }
    }
    auto contents = ReadLog(path);
    ASSERT_TRUE(contents.ok()) << contents.status();
    EXPECT_TRUE(contents->problem.ok()) << contents->problem;
    ASSERT_EQ(contents->frames.size(), 400u);
    std::set<std::pair<int, int>> seen;
    std::vector<int> next(8, 0);
    for (const Frame& f : contents->frames) {
      auto body = ParseBody(f.body);
      ASSERT_TRUE(body.ok());
      const int t = body->meta["t"], i = body->meta["i"];
      EXPECT_EQ(i, next[t]++) << "thread " << t << "'s records out of order";
      EXPECT_EQ(body->blobs[0].size(), static_cast<size_t>(i * 37));
      seen.emplace(t, i);
    }
    EXPECT_EQ(seen.size(), 400u);
  }
}

TEST(LogWriterTest, AFailedWriteFailsItsRecordsLeavesWholeRecordsAndLaterWritesResume) {
  TempDir dir;
  const std::string path = dir / "log-000001.wal";
  auto log = LogWriter::Create(path, Sync::kFlush);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(1, Body(Json{{"n", 1}}, Pieces())).ok());
  SetWriteFaultForTesting([](size_t) { return ENOSPC; });
  const absl::Status failed = (*log)->Append(1, Body(Json{{"n", 2}}, Text(std::string(5000, 'z'))));
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("No space left on device"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find(path), std::string::npos) << failed.message();
  SetWriteFaultForTesting(nullptr);
  ASSERT_TRUE((*log)->Append(1, Body(Json{{"n", 3}}, Pieces())).ok());
  auto contents = ReadLog(path);
  ASSERT_TRUE(contents.ok());
  EXPECT_TRUE(contents->problem.ok()) << contents->problem;
  std::vector<int> ns;
  for (const Frame& f : contents->frames) ns.push_back(ParseBody(f.body)->meta["n"]);
  EXPECT_EQ(ns, (std::vector<int>{1, 3}));
}

// ---------------------------------------------------------------------------
// Segments

const char kType[] = R"([["id","long"],["name","string","nullable"],["code","string","char4"],)"
                     R"(["small","int","int16","nullable"],["x","double"]])";

TableType MustType(const char* definition) {
  auto t = ParseTypeDefinition(definition, {}, "");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

std::vector<HostColumn> Rows(const TableType& type, int64_t first, int64_t n) {
  std::vector<HostColumn> c = MakeHostColumns(type);
  for (int64_t i = first; i < first + n; ++i) {
    c[0].AppendInt(i);
    if (i % 3 == 0) c[1].AppendNull(); else c[1].AppendString(absl::StrCat("name-", i));
    c[2].AppendString(absl::StrCat(i % 1000));
    if (i % 5 == 0) c[3].AppendNull(); else c[3].AppendInt(i % 30000);
    c[4].AppendFloat(i * 0.5);
  }
  return c;
}

std::vector<kernels::ColumnView> Views(const std::vector<HostColumn>& c) {
  std::vector<kernels::ColumnView> v;
  for (const HostColumn& h : c) v.push_back(h.view());
  return v;
}

void ExpectSameRows(const std::vector<HostColumn>& got, const std::vector<HostColumn>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t c = 0; c < got.size(); ++c) {
    ASSERT_EQ(got[c].size, want[c].size) << "column " << c;
    for (int64_t r = 0; r < got[c].size; ++r) {
      ASSERT_EQ(got[c].IsValid(r), want[c].IsValid(r)) << c << "," << r;
      if (!got[c].IsValid(r)) continue;
      if (got[c].type == kernels::PhysType::kVarChars || got[c].type == kernels::PhysType::kFixedChars) {
        ASSERT_EQ(got[c].StringAt(r), want[c].StringAt(r)) << c << "," << r;
      } else if (got[c].type == kernels::PhysType::kFloat64) {
        ASSERT_EQ(got[c].FloatAt(r), want[c].FloatAt(r)) << c << "," << r;
      } else {
        ASSERT_EQ(got[c].IntAt(r), want[c].IntAt(r)) << c << "," << r;
      }
    }
  }
}

TEST(SegmentTest, RowsRoundTripAndADamagedByteIsCaughtNamingTheFile) {
  TempDir dir;
  const TableType type = MustType(kType);
  kernels::MemoryResource mr(kernels::Backend::kHost, 0, "host:0", 0);
  kernels::Exec exec;
  exec.backend = kernels::Backend::kHost;
  exec.mr = &mr;
  // Over a chunk (4 MiB) in its largest blob, and empty.
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{700000}}) {
    SCOPED_TRACE(n);
    const std::vector<HostColumn> rows = Rows(type, 0, n);
    const std::string path = dir / absl::StrCat("t", n, ".seg");
    auto written = WriteSegment(path, type, Views(rows), exec);
    ASSERT_TRUE(written.ok()) << written.status();
    std::vector<HostColumn> back = MakeHostColumns(type);
    ASSERT_TRUE(ReadSegment(path, type, &back).ok());
    ExpectSameRows(back, rows);
    if (n == 0) continue;
    std::string bytes = ReadFile(path);
    for (size_t at : {size_t{kFileHeaderBytes + 3}, bytes.size() / 2, bytes.size() - 20, bytes.size() - 3}) {
      std::string damaged = bytes;
      damaged[at] ^= 0x5a;
      WriteFile(path, damaged);
      std::vector<HostColumn> none = MakeHostColumns(type);
      const absl::Status s = ReadSegment(path, type, &none);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << at;
      EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
    }
  }
}

// ---------------------------------------------------------------------------
// An engine with a data directory

EngineOptions Options(const std::string& dir, Sync sync = Sync::kFlush) {
  EngineOptions options;
  options.devices.spec = "host:2";
  options.devices.streams_per_device = 2;
  options.devices.memory_limit = size_t{256} << 20;
  options.storage.data_dir = dir;
  options.storage.sync = sync;
  return options;
}

std::unique_ptr<Engine> Open(const EngineOptions& options) {
  auto engine = Engine::Create(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

JobSnapshot RunJob(Engine& engine, const std::string& endpoint, Json request, const std::string& tag = "") {
  JobRequest job;
  job.endpoint = FindEndpoint(endpoint);
  job.request = std::move(request);
  job.job_tag = tag;
  auto s = engine.Submit(std::move(job));
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return JobSnapshot();
  return gpudb_test::AwaitFinished(engine, s->id, endpoint);
}

void MustRun(Engine& engine, const std::string& endpoint, Json request) {
  JobSnapshot s = RunJob(engine, endpoint, std::move(request));
  ASSERT_EQ(s.state, JobState::kDone) << endpoint << ": " << s.error;
}

// Inserts rows {"id": i, "s": "v<i>"} for i in [first, first + n), one request.
JobSnapshot Insert(Engine& engine, const std::string& table, int first, int n) {
  Json list = Json::array();
  for (int i = first; i < first + n; ++i) list.push_back(Json{{"id", i}, {"s", absl::StrCat("v", i)}}.dump());
  return RunJob(engine, "/insert/records", {{"table_name", table}, {"list_encoding", "json"}, {"list_str", list}});
}

// The ids of a table in row order (checking each row's s), or an error.
absl::StatusOr<std::vector<int64_t>> Ids(Engine& engine, const std::string& table) {
  JobSnapshot s = RunJob(engine, "/get/records", {{"table_name", table}, {"encoding", "json"}, {"limit", 100000}});
  if (s.state != JobState::kDone) return absl::NotFoundError(s.error);
  std::vector<int64_t> ids;
  for (const Json& text : (*s.response)["records_json"]) {
    const Json row = Json::parse(text.get<std::string>());
    const int64_t id = row["id"];
    EXPECT_EQ(row["s"], absl::StrCat("v", id));
    ids.push_back(id);
  }
  return ids;
}

std::vector<int64_t> Range(int64_t first, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = first; i < first + n; ++i) v.push_back(i);
  return v;
}

const char kRows[] = R"([["id","long"],["s","string"]])";

// Tables over several devices come back with their layout over the devices
// the new server has, every row in its order of insertion, from the log and
// from a checkpoint alike.
TEST(EngineStorageTest, DistributedTablesSurviveARestartOnAnotherDeviceCount) {
  TempDir dir;
  EngineOptions three = Options(dir.path());
  three.devices.spec = "host:3";
  three.limits.spread_chunk_rows = 16;
  {
    auto engine = Open(three);
    MustRun(*engine, "/create/table", {{"table_name", "spread"}, {"type_id", kRows}});
    MustRun(*engine, "/create/type",
            {{"type_definition", kRows}, {"label", "keyed"}, {"properties", {{"s", {"shard_key"}}}}});
    auto type = engine->catalog().Types();
    std::string keyed;
    for (const auto& [id, t] : type) {
      if (t.label() == "keyed") keyed = id;
    }
    MustRun(*engine, "/create/table", {{"table_name", "sharded"}, {"type_id", keyed}});
    MustRun(*engine, "/create/table",
            {{"table_name", "copies"}, {"type_id", kRows}, {"options", {{"is_replicated", "true"}}}});
    for (const char* t : {"spread", "sharded", "copies"}) {
      int at = 0;
      for (int n : {5, 40, 1, 74}) {
        ASSERT_EQ(Insert(*engine, t, at, n).state, JobState::kDone);
        at += n;
      }
    }
    auto spread = engine->catalog().Find("spread");
    ASSERT_TRUE(spread.ok() && (*spread)->distributed());
    for (const auto& shard : (*spread)->shards()) EXPECT_EQ(shard->rows(), 40);
  }
  EngineOptions two = three;
  two.devices.spec = "host:2";
  for (int restart = 0; restart < 2; ++restart) {  // from the log; then from the checkpoint at shutdown
    auto engine = Open(restart == 0 ? two : three);
    for (const char* t : {"spread", "sharded", "copies"}) {
      auto ids = Ids(*engine, t);
      ASSERT_TRUE(ids.ok()) << ids.status();
      EXPECT_EQ(*ids, Range(0, 120)) << t;
      auto table = engine->catalog().Find(t);
      ASSERT_TRUE(table.ok());
      EXPECT_EQ((*table)->shards().size(), restart == 0 ? 2u : 3u) << t;
    }
    EXPECT_EQ((*engine->catalog().Find("sharded"))->layout().kind, Layout::Kind::kSharded);
    EXPECT_EQ((*engine->catalog().Find("copies"))->layout().kind, Layout::Kind::kReplicated);
    for (const auto& shard : (*engine->catalog().Find("copies"))->shards()) EXPECT_EQ(shard->rows(), 120);
  }
}

// (id, s) of a table's rows in row order.
std::vector<std::pair<int64_t, std::string>> Rows(Engine& engine, const std::string& table) {
  JobSnapshot s = RunJob(engine, "/get/records", {{"table_name", table}, {"encoding", "json"}, {"limit", 100000}});
  EXPECT_EQ(s.state, JobState::kDone) << s.error;
  std::vector<std::pair<int64_t, std::string>> rows;
  if (s.state != JobState::kDone) return rows;
  for (const Json& text : (*s.response)["records_json"]) {
    const Json row = Json::parse(text.get<std::string>());
    rows.emplace_back(row["id"].get<int64_t>(), row["s"].get<std::string>());
  }
  return rows;
}

// Deletes, updates (one replacing another row by its key) and an alteration
// come back after a restart on another device count, from the log and from
// the checkpoint, rows in their order.
TEST(EngineStorageTest, DeletesUpdatesAndAlterationsSurviveARestartOnAnotherDeviceCount) {
  TempDir dir;
  EngineOptions three = Options(dir.path());
  three.devices.spec = "host:3";
  three.limits.spread_chunk_rows = 8;
  std::vector<std::pair<int64_t, std::string>> expected;
  const char kKeyed[] = R"([["id","long","primary_key"],["s","string"]])";
  {
    auto engine = Open(three);
    MustRun(*engine, "/create/table", {{"table_name", "spread"}, {"type_id", kRows}});
    // Replicated: its key is no shard key, so it may change.
    MustRun(*engine, "/create/table",
            {{"table_name", "keyed"}, {"type_id", kKeyed}, {"options", {{"is_replicated", "true"}}}});
    for (const char* t : {"spread", "keyed"}) {
      ASSERT_EQ(Insert(*engine, t, 0, 60).state, JobState::kDone);
      ASSERT_EQ(Insert(*engine, t, 60, 40).state, JobState::kDone);
      MustRun(*engine, "/delete/records", {{"table_name", t}, {"expressions", {"id % 3 = 0", "id > 95"}}});
      MustRun(*engine, "/update/records",
              {{"table_name", t}, {"expressions", {"id < 20"}}, {"new_values_maps", {{{"s", "upd"}}}}});
    }
    // The key of row 22 taken by row 23, which replaces it.
    MustRun(*engine, "/update/records",
            {{"table_name", "keyed"},
             {"expressions", {"id = 23"}},
             {"new_values_maps", {{{"id", "22"}}}},
             {"options", {{"update_on_existing_pk", "true"}}}});
    MustRun(*engine, "/alter/table", {{"table_name", "spread"}, {"action", "rename_table"}, {"value", "renamed"}});
    for (int64_t i = 0; i < 96; ++i) {
      if (i % 3 != 0) expected.emplace_back(i, i < 20 ? "upd" : absl::StrCat("v", i));
    }
    EXPECT_EQ(Rows(*engine, "renamed"), expected);
  }
  std::vector<std::pair<int64_t, std::string>> keyed = expected;
  keyed.erase(std::find(keyed.begin(), keyed.end(), std::make_pair(int64_t{22}, std::string("v22"))));
  std::find(keyed.begin(), keyed.end(), std::make_pair(int64_t{23}, std::string("v23")))->first = 22;
  EngineOptions two = three;
  two.devices.spec = "host:2";
  for (int restart = 0; restart < 2; ++restart) {  // from the log; then from the checkpoint at shutdown
    auto engine = Open(restart == 0 ? two : three);
    EXPECT_FALSE(engine->catalog().Has("spread"));
    EXPECT_EQ(Rows(*engine, "renamed"), expected) << restart;
    EXPECT_EQ(Rows(*engine, "keyed"), keyed) << restart;
  }
}

TEST(EngineStorageTest, TablesSchemasMetadataAndFinishedJobsSurviveARestart) {
  TempDir dir;
  Json stats;
  int64_t stats_id = 0;
  {
    auto engine = Open(Options(dir.path()));
    MustRun(*engine, "/create/schema", {{"schema_name", "s1"}});
    MustRun(*engine, "/create/table", {{"table_name", "s1.t"}, {"type_id", kRows}});
    ASSERT_EQ(Insert(*engine, "s1.t", 0, 100).state, JobState::kDone);
    ASSERT_EQ(Insert(*engine, "s1.t", 100, 50).state, JobState::kDone);
    MustRun(*engine, "/alter/table/metadata", {{"table_names", {"s1.t"}}, {"metadata_map", {{"owner", "ann"}}}});
    MustRun(*engine, "/create/table", {{"table_name", "gone"}, {"type_id", kRows}});
    MustRun(*engine, "/clear/table", {{"table_name", "gone"}});
    // A group-by into a result table, and a view (views are not kept).
    MustRun(*engine, "/aggregate/groupby",
            {{"table_name", "s1.t"},
             {"column_names", {"s", "count(*)"}},
             {"options", {{"result_table", "by_s"}, {"result_table_persist", "true"}}}});
    MustRun(*engine, "/filter", {{"table_name", "s1.t"}, {"view_name", "v"}, {"expression", "id < 10"}});
    JobSnapshot job = RunJob(*engine, "/aggregate/statistics",
                          {{"table_name", "s1.t"}, {"column_name", "id"}, {"stats", "count,sum"}}, "the-stats");
    ASSERT_EQ(job.state, JobState::kDone) << job.error;
    stats = *job.response;
    stats_id = job.id;
  }
  auto engine = Open(Options(dir.path()));
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->catalog().HasSchema("s1"));
  auto ids = Ids(*engine, "s1.t");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, Range(0, 150));
  EXPECT_EQ((*engine->catalog().Find("s1.t"))->metadata(), (std::map<std::string, std::string>{{"owner", "ann"}}));
  EXPECT_FALSE(engine->catalog().Has("gone"));
  EXPECT_FALSE(engine->catalog().Has("v"));
  EXPECT_EQ((*engine->catalog().Find("by_s"))->rows(), 150);
  auto by_tag = engine->FindJob({0, std::string("the-stats")}, false);
  ASSERT_TRUE(by_tag.ok()) << by_tag.status();
  EXPECT_EQ(by_tag->id, stats_id);
  EXPECT_EQ(by_tag->state, JobState::kDone);
  EXPECT_EQ(*by_tag->response, stats);
  // New jobs get new ids.
  JobSnapshot next = RunJob(*engine, "/has/table", {{"table_name", "s1.t"}});
  EXPECT_GT(next.id, stats_id);
  // And changes after the restart are kept too (the recovered segment is reused).
  ASSERT_EQ(Insert(*engine, "s1.t", 150, 10).state, JobState::kDone);
  engine.reset();
  engine = Open(Options(dir.path()));
  ids = Ids(*engine, "s1.t");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, Range(0, 160));
}

// A job fetched with remove_job_on_complete, or expired, is dropped from the
// data directory too: a restart does not bring it back (from the log, nor
// from the checkpoint at shutdown), and its record leaves memory.
TEST(EngineStorageTest, RemovedAndExpiredJobsDoNotComeBackAfterARestart) {
  TempDir dir;
  EngineOptions options = Options(dir.path());
  int64_t removed = 0, kept = 0, expired = 0;
  {
    options.jobs.ttl = absl::Seconds(2);
    auto engine = Open(options);
    JobRequest job;
    job.endpoint = FindEndpoint("/has/table");
    job.request = Json{{"table_name", "t"}};
    job.remove_job_on_complete = true;
    auto s = engine->Submit(job);
    ASSERT_TRUE(s.ok()) << s.status();
    removed = s->id;
    gpudb_test::AwaitFinished(*engine, removed, "/has/table");
    ASSERT_TRUE(engine->FindJob({removed, std::nullopt}, /*consume=*/true).ok());
    EXPECT_FALSE(engine->FindJob({removed, std::nullopt}).ok());
    expired = RunJob(*engine, "/has/table", {{"table_name", "t"}}).id;
    // Past the TTL and a reaper round.
    absl::SleepFor(absl::Seconds(3.5));
    EXPECT_NE(engine->FindJob({expired, std::nullopt}).status().message().find("expired"), std::string::npos);
    kept = RunJob(*engine, "/has/table", {{"table_name", "t"}}).id;
  }
  for (int restart = 0; restart < 2; ++restart) {
    options.jobs.ttl = absl::Hours(1);
    auto engine = Open(options);
    EXPECT_TRUE(engine->FindJob({kept, std::nullopt}).ok()) << restart;
    for (int64_t id : {removed, expired}) {
      EXPECT_EQ(engine->FindJob({id, std::nullopt}).status().message(),
                absl::StrCat("job_id: job ", id, " does not exist"))
          << restart;
    }
  }
}

TEST(EngineStorageTest, WhatACrashLeavesHasEveryAcknowledgedInsertAndRunningJobsReadInterrupted) {
  TempDir dir, crashed;
  auto engine = Open(Options(dir.path()));
  MustRun(*engine, "/create/table", {{"table_name", "t"}, {"type_id", kRows}});
  // Inserts from several threads at once (group commit), each acknowledged.
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int k = 0; k < 20; ++k) EXPECT_EQ(Insert(*engine, "t", (c * 20 + k) * 10, 10).state, JobState::kDone);
    });
  }
  for (auto& t : clients) t.join();
  // A job still queued when the process dies: its stream is held.
  auto gate = std::make_shared<gpudb_test::Event>();
  auto parked = std::make_shared<gpudb_test::Event>();
  for (auto& d : engine->devices()) {
    for (int s = 0; s < d->stream_count(); ++s) {
      d->stream(s).Post([gate, parked] {
        parked->Notify();
        gate->Wait();
      });
    }
  }
  ASSERT_TRUE(parked->Wait());
  JobRequest pending;
  pending.endpoint = FindEndpoint("/aggregate/statistics");
  pending.request = {{"table_name", "t"}, {"column_name", "id"}, {"stats", "count"}};
  pending.job_tag = "caught";
  auto submitted = engine->Submit(pending);
  ASSERT_TRUE(submitted.ok());
  // kill -9 now: the directory as it is.
  fs::copy(dir.path(), crashed.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::remove(crashed / "LOCK");
  gate->Notify();

  auto after = Open(Options(crashed.path()));
  ASSERT_NE(after, nullptr);
  auto ids = Ids(*after, "t");
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<int64_t> sorted = *ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Range(0, 800));  // each once
  auto job = after->FindJob({0, std::string("caught")}, false);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kError);
  EXPECT_EQ(job->error, "interrupted by a server restart");
}

TEST(EngineStorageTest, TruncatedOrDamagedLogsRecoverAPrefixOfTheInserts) {
  TempDir dir;
  {
    auto engine = Open(Options(dir.path()));
    MustRun(*engine, "/create/table", {{"table_name", "t"}, {"type_id", kRows}});
    for (int i = 0; i < 40; ++i) ASSERT_EQ(Insert(*engine, "t", i * 3, 3).state, JobState::kDone);
    // No checkpoint: everything is in the log (as after kill -9).
    fs::copy(dir.path(), dir.path() + "-log", fs::copy_options::recursive);
  }
  const std::string source = dir.path() + "-log";
  std::string log_name;
  for (const auto& e : fs::directory_iterator(source)) {
    if (e.path().extension() == ".wal") log_name = e.path().filename().string();
  }
  ASSERT_FALSE(log_name.empty());
  const std::string log = ReadFile(source + "/" + log_name);
  std::mt19937 rng(42);
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE(trial);
    TempDir copy;
    fs::copy(source, copy.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::remove(copy / "LOCK");
    std::string damaged = log;
    if (trial % 2 == 0) {
      damaged.resize(std::uniform_int_distribution<size_t>(0, log.size())(rng));
    } else {
      for (int k = 0; k < 3; ++k) damaged[std::uniform_int_distribution<size_t>(0, log.size() - 1)(rng)] ^= 0xff;
    }
    WriteFile(copy / log_name, damaged);
    auto engine = Open(Options(copy.path()));
    ASSERT_NE(engine, nullptr);
    auto ids = Ids(*engine, "t");
    if (!ids.ok()) continue;  // the table's creation itself was lost
    ASSERT_EQ(ids->size() % 3, 0u) << "an insert half applied";
    EXPECT_EQ(*ids, Range(0, static_cast<int64_t>(ids->size())));
  }
  fs::remove_all(source);
}

TEST(EngineStorageTest, ADamagedSegmentMakesOnlyItsTableUnavailable) {
  TempDir dir;
  {
    auto engine = Open(Options(dir.path()));
    for (const char* t : {"a", "b"}) {
      MustRun(*engine, "/create/table", {{"table_name", t}, {"type_id", kRows}});
      ASSERT_EQ(Insert(*engine, t, 0, 20).state, JobState::kDone);
    }
  }  // checkpointed at shutdown
  const Json manifest = Json::parse(ReadFile(dir / "MANIFEST"));
  std::string a_file;
  for (const Json& t : manifest["tables"]) {
    if (t["name"] == "a") a_file = t["segment"];
  }
  ASSERT_FALSE(a_file.empty());
  std::string bytes = ReadFile(dir / a_file);
  bytes[bytes.size() / 2] ^= 0x33;
  WriteFile(dir / a_file, bytes);

  auto engine = Open(Options(dir.path()));
  ASSERT_NE(engine, nullptr);
  auto a = Ids(*engine, "a");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("table 'a' is unavailable"), std::string::npos) << a.status();
  EXPECT_NE(a.status().message().find(a_file), std::string::npos) << a.status();
  auto b = Ids(*engine, "b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, Range(0, 20));
  // Still unavailable after another restart; dropping it frees the name.
  engine.reset();
  engine = Open(Options(dir.path()));
  EXPECT_FALSE(Ids(*engine, "a").ok());
  MustRun(*engine, "/clear/table", {{"table_name", "a"}});
  MustRun(*engine, "/create/table", {{"table_name", "a"}, {"type_id", kRows}});
  EXPECT_TRUE(Ids(*engine, "a").ok());
}

TEST(EngineStorageTest, ANewerFormatOrALockedDirectoryIsRefusedWithAClearError) {
  TempDir dir;
  {
    auto engine = Open(Options(dir.path()));
    auto second = Engine::Create(Options(dir.path()));
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.status().message().find("is in use by another server"), std::string::npos) << second.status();
  }
  Json manifest = Json::parse(ReadFile(dir / "MANIFEST"));
  manifest["format"] = 99;
  WriteFile(dir / "MANIFEST", manifest.dump());
  auto newer = Engine::Create(Options(dir.path()));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.status().message().find("format version 99 was written by a newer server"), std::string::npos)
      << newer.status();
}

TEST(EngineStorageTest, AFullDiskFailsChangesKeepsReadsAndWritesResumeWhenSpaceReturns) {
  TempDir dir;
  {
    auto engine = Open(Options(dir.path()));
    MustRun(*engine, "/create/table", {{"table_name", "t"}, {"type_id", kRows}});
    ASSERT_EQ(Insert(*engine, "t", 0, 10).state, JobState::kDone);
    SetWriteFaultForTesting([](size_t) { return ENOSPC; });
    JobSnapshot failed = Insert(*engine, "t", 10, 10);
    EXPECT_EQ(failed.state, JobState::kError);
    EXPECT_NE(failed.error.find("No space left on device"), std::string::npos) << failed.error;
    JobSnapshot create = RunJob(*engine, "/create/table", {{"table_name", "u"}, {"type_id", kRows}});
    EXPECT_EQ(create.state, JobState::kError);
    auto ids = Ids(*engine, "t");  // reads go on
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, Range(0, 10));
    SetWriteFaultForTesting(nullptr);
    ASSERT_EQ(Insert(*engine, "t", 10, 10).state, JobState::kDone);
    fs::copy(dir.path(), dir.path() + "-crash", fs::copy_options::recursive);
  }
  for (const std::string& path : {dir.path(), dir.path() + "-crash"}) {
    fs::remove(path + "/LOCK");
    auto engine = Open(Options(path));
    auto ids = Ids(*engine, "t");
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, Range(0, 20)) << path;
    EXPECT_FALSE(engine->catalog().Has("u"));
  }
  fs::remove_all(dir.path() + "-crash");
}

TEST(EngineStorageTest, TablesKeepTheirOwnSyncLevelAcrossRestarts) {
  TempDir dir;
  auto settings = [](Engine& engine, const std::string& name) {
    JobSnapshot s = RunJob(engine, "/show/wal", {{"table_names", {name}}});
    EXPECT_EQ(s.state, JobState::kDone) << s.error;
    return s.state == JobState::kDone ? (*s.response)["settings"][0] : Json();
  };
  {
    auto engine = Open(Options(dir.path(), Sync::kFlush));
    MustRun(*engine, "/create/table", {{"table_name", "fast"}, {"type_id", kRows}});
    MustRun(*engine, "/create/table", {{"table_name", "safe"}, {"type_id", kRows}});
    MustRun(*engine, "/alter/wal", {{"table_names", {"fast"}}, {"options", {{"sync_policy", "none"}}}});
    MustRun(*engine, "/alter/wal", {{"table_names", {"safe"}}, {"options", {{"sync_policy", "fsync"}}}});
    EXPECT_EQ(settings(*engine, "fast")["sync_policy"], "none");
    EXPECT_EQ(settings(*engine, "safe")["sync_policy"], "fsync");
    EXPECT_EQ(settings(*engine, "*")["sync_policy"], "flush");
    ASSERT_EQ(Insert(*engine, "safe", 0, 10).state, JobState::kDone);
    ASSERT_EQ(Insert(*engine, "fast", 0, 10).state, JobState::kDone);
    // Errors name the option.
    JobSnapshot bad = RunJob(*engine, "/alter/wal", {{"table_names", {"fast"}}, {"options", {{"sync_policy", "often"}}}});
    EXPECT_EQ(bad.error, "options.sync_policy: 'often' is not a sync level; use none, background, flush or fsync");
    bad = RunJob(*engine, "/alter/wal", {{"table_names", {"fast"}}, {"options", {{"segment_count", "4"}}}});
    EXPECT_NE(bad.error.find("options.segment_count: not supported"), std::string::npos) << bad.error;
    // The server's level, for tables without their own.
    MustRun(*engine, "/alter/wal", {{"table_names", {"*"}}, {"options", {{"sync_policy", "background"}}}});
    EXPECT_EQ(settings(*engine, "*")["sync_policy"], "background");
    EXPECT_EQ(settings(*engine, "safe")["sync_policy"], "fsync");
    fs::copy(dir.path(), dir.path() + "-crash", fs::copy_options::recursive);
  }
  for (const std::string& path : {dir.path(), dir.path() + "-crash"}) {
    fs::remove(path + "/LOCK");
    auto engine = Open(Options(path, Sync::kFlush));
    EXPECT_EQ(settings(*engine, "safe")["sync_policy"], "fsync") << path;
    EXPECT_EQ(settings(*engine, "fast")["sync_policy"], "none") << path;
    EXPECT_EQ(settings(*engine, "*")["sync_policy"], "flush") << path;  // --sync decides at start
    EXPECT_EQ(*Ids(*engine, "safe"), Range(0, 10)) << path;
    MustRun(*engine, "/alter/wal", {{"table_names", {"safe"}}, {"options", {{"restore_system_settings", "true"}}}});
    EXPECT_EQ(settings(*engine, "safe")["system_settings"], "true");
  }
  fs::remove_all(dir.path() + "-crash");
}

TEST(EngineStorageTest, CheckpointsTriggeredByLogSizeKeepEverything) {
  TempDir dir;
  EngineOptions options = Options(dir.path());
  options.storage.checkpoint_log_bytes = 4096;
  {
    auto engine = Open(options);
    MustRun(*engine, "/create/table", {{"table_name", "t"}, {"type_id", kRows}});
    for (int i = 0; i < 30; ++i) ASSERT_EQ(Insert(*engine, "t", i * 20, 20).state, JobState::kDone);
    for (int wait = 0; wait < 100 && engine->store()->stats().checkpoints == 0; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_GT(engine->store()->stats().checkpoints, 0);
    // A copy of the directory as a crash would leave it; a later checkpoint
    // may replace or remove a file while it is copied: then copy again.
    std::error_code ec;
    for (int attempt = 0; attempt < 100; ++attempt) {
      fs::remove_all(dir.path() + "-crash", ec);
      fs::copy(dir.path(), dir.path() + "-crash", fs::copy_options::recursive, ec);
      if (!ec) break;
    }
    ASSERT_FALSE(ec) << ec.message();
  }
  fs::remove(dir.path() + "-crash/LOCK");
  auto engine = Open(Options(dir.path() + "-crash"));
  auto ids = Ids(*engine, "t");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, Range(0, 600));
  engine.reset();
  fs::remove_all(dir.path() + "-crash");
}

}  // namespace
}  // namespace engine::storage
