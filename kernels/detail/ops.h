#pragma once

// The backend seam. Each backend implements Ops once: host_ops.cc (g++, Thrust
// on OpenMP) and cuda_ops.cu with cuda_analytics.cu (nvcc, Thrust on CUDA
// streams), all by instantiating the same templates (algorithm_ops.inl and
// analytics_algorithms.inl, over one file per algorithm family). The public
// kernel functions pick the implementation with OpsFor(); ops.cc is the only
// file that knows whether the CUDA backend was built.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/groupby.h"
#include "kernels/histogram.h"
#include "kernels/memory.h"
#include "kernels/random.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"
#include "kernels/window.h"
#include "kernels/zone_map.h"

namespace kernels::detail {

// The words of a join's hash table of `capacity` slots (Ops::BuildChains):
// two a slot and two for the hash kEmptyHash, then a filter of capacity / 8.
constexpr int64_t JoinTableWords(int64_t capacity) { return 2 * (capacity + 1) + capacity / 8; }

// The analytical kernels, whole: each is one template of
// analytics_algorithms.inl (the public functions in statistics.h,
// materialize.h, sort.h, groupby.h and histogram.h forward here). Apart from
// Ops so that the CUDA backend can compile them in a translation unit of
// their own (cuda_analytics.cu); statistics are here rather than with the
// other scans only to even out nvcc's time between the two.
class AnalyticsOps {
 public:
  virtual ~AnalyticsOps() = default;
  virtual Moments ComputeMoments(const ProgramView& p, int64_t begin, int64_t end,
                                 const Exec& exec) const = 0;
  virtual Column Materialize(const ProgramView& p, int64_t begin, int64_t end, bool nullable,
                             const Exec& exec) const = 0;
  virtual Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n,
                           const Exec& exec) const = 0;
  virtual Buffer TopKOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                           const Exec& exec) const = 0;
  virtual Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                           const GroupOptions& options, const Exec& exec) const = 0;
  virtual Buffer GroupFirstRows(const Groups& groups, const Exec& exec) const = 0;
  // Each row's value of `column` as its rank among the column's distinct
  // values in ascending order (a null first): *codes (int32 a row) and
  // *value_rows (int64: the first row of each value, in that order). Returns
  // their count, or -1 (nothing allocated) when it is more than max_values.
  virtual int64_t EncodeValues(const ColumnView& column, int64_t max_values, Buffer* codes, Buffer* value_rows,
                               const Exec& exec) const = 0;
  virtual std::vector<Column> Aggregates(const Groups& groups, const std::vector<AggregateCall>& calls,
                                         const Exec& exec) const = 0;
  virtual std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights,
                                        const int64_t* rows, int64_t n, double start, double end,
                                        double interval, int64_t bins, HistogramMethod method,
                                        const Exec& exec) const = 0;
  virtual Column Window(const WindowSpec& spec, int64_t n, const Exec& exec) const = 0;
};

class Ops : public AnalyticsOps {
 public:

