// The Ops primitives of one backend, written once: AlgorithmOps implements
// the algorithm half of Ops (scan.inl, gather.inl, random.inl, zones.inl) for a policy
// factory. Included by host_ops.cc and cuda_ops.cu only; each instantiates it
// once, with its own policy.

#pragma once

#include <cstdint>
#include <vector>

#include "kernels/detail/gather.inl"
#include "kernels/detail/hash.inl"
#include "kernels/detail/join.inl"
#include "kernels/detail/ops.h"
#include "kernels/detail/random.inl"
#include "kernels/detail/scan.inl"
#include "kernels/detail/zones.inl"

namespace kernels::detail {

// Implements the algorithm half of Ops for one policy factory, except the
// AnalyticsOps part. `Derived` supplies `policy(exec)` and `kBlockedScans`
// (run scan plans by blocks of rows, as the host does, or row by row).
template <typename Derived>
class AlgorithmOps : public Ops {
 public:
  void EvaluateMask(const ProgramView& p, int64_t begin, int64_t end, uint8_t* mask,
                    const Exec& exec) const override {
    if (end > begin) EvaluateMaskImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end, mask);
  }
  int64_t CountNonZero(const uint8_t* mask, int64_t n, const Exec& exec) const override {
    return n > 0 ? CountNonZeroImpl<Derived::kBlockedScans>(self().policy(exec), mask, n) : 0;
  }
  void CompactIndices(const uint8_t* mask, int64_t begin, int64_t n, int64_t* out,
                      const Exec& exec) const override {
    if (n > 0) CompactIndicesImpl<Derived::kBlockedScans>(self().policy(exec), mask, begin, n, out);
  }
  int64_t CountTrue(const ProgramView& p, int64_t begin, int64_t end, const Exec& exec) const override {
    return end > begin ? CountTrueImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end) : 0;
  }
  void GatherFixed(const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst,
                   const Exec& exec) const override {
    if (n > 0) GatherFixedImpl(self().policy(exec), src, width, idx, n, dst);
  }
  void ScatterFixed(const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst,
                    const Exec& exec) const override {
    if (n > 0) ScatterFixedImpl(self().policy(exec), src, width, idx, n, dst);
  }
  void MapCodes(const int32_t* codes, int64_t n, const int32_t* map, int32_t* out,
                const Exec& exec) const override {
    if (n > 0) MapCodesImpl(self().policy(exec), codes, n, map, out);
  }
  void GatherOffsets(const int64_t* src_offsets, const int64_t* idx, int64_t n, int64_t* dst_offsets,
                     const Exec& exec) const override {
    GatherOffsetsImpl(self().policy(exec), src_offsets, idx, n, dst_offsets);
  }
  void GatherChars(const int64_t* src_offsets, const char* src_chars, const int64_t* idx, int64_t n,
                   const int64_t* dst_offsets, char* dst_chars, const Exec& exec) const override {
    if (n > 0) GatherCharsImpl(self().policy(exec), src_offsets, src_chars, idx, n, dst_offsets, dst_chars);
  }
  void AddToOffsets(int64_t* offsets, int64_t n, int64_t delta, const Exec& exec) const override {
    if (n > 0) AddToOffsetsImpl(self().policy(exec), offsets, n, delta);
  }
  void FoldRowHash(const ColumnView& column, int64_t n, bool first, uint64_t* hashes,
                   const Exec& exec) const override {
    if (n > 0) FoldRowHashImpl(self().policy(exec), column, n, first, hashes);
  }
  void Positions(int64_t first, int64_t n, int64_t* out, const Exec& exec) const override {
    if (n > 0) PositionsImpl(self().policy(exec), first, n, out);
  }
  void ComputeZones(const ColumnView& column, int64_t first, int64_t count, Zone* out,
                    const Exec& exec) const override {
    if (count > 0) ComputeZonesImpl(self().policy(exec), column, first, count, out);
  }
  void CountZoneRowsAtMost(const ColumnView& column, const int64_t* zones, int64_t n, const RankBound& bound,
                           int64_t* counts, const Exec& exec) const override {
    if (n > 0) CountZoneRowsAtMostImpl(self().policy(exec), column, zones, n, bound, counts);
  }
  void WriteZoneRowsAtMost(const ColumnView& column, const int64_t* zones, int64_t n, const RankBound& bound,
                           const int64_t* offsets, int64_t* out, const Exec& exec) const override {
    if (n > 0) WriteZoneRowsAtMostImpl(self().policy(exec), column, zones, n, bound, offsets, out);
  }
  void HashToShard(const uint64_t* hashes, int64_t n, int32_t shards, int32_t* out,
                   const Exec& exec) const override {
    if (n > 0) HashToShardImpl(self().policy(exec), hashes, n, shards, out);
  }
  bool BuildChains(const uint64_t* hashes, int64_t n, uint64_t* table, int64_t capacity, uint64_t* next,
                   const Exec& exec) const override {
    return BuildChainsImpl(self().policy(exec), hashes, n, table, capacity, next, exec);
  }
  int64_t ProbePairs(const uint64_t* table, int64_t capacity, const uint64_t* next, bool unique,
                     const uint64_t* probe, const ColumnView& key, int64_t np, Buffer* out_probe, Buffer* out_build,
                     const Exec& exec) const override {
    // A few CPU threads take blocks of rows: a pass over the probe's hashes
    // keeps up to a block's rows in pairs (one match a row: a key joined to
    // a unique one), which the second pass copies (it probes again only the
    // blocks of more). A GPU thread takes a row, counts, then writes.
    constexpr int64_t kBlock = Derived::kBlockedScans ? kProbeBlock : 1;
    constexpr int64_t kKept = Derived::kBlockedScans ? kBlock : 0;
    return ProbePairsImpl(self().policy(exec), kBlock, kKept, table, capacity, next, unique, probe, key, np,
                          out_probe, out_build, exec);
  }
  void PairKeysEqual(const ColumnView& x, const int64_t* rows_x, const ColumnView& y, const int64_t* rows_y,
                     int64_t n, bool first, uint8_t* mask, const Exec& exec) const override {
    if (n > 0) PairKeysEqualImpl(self().policy(exec), x, rows_x, y, rows_y, n, first, mask);
  }
  void RowsValid(const ColumnView& column, const int64_t* rows, int64_t n, bool first, uint8_t* mask,
                 const Exec& exec) const override {
    if (n > 0) RowsValidImpl(self().policy(exec), column, rows, n, first, mask);
  }
  void ScatterByte(const int64_t* idx, int64_t n, uint8_t value, uint8_t* out, const Exec& exec) const override {
    if (n > 0) ScatterByteImpl(self().policy(exec), idx, n, value, out);
  }
  void ScatterPositions(const int64_t* idx, int64_t n, int64_t first, int64_t* out,
                        const Exec& exec) const override {
    if (n > 0) ScatterPositionsImpl(self().policy(exec), idx, n, first, out);
  }
  void RandomValidity(int64_t n, const RandomSpec& spec, uint8_t* validity,
                      const Exec& exec) const override {
    if (n > 0) RandomValidityImpl(self().policy(exec), n, spec, validity);
  }
  void RandomFixed(PhysType type, int32_t width, int64_t n, const RandomSpec& spec, void* dst,
                   const Exec& exec) const override {
    if (n > 0) RandomFixedImpl(self().policy(exec), type, width, n, spec, dst);
  }
  void RandomOffsets(int64_t n, const RandomSpec& spec, int64_t* offsets,
                     const Exec& exec) const override {
    RandomOffsetsImpl(self().policy(exec), n, spec, offsets);
  }
  void RandomChars(int64_t n, const RandomSpec& spec, const int64_t* offsets, char* chars,
                   const Exec& exec) const override {
    if (n > 0) RandomCharsImpl(self().policy(exec), n, spec, offsets, chars);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace kernels::detail
