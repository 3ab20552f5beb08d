#pragma once

// Zone maps: the range of a numeric column's values in each zone (a run of
// kZoneRows consecutive rows), so that a question can skip the zones that
// cannot hold a row it wants (DuckDB keeps the same per row group). They
// are built in one pass over the column and kept on the host (32 bytes a
// zone: a 1e7-row column has 2,442 zones).

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/hd.h"
#include "kernels/memory.h"
#include "kernels/scan_plan.h"

namespace kernels {

constexpr int64_t kZoneRows = 4096;

// One zone: the smallest and largest of its non-null values as the sort
// orders them (their order-preserving unsigned images: integers with the
// sign bit flipped; floats with NaN above +inf and -0.0 equal to 0.0), and
// how many of its rows hold a value and how many a null. lo > hi when
// values == 0.
struct Zone {
  uint64_t lo = ~uint64_t{0};
  uint64_t hi = 0;
  int64_t values = 0;
  int64_t nulls = 0;
};

// The zones of a column's first `rows` rows: zone z covers rows
// [z * kZoneRows, min((z + 1) * kZoneRows, rows)).
struct ZoneMap {
  PhysType type = PhysType::kInt64;
  int64_t rows = 0;
  std::vector<Zone> zones;
};

// Whether columns of `type` have zone maps: the integers and floats (dates,
// times and timestamps are integers); not strings.
bool HasZoneMap(PhysType type);

// The least and greatest non-null values over the zones of an integer
// column (int8 to int64); false when the column is not one or holds no
// value.
bool ZoneMapIntBounds(const ZoneMap& map, int64_t* lo, int64_t* hi);

// Brings `map` up to date with `column` after rows were appended: the zones
// of rows [0, map->rows) are kept (those rows must be unchanged), the last
// one recomputed when it was partial, and the zones of the new rows added.
// An empty map (rows 0) is built whole. REQUIRES: HasZoneMap(column.type),
// map->rows <= column.size. Synchronizes.
void ExtendZoneMap(const ColumnView& column, ZoneMap* map, const Exec& exec);

// A bound on the keys of one column in an order, descending or not, with
// nulls first or last (kernels::SortOrder puts them first ascending, last
// descending; SQL's NULLS FIRST and LAST choose): a key's rank is the pair
// (class, image) compared in turn, the class 0 for nulls when they come
// first, else for values, the image the value's order image (Zone), inverted
// descending, 0 for nulls.
struct RankBound {
  bool descending = false;
  bool nulls_first = true;
  int32_t cls = 0;
  uint64_t image = 0;
};

// Whether a key (null, or a value of order image `image`) ranks at or
// before the bound.
KERNELS_HD inline bool RankAtMost(const RankBound& b, bool valid, uint64_t image) {
  const int32_t cls = valid == !b.nulls_first ? 0 : 1;
  const uint64_t v = !valid ? 0 : b.descending ? ~image : image;
  return cls < b.cls || (cls == b.cls && v <= b.image);
}

// The zones that can hold the first k rows of an order whose first key is
// the zone map's column (as RankBound says). Each zone's best key (the
// first its rows would give) is a key of one of its rows, so the k-th best
// of those over all zones, *bound, is a key with at least k rows at or
// before it, and every row of the first k, ties included, ranks at or before
// it and lies in a zone whose best key does. Returns those zones,
// ascending; or none when they hold more than half the rows (or there are
// fewer than k zones), where skipping does not pay.
std::vector<int64_t> TopKZones(const ZoneMap& map, bool descending, bool nulls_first, int64_t k, RankBound* bound);

// The rows of `zones` (ascending zone numbers) of `column` whose key ranks
// at or before `bound`, ascending, as a device int64 list (*count of
// them): with TopKZones' zones and bound, at least k rows, the first k
// among them. Two passes over those zones, a zone a thread.
Buffer ZoneRowsAtMost(const ColumnView& column, const std::vector<int64_t>& zones, const RankBound& bound,
                      int64_t* count, const Exec& exec);

// What a zone's bounds tell of a kPredicate scan plan (scan_plan.h) over
// the zone's rows: true for none of them, maybe for some, or for all.
enum class ZoneVerdict : uint8_t { kNone, kSome, kAll };

// The plan's verdict on each zone of rows [0, rows), from the bounds of its
// terms' columns: maps[t] is the zone map of term t's column over at least
// those rows, or null (then the term says kSome). Range and null tests read
// the bounds (a float zone that may hold NaN is never all inside a range);
// the other terms say kSome. A conjunction: kNone when a term says so, kAll
// when all do. REQUIRES: maps.size() == plan.terms.
std::vector<ZoneVerdict> PlanZoneVerdicts(const ScanPlan& plan, const std::vector<const ZoneMap*>& maps, int64_t rows);

}  // namespace kernels
