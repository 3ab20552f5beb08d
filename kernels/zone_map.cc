#include "kernels/zone_map.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "kernels/detail/ops.h"

namespace kernels {
namespace {

// The bound (RankBound) zone `z`'s best key gives. REQUIRES: z has rows.
RankBound BestOf(const Zone& z, bool descending, bool nulls_first) {
  RankBound b{descending, nulls_first, 0, 0};
  if (nulls_first ? z.nulls > 0 : z.values == 0) {
    // Its first key is a null: first of all (class 0) when nulls come
    // first; when they come last, a zone of nulls only ranks after every
    // value (class 1).
    b.cls = nulls_first ? 0 : 1;
    return b;
  }
  b.cls = nulls_first ? 1 : 0;
  b.image = descending ? ~z.hi : z.lo;
  return b;
}

bool Before(const RankBound& a, const RankBound& b) { return a.cls < b.cls || (a.cls == b.cls && a.image < b.image); }

// The value whose order image (as Zone keeps it) is `bits`, as an integer
// or a double.
int64_t IntOfBits(PhysType type, uint64_t bits) {
  switch (type) {
    case PhysType::kInt8:
      return static_cast<int8_t>(static_cast<uint8_t>(bits ^ 0x80u));
    case PhysType::kInt16:
      return static_cast<int16_t>(static_cast<uint16_t>(bits ^ 0x8000u));
    case PhysType::kInt32:
      return static_cast<int32_t>(static_cast<uint32_t>(bits ^ 0x80000000u));
    default:
      return static_cast<int64_t>(bits ^ 0x8000000000000000ull);
  }
}

double DoubleOfBits(PhysType type, uint64_t bits) {
  if (type == PhysType::kFloat64) {
    const uint64_t b = (bits >> 63) != 0 ? bits & 0x7FFFFFFFFFFFFFFFull : ~bits;
    double v;
    std::memcpy(&v, &b, sizeof(v));
    return v;
  }
  if (type == PhysType::kFloat32) {
    const uint32_t u = static_cast<uint32_t>(bits);
    const uint32_t b = (u >> 31) != 0 ? u & 0x7FFFFFFFu : ~u;
    float v;
    std::memcpy(&v, &b, sizeof(v));
    return v;
  }
  return static_cast<double>(IntOfBits(type, bits));
}

bool IsFloat(PhysType type) { return type == PhysType::kFloat32 || type == PhysType::kFloat64; }

// Term t's verdict on zone z of its column (`type`).
ZoneVerdict TermVerdict(const PlanTerm& t, PhysType type, const Zone& z) {
  if (t.kind == TermKind::kIsNull) {
    const int64_t hits = t.negate ? z.values : z.nulls;
    const int64_t misses = t.negate ? z.nulls : z.values;
    return hits == 0 ? ZoneVerdict::kNone : misses == 0 ? ZoneVerdict::kAll : ZoneVerdict::kSome;
  }
  if (t.kind != TermKind::kRange) return ZoneVerdict::kSome;
  if (z.values == 0) return ZoneVerdict::kNone;  // nulls fail every range test, negated too
  // Whether every value is inside the range, and whether none is. NaN is
  // inside none; a zone whose largest image is NaN's may hold values up to
  // +inf besides.
  bool all_inside, none_inside;
  if (t.as_float) {
    const double lo = DoubleOfBits(type, z.lo);
    const bool nan = IsFloat(type) && std::isnan(DoubleOfBits(type, z.hi));
    const double hi = nan ? std::numeric_limits<double>::infinity() : DoubleOfBits(type, z.hi);
    all_inside = !nan && lo >= t.flo && hi <= t.fhi;
    none_inside = std::isnan(lo) || hi < t.flo || lo > t.fhi;
  } else {
    const int64_t lo = IntOfBits(type, z.lo), hi = IntOfBits(type, z.hi);
    all_inside = lo >= t.ilo && hi <= t.ihi;
    none_inside = hi < t.ilo || lo > t.ihi;
  }
  // Nulls fail the test either way.
  const bool all = !t.negate ? all_inside : none_inside;
  const bool none = !t.negate ? none_inside : all_inside;
  if (none) return ZoneVerdict::kNone;
  return all && z.nulls == 0 ? ZoneVerdict::kAll : ZoneVerdict::kSome;
}

}  // namespace

bool HasZoneMap(PhysType type) { return type != PhysType::kFixedChars && type != PhysType::kVarChars; }

bool ZoneMapIntBounds(const ZoneMap& map, int64_t* lo, int64_t* hi) {
  const bool integer = map.type == PhysType::kInt8 || map.type == PhysType::kInt16 || map.type == PhysType::kInt32 ||
                       map.type == PhysType::kInt64;
  if (!integer) return false;
  uint64_t least = ~uint64_t{0}, greatest = 0;
  for (const Zone& z : map.zones) {
    if (z.values == 0) continue;
    least = std::min(least, z.lo);
    greatest = std::max(greatest, z.hi);
  }
  if (least > greatest) return false;
  // An image is the value plus 2^(bits - 1) in the value's width (its sign
  // bit flipped: Zone); taken back modulo 2^64.
  const uint64_t sign = uint64_t{1} << (8 * ValueWidth(map.type, 0) - 1);
  *lo = static_cast<int64_t>(least - sign);
  *hi = static_cast<int64_t>(greatest - sign);
  return true;
}

void ExtendZoneMap(const ColumnView& column, ZoneMap* map, const Exec& exec) {
  if (!HasZoneMap(column.type)) throw std::invalid_argument("ExtendZoneMap: the column's type has no zone map");
  if (map->rows > column.size) throw std::invalid_argument("ExtendZoneMap: the column lost rows");
  if (map->rows == 0) map->zones.clear();
  map->type = column.type;
  const int64_t first = map->rows / kZoneRows;  // a partial last zone is recomputed
  const int64_t total = (column.size + kZoneRows - 1) / kZoneRows;
  map->rows = column.size;
  map->zones.resize(static_cast<size_t>(total));
  if (total <= first) return;
  const int64_t count = total - first;
  Buffer out(static_cast<size_t>(count) * sizeof(Zone), exec);
  detail::OpsFor(exec.backend).ComputeZones(column, first, count, out.as<Zone>(), exec);
  CopyToHostSync(map->zones.data() + first, out.data(), out.size(), exec);
}

std::vector<int64_t> TopKZones(const ZoneMap& map, bool descending, bool nulls_first, int64_t k, RankBound* bound) {
  const int64_t zones = static_cast<int64_t>(map.zones.size());
  if (k <= 0 || zones < k) return {};
  std::vector<RankBound> best;
  best.reserve(map.zones.size());
  for (const Zone& z : map.zones) best.push_back(BestOf(z, descending, nulls_first));
  std::vector<RankBound> sorted = best;
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), Before);
  *bound = sorted[static_cast<size_t>(k - 1)];
  std::vector<int64_t> out;
  int64_t kept = 0;
  for (int64_t z = 0; z < zones; ++z) {
    if (Before(*bound, best[static_cast<size_t>(z)])) continue;
    out.push_back(z);
    kept += std::min((z + 1) * kZoneRows, map.rows) - z * kZoneRows;
  }
  if (kept > map.rows / 2) return {};
  return out;
}

