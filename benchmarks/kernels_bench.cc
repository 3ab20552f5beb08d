// Micro-benchmarks of the kernels layer: filter (count with one and with
// three predicates, select), statistics (moments) and gather; and the
// analytical kernels: group-by (sum and count, by the hash and the sort
// path, at 1e2, 1e3 and 1e6 distinct keys), sort (int64, strings), top-k (the
// first 10 or 1000 rows of a descending sort, against the full sort), hash
// join (a probe of every row against a small and a large build side), unique
// and histogram (atomic and sort-based). On the host backend and, when a GPU is
// visible, on CUDA.
//
// Each benchmark reports rows/s (items_per_second), the bytes/s of the
// columns it reads (bytes_per_second), and a baseline measured in the same
// run: a plain copy of the same number of bytes on the same device
// (std::memcpy on the host, a device-to-device copy on CUDA). The counters
//   copy_GB/s   the baseline's speed
//   copy_ratio  kernel bytes/s ÷ copy bytes/s (1.0: as fast as copying the input)
// say how close a kernel gets to memory speed.
//
// Sizes: host 1e5, 1e6, 1e7 rows (and 1e8 with GPUDB_BENCH_LARGE=1, when
// the machine's memory holds it); CUDA 1e6 to 1e9 rows, as far as the
// device's free memory allows. Without a --benchmark_min_time flag each
// benchmark runs for about 0.2 s.

#include <benchmark/benchmark.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/histogram.h"
#include "kernels/join.h"
#include "kernels/memory.h"
#include "kernels/random.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"
#include "kernels/zone_map.h"