  // Runtime.
  virtual int DeviceCount() const = 0;
  virtual CudaDeviceInfo DeviceInfo(int device) const = 0;
  // Raw allocation, no accounting; returns null when the device is out of memory.
  virtual void* Allocate(size_t bytes, int device, void* stream) const = 0;
  virtual void Deallocate(void* p, int device, void* stream) const noexcept = 0;
  virtual void* CreateStream(int device) const = 0;
  virtual void DestroyStream(int device, void* stream) const = 0;
  virtual void BindThread(int device) const = 0;
  virtual void Synchronize(const Exec& exec) const = 0;
  // kernels::DeviceFailure.
  virtual std::string DeviceFailure(const Exec& exec) const = 0;
  virtual void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec& exec) const = 0;
  virtual void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec& exec) const = 0;
  virtual void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec& exec) const = 0;
  virtual void Fill(void* dst, uint8_t value, size_t bytes, const Exec& exec) const = 0;

  // Algorithms.
  virtual void EvaluateMask(const ProgramView& p, int64_t begin, int64_t end, uint8_t* mask,
                            const Exec& exec) const = 0;
  virtual int64_t CountNonZero(const uint8_t* mask, int64_t n, const Exec& exec) const = 0;
  // Writes begin + i for each i with mask[i] != 0, in order.
  virtual void CompactIndices(const uint8_t* mask, int64_t begin, int64_t n, int64_t* out,
                              const Exec& exec) const = 0;
  virtual int64_t CountTrue(const ProgramView& p, int64_t begin, int64_t end,
                            const Exec& exec) const = 0;
  // dst[i] = src[idx[i]] for rows of `width` bytes.
  virtual void GatherFixed(const void* src, int32_t width, const int64_t* idx, int64_t n,
                           void* dst, const Exec& exec) const = 0;
  // dst[idx[i]] = src[i] for rows of `width` bytes.
  virtual void ScatterFixed(const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst,
                            const Exec& exec) const = 0;
  // out[i] = map[codes[i]] (int32; out may be codes).
  virtual void MapCodes(const int32_t* codes, int64_t n, const int32_t* map, int32_t* out, const Exec& exec) const = 0;
  // dst_offsets (n + 1 entries) of the strings src[idx[i]].
  virtual void GatherOffsets(const int64_t* src_offsets, const int64_t* idx, int64_t n,
                             int64_t* dst_offsets, const Exec& exec) const = 0;
  virtual void GatherChars(const int64_t* src_offsets, const char* src_chars, const int64_t* idx,
                           int64_t n, const int64_t* dst_offsets, char* dst_chars,
                           const Exec& exec) const = 0;
  virtual void AddToOffsets(int64_t* offsets, int64_t n, int64_t delta, const Exec& exec) const = 0;
  // hashes[i] folds in row i of `column` (first: starts from a fixed seed).
  virtual void FoldRowHash(const ColumnView& column, int64_t n, bool first, uint64_t* hashes,
                           const Exec& exec) const = 0;
  // out[i] = first + i.
  virtual void Positions(int64_t first, int64_t n, int64_t* out, const Exec& exec) const = 0;
  // out[z - first] = zone z of `column` (kernels/zone_map.h), for zones
  // first .. first + count - 1.
  virtual void ComputeZones(const ColumnView& column, int64_t first, int64_t count, Zone* out,
                            const Exec& exec) const = 0;
  // counts[i] = the rows of zone zones[i] of `column` whose key ranks at or
  // before `bound`; Write puts them, ascending, at out + offsets[i].
  virtual void CountZoneRowsAtMost(const ColumnView& column, const int64_t* zones, int64_t n, const RankBound& bound,
                                   int64_t* counts, const Exec& exec) const = 0;
  virtual void WriteZoneRowsAtMost(const ColumnView& column, const int64_t* zones, int64_t n, const RankBound& bound,
                                   const int64_t* offsets, int64_t* out, const Exec& exec) const = 0;
  // out[i] = hashes[i] % shards.
  virtual void HashToShard(const uint64_t* hashes, int64_t n, int32_t shards, int32_t* out, const Exec& exec) const = 0;
  // Joins (join.inl): the hash table of n build hashes: `table`
  // (JoinTableWords(capacity); capacity a power of two, at least 8
  // and above the distinct hashes) and next (n entries, a chain per
  // distinct hash). Returns whether the hashes are all distinct.
  virtual bool BuildChains(const uint64_t* hashes, int64_t n, uint64_t* table, int64_t capacity, uint64_t* next,
                           const Exec& exec) const = 0;
  // The (probe row, build position) pairs of equal hash, in ascending probe
  // row order: *out_probe and *out_build, int64 each, allocated on exec's
  // device; returns their count. `unique`: what BuildChains returned.
  // The probe rows' hashes: `probe`, or (null) those of the one key column
  // `key` (no nulls), rows 0..np-1 (FoldHash), computed as the probe goes.
  virtual int64_t ProbePairs(const uint64_t* table, int64_t capacity, const uint64_t* next, bool unique,
                             const uint64_t* probe, const ColumnView& key, int64_t np, Buffer* out_probe,
                             Buffer* out_build, const Exec& exec) const = 0;
  // mask[i] (and-ed with its value unless first) = x[rows_x[i]] and
  // y[rows_y[i]] both valid and equal.
  virtual void PairKeysEqual(const ColumnView& x, const int64_t* rows_x, const ColumnView& y, const int64_t* rows_y,
                             int64_t n, bool first, uint8_t* mask, const Exec& exec) const = 0;
  // mask[i] (and-ed unless first) = column valid at rows[i] (null rows: i).
  virtual void RowsValid(const ColumnView& column, const int64_t* rows, int64_t n, bool first, uint8_t* mask,
                         const Exec& exec) const = 0;
  // out[idx[i]] = value; out[idx[i]] = first + i.
  virtual void ScatterByte(const int64_t* idx, int64_t n, uint8_t value, uint8_t* out, const Exec& exec) const = 0;
  virtual void ScatterPositions(const int64_t* idx, int64_t n, int64_t first, int64_t* out, const Exec& exec) const = 0;
  virtual void RandomValidity(int64_t n, const RandomSpec& spec, uint8_t* validity,
                              const Exec& exec) const = 0;
  virtual void RandomFixed(PhysType type, int32_t width, int64_t n, const RandomSpec& spec,
                           void* dst, const Exec& exec) const = 0;
  // Offsets (n + 1 entries) of random string lengths in [spec.min, spec.max].
  virtual void RandomOffsets(int64_t n, const RandomSpec& spec, int64_t* offsets,
                             const Exec& exec) const = 0;
  virtual void RandomChars(int64_t n, const RandomSpec& spec, const int64_t* offsets, char* chars,
                           const Exec& exec) const = 0;
};

const Ops& HostOps();
// Tests: false makes the host backend group and aggregate by the paths the
// CUDA backend takes (radix sort by group id, reduce_by_key), so that they
// run where there is no GPU; true (the default) restores its own.
void SetHostSerialGroups(bool serial);
const Ops& CudaOps();  // only in builds with the CUDA backend
// CUDA's AnalyticsOps, in cuda_analytics.cu; CudaOps() forwards to it.
const AnalyticsOps& CudaAnalyticsOps();
const Ops& OpsFor(Backend backend);

}  // namespace kernels::detail