std::vector<ZoneVerdict> PlanZoneVerdicts(const ScanPlan& plan, const std::vector<const ZoneMap*>& maps, int64_t rows) {
  if (plan.kind != PlanKind::kPredicate || static_cast<int32_t>(maps.size()) != plan.terms) {
    throw std::invalid_argument("PlanZoneVerdicts: needs a predicate plan and a map (or null) per term");
  }
  const int64_t zones = (rows + kZoneRows - 1) / kZoneRows;
  std::vector<ZoneVerdict> out(static_cast<size_t>(zones), ZoneVerdict::kAll);
  for (int32_t t = 0; t < plan.terms; ++t) {
    const ZoneMap* map = maps[static_cast<size_t>(t)];
    for (int64_t z = 0; z < zones; ++z) {
      ZoneVerdict& v = out[static_cast<size_t>(z)];
      if (v == ZoneVerdict::kNone) continue;
      const bool known = map != nullptr && z < static_cast<int64_t>(map->zones.size()) &&
                         std::min(map->rows, rows) >= std::min((z + 1) * kZoneRows, rows);
      const ZoneVerdict term =
          known ? TermVerdict(plan.term[t], map->type, map->zones[static_cast<size_t>(z)]) : ZoneVerdict::kSome;
      if (term == ZoneVerdict::kNone) {
        v = ZoneVerdict::kNone;
      } else if (term == ZoneVerdict::kSome) {
        v = ZoneVerdict::kSome;
      }
    }
  }
  return out;
}

Buffer ZoneRowsAtMost(const ColumnView& column, const std::vector<int64_t>& zones, const RankBound& bound,
                      int64_t* count, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  const int64_t n = static_cast<int64_t>(zones.size());
  *count = 0;
  if (n == 0) return Buffer(sizeof(int64_t), exec);
  // The zones, then each one's count of rows (an exclusive scan of them on
  // the host: few zones), then the rows.
  Buffer list(static_cast<size_t>(2 * n + 1) * sizeof(int64_t), exec);
  int64_t* zp = list.as<int64_t>();
  int64_t* counts = zp + n;
  CopyToDevice(zp, zones.data(), static_cast<size_t>(n) * sizeof(int64_t), exec);
  ops.CountZoneRowsAtMost(column, zp, n, bound, counts, exec);
  std::vector<int64_t> offsets(static_cast<size_t>(n) + 1, 0);
  CopyToHostSync(offsets.data() + 1, counts, static_cast<size_t>(n) * sizeof(int64_t), exec);
  for (size_t i = 1; i < offsets.size(); ++i) offsets[i] += offsets[i - 1];
  *count = offsets.back();
  CopyToDevice(counts, offsets.data(), static_cast<size_t>(n + 1) * sizeof(int64_t), exec);
  Buffer out(static_cast<size_t>(std::max<int64_t>(*count, 1)) * sizeof(int64_t), exec);
  ops.WriteZoneRowsAtMost(column, zp, n, bound, counts, out.as<int64_t>(), exec);
  return out;
}

}  // namespace kernels