namespace {

using kernels::Backend;
using kernels::Buffer;
using kernels::Cmp;
using kernels::Column;
using kernels::Exec;
using kernels::Instr;
using kernels::Op;
using kernels::PhysType;
using kernels::Program;
using kernels::ValueKind;

// Column a: int64 uniform in [0, 1e6); b: double uniform in [0, 1);
// c: int32 uniform in [0, 9]. The predicates:
//   one:   a > 500000                          (~50% of rows)
//   three: a > 500000 and b < 0.5 and c != 3   (~22.5% of rows)
constexpr int64_t kAThreshold = 500000;
constexpr double kBThreshold = 0.5;
constexpr int64_t kCExcluded = 3;

// Bytes a dataset may use per row on a device, at the peak: the three
// columns (20), the selection kept for gather (~4), the copy scratch (8), and
// a select's or gather's output while it runs (~5).
constexpr double kPeakBytesPerRow = 37;
// The analytical kernels' peak: the three columns (20), the copy scratch
// (8), the gather's selection (~4), one extra column (strings: ~18) and a
// sort's temporaries (order, words, ids and the radix sort's second
// buffers: ~45).
constexpr double kAnalyticsPeakBytesPerRow = 100;

struct Device {
  std::unique_ptr<kernels::MemoryResource> mr;
  Exec exec;
};

Device& GetDevice(Backend backend) {
  static Device devices[2];
  Device& d = devices[backend == Backend::kHost ? 0 : 1];
  if (d.mr == nullptr) {
    d.exec.backend = backend;
    d.exec.device = 0;
    kernels::BindThread(d.exec);
    d.exec.stream = kernels::CreateStream(backend, 0);
    d.mr = std::make_unique<kernels::MemoryResource>(
        backend, 0, std::string(kernels::BackendName(backend)) + ":0", 0);
    d.exec.mr = d.mr.get();
  }
  return d;
}

// A region of device memory a kernel reads.
struct Region {
  const void* data;
  size_t bytes;
};

// The data of one (backend, rows) point, made on the device with RandomColumn.
// One is kept at a time: benchmarks are registered size by size.
struct Dataset {
  Backend backend = Backend::kHost;
  int64_t rows = 0;
  Column a, b, c;
  kernels::Selection selected;  // rows where a > kAThreshold: the gather's indices
  // Made when first used: int64 keys uniform in [0, 1e2), [0, 1e3) and
  // [0, 1e6); int64 uniform over (almost) the whole range; strings of 4 to
  // 16 letters.
  Column keys_100, keys_1k, keys_10k, keys_1m, wide, strings;
  Buffer scratch;               // destination of the copy baseline
  std::vector<std::pair<std::string, double>> copy_rates;  // bytes/s by region set
};

// The dataset in use. main() frees it with ReleaseDataset() before exit: its
// buffers must be returned before the devices' pools are destroyed.
std::unique_ptr<Dataset>& CurrentDataset() {
  static std::unique_ptr<Dataset> current;
  return current;
}

void ReleaseDataset() { CurrentDataset().reset(); }

Dataset& GetDataset(Backend backend, int64_t rows) {
  std::unique_ptr<Dataset>& current = CurrentDataset();
  if (current != nullptr && current->backend == backend && current->rows == rows) return *current;
  current.reset();  // free the previous size first
  const Exec& exec = GetDevice(backend).exec;
  auto d = std::make_unique<Dataset>();
  d->backend = backend;
  d->rows = rows;
  kernels::RandomSpec spec;
  spec.seed = 2024;
  spec.min = 0;
  spec.max = 999999;
  spec.stream = 0;
  d->a = kernels::RandomColumn(PhysType::kInt64, 0, false, rows, spec, exec);
  spec.max = 1.0;
  spec.stream = 1;
  d->b = kernels::RandomColumn(PhysType::kFloat64, 0, false, rows, spec, exec);
  spec.max = 9;
  spec.stream = 2;
  d->c = kernels::RandomColumn(PhysType::kInt32, 0, false, rows, spec, exec);
  d->scratch = Buffer(static_cast<size_t>(rows) * 8, exec);
  current = std::move(d);
  return *current;
}

// Bytes/s of copying `regions` into scratch on the dataset's device, measured
// now (once per region set and dataset): one warm-up round, then rounds for
// at least 0.1 s and at least three.
double CopyBytesPerSecond(Dataset& d, const std::string& key, const std::vector<Region>& regions) {
  for (const auto& [k, rate] : d.copy_rates) {
    if (k == key) return rate;
  }
  const Exec& exec = GetDevice(d.backend).exec;
  size_t bytes = 0;
  for (const Region& r : regions) {
    bytes += r.bytes;
    if (r.bytes > d.scratch.size()) d.scratch = Buffer(r.bytes, exec);
  }
  auto round = [&] {
    for (const Region& r : regions) {
      if (d.backend == Backend::kHost) {
        std::memcpy(d.scratch.data(), r.data, r.bytes);
      } else {
        kernels::CopyOnDevice(d.scratch.data(), r.data, r.bytes, exec);
      }
    }
    kernels::Synchronize(exec);
    benchmark::ClobberMemory();
  };
  round();
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int rounds = 0;
  double seconds = 0;
  do {
    round();
    ++rounds;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } while (rounds < 3 || seconds < 0.1);
  const double rate = static_cast<double>(bytes) * rounds / seconds;
  d.copy_rates.emplace_back(key, rate);
  return rate;
}

// Runs the benchmark loop; returns its wall-clock seconds (the benchmarks use
// real time, so this is the time Google Benchmark divides by too).
template <typename Body>
double TimedLoop(benchmark::State& state, Body body) {
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sets rows/s, bytes/s and the copy baseline for a benchmark whose loop took
// `seconds`, processing `items` rows and reading `regions` per iteration.
void Report(benchmark::State& state, Dataset& d, double seconds, int64_t items, const std::string& key,
            const std::vector<Region>& regions) {
  size_t bytes = 0;
  for (const Region& r : regions) bytes += r.bytes;
  state.SetItemsProcessed(state.iterations() * items);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  const double copy = CopyBytesPerSecond(d, key, regions);
  const double kernel = static_cast<double>(bytes) * static_cast<double>(state.iterations()) / seconds;
  state.counters["copy_GB/s"] = copy / 1e9;
  state.counters["copy_ratio"] = kernel / copy;
}

Region ColumnRegion(const Column& c) { return {c.view().data, c.used_bytes()}; }

// Hand-built programs over the dataset's columns (a, b, c).
Program ProgramOver(const Dataset& d) {
  Program p;
  p.columns = {d.a.view(), d.b.view(), d.c.view()};
  return p;
}

void Push(Program& p, Op op, int32_t arg = 0) { p.code.push_back(Instr{op, arg}); }

Program OnePredicate(const Dataset& d) {
  Program p = ProgramOver(d);
  Push(p, Op::kColumn, 0);
  Push(p, Op::kConstInt, p.AddInt(kAThreshold));
  Push(p, Op::kCmpI, static_cast<int32_t>(Cmp::kGt));
  return p;
}

Program ThreePredicates(const Dataset& d) {
  Program p = OnePredicate(d);
  Push(p, Op::kColumn, 1);
  Push(p, Op::kConstFloat, p.AddFloat(kBThreshold));
  Push(p, Op::kCmpF, static_cast<int32_t>(Cmp::kLt));
  Push(p, Op::kAnd);
  Push(p, Op::kColumn, 2);
  Push(p, Op::kConstInt, p.AddInt(kCExcluded));
  Push(p, Op::kCmpI, static_cast<int32_t>(Cmp::kNe));
  Push(p, Op::kAnd);
  return p;
}

void BM_FilterCountOnePredicate(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const kernels::DeviceProgram p = kernels::Upload(OnePredicate(d), exec);
  int64_t count = 0;
  const double seconds = TimedLoop(state, [&] {
    count = kernels::Count(p.view, 0, d.rows, exec);
    benchmark::DoNotOptimize(count);
  });
  state.counters["selectivity"] = static_cast<double>(count) / d.rows;
  Report(state, d, seconds, d.rows, "a", {ColumnRegion(d.a)});
}

void BM_FilterCountThreePredicates(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const kernels::DeviceProgram p = kernels::Upload(ThreePredicates(d), exec);
  int64_t count = 0;
  const double seconds = TimedLoop(state, [&] {
    count = kernels::Count(p.view, 0, d.rows, exec);
    benchmark::DoNotOptimize(count);
  });
  state.counters["selectivity"] = static_cast<double>(count) / d.rows;
  Report(state, d, seconds, d.rows, "abc", {ColumnRegion(d.a), ColumnRegion(d.b), ColumnRegion(d.c)});
}

void BM_FilterSelect(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const kernels::DeviceProgram p = kernels::Upload(OnePredicate(d), exec);
  int64_t count = 0;
  const double seconds = TimedLoop(state, [&] {
    kernels::Selection s = kernels::Select(p.view, 0, d.rows, exec);
    kernels::Synchronize(exec);  // the indices are written, not only counted
    count = s.count;
    benchmark::DoNotOptimize(s.indices.data());
  });
  state.counters["selectivity"] = static_cast<double>(count) / d.rows;
  Report(state, d, seconds, d.rows, "a", {ColumnRegion(d.a)});
}

void BM_Moments(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  Program program = ProgramOver(d);
  Push(program, Op::kColumn, 1);
  program.result = ValueKind::kFloat;
  const kernels::DeviceProgram p = kernels::Upload(program, exec);
  const double seconds = TimedLoop(state, [&] {
    kernels::Moments m = kernels::ComputeMoments(p.view, 0, d.rows, exec);
    benchmark::DoNotOptimize(m);
  });
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// Gathers column b (double) at the rows where a > 500000: the
// materialization that follows a filter. Reads the indices and the values at
// them; counts gathered rows as items.
void BM_Gather(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  if (d.selected.indices.size() == 0 && d.rows > 0) {
    const kernels::DeviceProgram p = kernels::Upload(OnePredicate(d), exec);
    d.selected = kernels::Select(p.view, 0, d.rows, exec);
  }
  const int64_t n = d.selected.count;
  const int64_t* indices = d.selected.indices.as<int64_t>();
  const double seconds = TimedLoop(state, [&] {
    Column out = kernels::Gather(d.b.view(), indices, n, /*nullable=*/false, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(out.view().data);
  });
  const size_t bytes = static_cast<size_t>(n) * 8;
  Report(state, d, seconds, n, "gather", {{d.selected.indices.data(), bytes}, {d.b.view().data, bytes}});
}

void RegisterSize(Backend backend, int64_t rows) {
  const std::string where = std::string("/") + kernels::BackendName(backend);
  struct Entry {
    const char* name;
    void (*fn)(benchmark::State&, Backend);
  };
  const Entry entries[] = {
      {"filter_count_1pred", BM_FilterCountOnePredicate},
      {"filter_count_3pred", BM_FilterCountThreePredicates},
      {"filter_select", BM_FilterSelect},
      {"moments", BM_Moments},
      {"gather", BM_Gather},
  };
  for (const Entry& e : entries) {
    benchmark::RegisterBenchmark((e.name + where).c_str(), e.fn, backend)
        ->Arg(rows)
        ->ArgName("rows")
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// --- The analytical kernels -------------------------------------------------

// One extra column is kept at a time (the benchmarks that share one run
// one after another), so that the largest sizes fit.
const Column& ExtraColumn(Dataset& d, Column Dataset::*member, PhysType type, double min, double max,
                          uint64_t stream) {
  Column& c = d.*member;
  if (c.size() == 0 && d.rows > 0) {
    for (Column Dataset::*other : {&Dataset::keys_100, &Dataset::keys_1k, &Dataset::keys_10k, &Dataset::keys_1m,
                                   &Dataset::wide, &Dataset::strings}) {
      d.*other = Column();
    }
    kernels::RandomSpec spec;
    spec.seed = 2025;
    spec.min = min;
    spec.max = max;
    spec.stream = stream;
    c = kernels::RandomColumn(type, 0, false, d.rows, spec, GetDevice(d.backend).exec);
  }
  return c;
}

const Column& Keys(Dataset& d, int64_t distinct) {
  if (distinct <= 100) return ExtraColumn(d, &Dataset::keys_100, PhysType::kInt64, 0, 99, 12);
  if (distinct <= 1000) return ExtraColumn(d, &Dataset::keys_1k, PhysType::kInt64, 0, 999, 10);
  return distinct <= 10000 ? ExtraColumn(d, &Dataset::keys_10k, PhysType::kInt64, 0, 9999, 13)
                           : ExtraColumn(d, &Dataset::keys_1m, PhysType::kInt64, 0, 999999, 11);
}

// The name part and region label of `distinct` keys.
std::string KeysName(int64_t distinct) {
  return distinct <= 100 ? "keys:1e2" : distinct <= 1000 ? "keys:1e3" : distinct <= 10000 ? "keys:1e4" : "keys:1e6";
}

Region StringRegion(const Column& c) {
  return {c.view().data, static_cast<size_t>(c.chars()) + static_cast<size_t>(c.size() + 1) * 8};
}

// select key, sum(b), count(*) group by key: GroupRows, then the two aggregates.
void BM_GroupBySumCount(benchmark::State& state, Backend backend, int64_t distinct,
                        kernels::GroupOptions options) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const Column& keys = Keys(d, distinct);
  const kernels::ColumnView value = d.b.view();
  int64_t groups = 0;
  bool hashed = false;
  const double seconds = TimedLoop(state, [&] {
    // Read only through Aggregate, as the engine does: the rows need no order.
    options.ordered = false;
    const kernels::Groups g = kernels::GroupRows({keys.view()}, nullptr, d.rows, options, exec);
    Column sum = kernels::Aggregate(g, kernels::AggKind::kSum, &value, nullptr, exec);
    Column count = kernels::Aggregate(g, kernels::AggKind::kCount, nullptr, nullptr, exec);
    kernels::Synchronize(exec);
    groups = g.count;
    hashed = g.method == kernels::GroupMethod::kHash;
    benchmark::DoNotOptimize(sum.view().data);
    benchmark::DoNotOptimize(count.view().data);
  });
  state.counters["groups"] = static_cast<double>(groups);
  state.counters["hashed"] = hashed ? 1 : 0;
  Report(state, d, seconds, d.rows, KeysName(distinct) + "+b", {ColumnRegion(keys), ColumnRegion(d.b)});
}

// select min(b), max(b), avg(b) without GROUP BY: one group of every row,
// as /aggregate/groupby with no key column makes it.
void BM_AggregateNoKeys(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const kernels::ColumnView value = d.b.view();
  const double seconds = TimedLoop(state, [&] {
    kernels::GroupOptions options;
    options.ordered = false;
    const kernels::Groups g = kernels::GroupRows({}, nullptr, d.rows, options, exec);
    const std::vector<Column> out = kernels::Aggregates(
        g, {{kernels::AggKind::kMin, &value}, {kernels::AggKind::kMax, &value}, {kernels::AggKind::kMean, &value}},
        exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(out.data());
  });
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// The distinct values of a key column, in order: GroupRows, GroupFirstRows, Gather.
void BM_Unique(benchmark::State& state, Backend backend, int64_t distinct) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const Column& keys = Keys(d, distinct);
  int64_t count = 0;
  const double seconds = TimedLoop(state, [&] {
    kernels::GroupOptions options;
    options.ordered = false;  // read only through GroupFirstRows, as the engine does
    const kernels::Groups g = kernels::GroupRows({keys.view()}, nullptr, d.rows, options, exec);
    const Buffer first = kernels::GroupFirstRows(g, exec);
    Column out = kernels::Gather(keys.view(), first.as<int64_t>(), g.count, false, exec);
    kernels::Synchronize(exec);
    count = out.size();
    benchmark::DoNotOptimize(out.view().data);
  });
  state.counters["distinct"] = static_cast<double>(count);
  Report(state, d, seconds, d.rows, KeysName(distinct), {ColumnRegion(keys)});
}

// An inner hash join of column a (the probe side: every row, int64
// uniform in [0, 1e6)) with a build side of int64 keys drawn uniform in
// [0, 1e6): `draws` of them, kept distinct (a dimension's primary keys:
// 4e4 draws, ~4% of probe rows match once; 1e6 draws, 632k keys, ~63%
// match once) or with their duplicates (`dups`: 1e6 draws, ~1 match a row,
// many keys matching several). Counts probe rows as items.
void BM_HashJoin(benchmark::State& state, Backend backend, int64_t draws, bool dups) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  kernels::RandomSpec spec;
  spec.seed = 2026;
  spec.min = 0;
  spec.max = 999999;
  spec.stream = 13;
  Column keys = kernels::RandomColumn(PhysType::kInt64, 0, false, draws, spec, exec);
  if (!dups) {
    kernels::GroupOptions options;
    options.ordered = false;
    const kernels::Groups g = kernels::GroupRows({keys.view()}, nullptr, draws, options, exec);
    const Buffer first = kernels::GroupFirstRows(g, exec);
    keys = kernels::Gather(keys.view(), first.as<int64_t>(), g.count, false, exec);
  }
  int64_t pairs = 0;
  const double seconds = TimedLoop(state, [&] {
    kernels::JoinResult j = kernels::HashJoin({d.a.view()}, nullptr, d.rows, {keys.view()}, nullptr, keys.size(),
                                              kernels::JoinKind::kInner, exec);
    kernels::Synchronize(exec);
    pairs = j.pairs;
    benchmark::DoNotOptimize(j.left.data());
  });
  state.counters["build"] = static_cast<double>(keys.size());
  state.counters["pairs"] = static_cast<double>(pairs);
  Report(state, d, seconds, d.rows, "a", {ColumnRegion(d.a)});
}

void BM_SortInt64(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const Column& wide = ExtraColumn(d, &Dataset::wide, PhysType::kInt64, -9e18, 9e18, 12);
  const double seconds = TimedLoop(state, [&] {
    const Buffer order = kernels::SortOrder({{wide.view(), false}}, nullptr, d.rows, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(order.data());
  });
  Report(state, d, seconds, d.rows, "wide", {ColumnRegion(wide)});
}

void BM_SortStrings(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const Column& strings = ExtraColumn(d, &Dataset::strings, PhysType::kVarChars, 4, 16, 13);
  const double seconds = TimedLoop(state, [&] {
    const Buffer order = kernels::SortOrder({{strings.view(), false}}, nullptr, d.rows, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(order.data());
  });
  Report(state, d, seconds, d.rows, "strings", {StringRegion(strings)});
}

// The first k rows of b (double in [0, 1)) descending: /get/records with
// sort_by, sort_order descending and a small limit. k 0 is the full sort the
// engine did before (SortOrder); k > 0 TopKOrder, which selects those rows
// by radix selection and sorts only them.
void BM_TopK(benchmark::State& state, Backend backend, int64_t k) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const double seconds = TimedLoop(state, [&] {
    const Buffer order = k > 0 ? kernels::TopKOrder({{d.b.view(), true}}, nullptr, d.rows, k, exec)
                               : kernels::SortOrder({{d.b.view(), true}}, nullptr, d.rows, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(order.data());
  });
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// The first k rows as SQL's ORDER BY x DESC LIMIT k asks for them of a
// group-by's result: x nullable (a sum; here b with no null), led by
// "(x is null) desc" (PostgreSQL puts nulls first descending) and followed
// by the group key (ties in key order): three keys, the first two constant.
void BM_TopKNullable(benchmark::State& state, Backend backend, int64_t k) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  kernels::RandomSpec spec;
  spec.min = 1;
  spec.max = 1;
  spec.seed = 2026;
  const Column valid = kernels::RandomColumn(PhysType::kInt8, 0, false, d.rows, spec, exec);
  spec.min = spec.max = 0;
  const Column is_null = kernels::RandomColumn(PhysType::kInt8, 0, false, d.rows, spec, exec);
  kernels::ColumnView x = d.b.view();
  x.validity = static_cast<const uint8_t*>(valid.view().data);
  const double seconds = TimedLoop(state, [&] {
    const Buffer order =
        kernels::TopKOrder({{is_null.view(), true}, {x, true}, {d.a.view(), false}}, nullptr, d.rows, k, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(order.data());
  });
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// The zone map of b (kernels/zone_map.h), built whole: what the first
// top-k or filter on a column pays once.
void BM_ZoneMap(benchmark::State& state, Backend backend) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  const double seconds = TimedLoop(state, [&] {
    kernels::ZoneMap map;
    kernels::ExtendZoneMap(d.b.view(), &map, exec);
    benchmark::DoNotOptimize(map.zones.data());
  });
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// BM_TopK's k first rows through the zone map (built before the loop, as a
// table keeps it): TopKOrder over the rows of the zones TopKZones keeps that
// rank at or before its bound (ZoneRowsAtMost).
void BM_TopKZones(benchmark::State& state, Backend backend, int64_t k) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  kernels::ZoneMap map;
  kernels::ExtendZoneMap(d.b.view(), &map, exec);
  int64_t kept = d.rows;
  const double seconds = TimedLoop(state, [&] {
    kernels::RankBound bound;
    const std::vector<int64_t> zones = kernels::TopKZones(map, true, false, k, &bound);
    Buffer rows;
    if (!zones.empty()) rows = kernels::ZoneRowsAtMost(d.b.view(), zones, bound, &kept, exec);
    const Buffer order = kernels::TopKOrder({{d.b.view(), true}}, zones.empty() ? nullptr : rows.as<int64_t>(),
                                            zones.empty() ? d.rows : kept, k, exec);
    kernels::Synchronize(exec);
    benchmark::DoNotOptimize(order.data());
  });
  state.counters["candidates"] = static_cast<double>(kept);
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

// Histogram of b (double in [0, 1)) in `bins` bins.
void BM_Histogram(benchmark::State& state, Backend backend, int64_t bins, kernels::HistogramMethod method) {
  Dataset& d = GetDataset(backend, state.range(0));
  const Exec& exec = GetDevice(backend).exec;
  double total = 0;
  const double seconds = TimedLoop(state, [&] {
    const std::vector<double> h = kernels::Histogram(d.b.view(), nullptr, nullptr, d.rows, 0.0, 1.0,
                                                     1.0 / static_cast<double>(bins), bins, method, exec);
    total = 0;
    for (double x : h) total += x;
    benchmark::DoNotOptimize(total);
  });
  state.counters["counted"] = total / static_cast<double>(d.rows);
  Report(state, d, seconds, d.rows, "b", {ColumnRegion(d.b)});
}

void RegisterAnalytics(Backend backend, int64_t rows) {
  const std::string where = std::string("/") + kernels::BackendName(backend);
  auto add = [&](const std::string& name, auto fn) {
    benchmark::RegisterBenchmark((name + where).c_str(), fn)
        ->Arg(rows)
        ->ArgName("rows")
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  };
  using kernels::GroupMethod;
  using kernels::HistogramMethod;
  for (int64_t distinct : {int64_t{100}, int64_t{1000}, int64_t{10000}, int64_t{1000000}}) {
    const std::string keys = KeysName(distinct);
    // hash: the default table (kDefaultHashGroups groups; falls back to
    // sorting past them); hash_2m: a table for 2^21 groups, to show what
    // hashing costs at many groups; bounds: kAuto told the keys' bounds (as
    // the engine reads them from a zone map), which maps few keys to their
    // slots directly.
    struct Variant {
      const char* name;
      GroupMethod method;
      int64_t hash_max_groups;
      bool bounds;
    };
    for (const Variant& v :
         {Variant{"hash", GroupMethod::kHash, 0, false}, Variant{"hash_2m", GroupMethod::kHash, 1 << 21, false},
          Variant{"sort", GroupMethod::kSort, 0, false}, Variant{"auto", GroupMethod::kAuto, 0, false},
          Variant{"bounds", GroupMethod::kAuto, 0, true}}) {
      kernels::GroupOptions options;
      options.method = v.method;
      options.hash_max_groups = v.hash_max_groups;
      if (v.bounds) {
        options.key_bounds = {{0, distinct - 1}};
      }
      add("groupby_sum_count/" + keys + "/" + v.name, [backend, distinct, options](benchmark::State& st) {
        BM_GroupBySumCount(st, backend, distinct, options);
      });
    }
    add("unique/" + keys, [backend, distinct](benchmark::State& st) { BM_Unique(st, backend, distinct); });
  }
  add("aggregate/min_max_avg/no_keys", [backend](benchmark::State& st) { BM_AggregateNoKeys(st, backend); });
  add("join/int64/build:4e4", [backend](benchmark::State& st) { BM_HashJoin(st, backend, 40000, false); });
  add("join/int64/build:1e6", [backend](benchmark::State& st) { BM_HashJoin(st, backend, 1000000, false); });
  add("join/int64/build:1e6/dups", [backend](benchmark::State& st) { BM_HashJoin(st, backend, 1000000, true); });
  add("sort/int64", [backend](benchmark::State& st) { BM_SortInt64(st, backend); });
  add("sort/string", [backend](benchmark::State& st) { BM_SortStrings(st, backend); });
  for (int64_t k : {int64_t{0}, int64_t{10}, int64_t{1000}}) {
    add(k == 0 ? std::string("topk/float64_desc/full_sort") : "topk/float64_desc/k:" + std::to_string(k),
        [backend, k](benchmark::State& st) { BM_TopK(st, backend, k); });
  }
  add("topk/float64_desc/k:10/zones", [backend](benchmark::State& st) { BM_TopKZones(st, backend, 10); });
  add("topk/float64_desc/k:10/nullable_3keys", [backend](benchmark::State& st) { BM_TopKNullable(st, backend, 10); });
  add("zone_map/float64", [backend](benchmark::State& st) { BM_ZoneMap(st, backend); });
  for (int64_t bins : {int64_t{16}, int64_t{1024}}) {
    for (const auto& [method, name] :
         {std::pair{HistogramMethod::kAtomic, "atomic"}, std::pair{HistogramMethod::kSort, "sort"}}) {
      add("histogram/bins:" + std::to_string(bins) + "/" + name,
          [backend, bins, method = method](benchmark::State& st) {
            BM_Histogram(st, backend, bins, method);
          });
    }
  }
}

bool LargeRequested() {
  const char* v = std::getenv("GPUDB_BENCH_LARGE");
  return v != nullptr && std::string(v) != "" && std::string(v) != "0";
}

}  // namespace

int main(int argc, char** argv) {
  // Default to a short minimum time unless the caller chose one.
  std::vector<char*> args(argv, argv + argc);
  bool has_min_time = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--benchmark_min_time", 20) == 0) has_min_time = true;
  }
  static char default_min_time[] = "--benchmark_min_time=0.2";
  if (!has_min_time) args.push_back(default_min_time);
  int args_count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 1;

  benchmark::AddCustomContext("host_threads", std::to_string(omp_get_max_threads()));
  std::vector<int64_t> host_sizes = {100000, 1000000, 10000000};
  if (LargeRequested()) host_sizes.push_back(100000000);
  const double host_memory =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  for (int64_t rows : host_sizes) {
    if (kAnalyticsPeakBytesPerRow * rows > 0.7 * host_memory) {
      std::cerr << "kernels_bench: " << rows << " rows do not fit in the host's memory; not registered\n";
      break;
    }
    RegisterSize(Backend::kHost, rows);
    RegisterAnalytics(Backend::kHost, rows);
  }

  if (kernels::CudaDeviceCount() > 0) {
    const kernels::CudaDeviceInfo info = kernels::GetCudaDeviceInfo(0);
    benchmark::AddCustomContext("cuda_device", info.name + ", " +
                                                   std::to_string(info.free_memory >> 20) + " MiB free");
    for (int64_t rows : {int64_t{1000000}, int64_t{10000000}, int64_t{100000000}, int64_t{1000000000}}) {
      if (kPeakBytesPerRow * rows > 0.85 * static_cast<double>(info.free_memory)) {
        std::cerr << "kernels_bench: " << rows << " rows do not fit in the CUDA device's free memory; "
                  << "larger sizes not registered\n";
        break;
      }
      RegisterSize(Backend::kCuda, rows);
      if (kAnalyticsPeakBytesPerRow * rows <= 0.85 * static_cast<double>(info.free_memory)) {
        RegisterAnalytics(Backend::kCuda, rows);
      }
    }
  } else {
    benchmark::AddCustomContext("cuda_device", kernels::CudaCompiledIn() ? "none visible" : "not built");
    std::cerr << "kernels_bench: no CUDA device visible; CUDA benchmarks not registered\n";
  }

  benchmark::RunSpecifiedBenchmarks();
  ReleaseDataset();
  benchmark::Shutdown();
  return 0;
}
