// The first k rows of a sort order without sorting every row (TopKOrder in
// sort.h): a radix selection over the sort plan's key words, then the full
// sort (RunSortPlan) of the few candidates. Written once for both backends;
// reuses the sort plan of sort.inl (PlanSort, PackWord, StringPrefix,
// RunSortPlan) and is instantiated through AnalyticsAlgorithms
// (analytics_algorithms.inl) in host_ops.cc and cuda_analytics.cu.
//
// The selection key is the sequence of the plan's radix words, most
// significant first (their lexicographic order is the sort's order), ending
// at the first string key, which contributes its 8-byte prefix: a "coarse"
// word, whose ties are not ties of the key. A pivot prefix is fixed digit by
// digit (11 bits a round, starting below the bits that all remaining rows
// share): a histogram of the next digit over the rows that match the prefix
// finds the bucket that holds the k-th row; rows before the prefix are in,
// rows after it out. Once the rows up to the prefix are few, they are
// compacted into a list (in input order) and later rounds work on the list.
// The candidates (that list, or, when every word is fixed and the key is
// exact, the rows before the pivot plus the first ties in input order) are
// then sorted stably, which gives exactly the full sort's first k rows.
// Each word the passes over all rows reach is computed once for every row
// (8 bytes a row), so that they read it rather than evaluate the key again.
// For small k over many rows, a threshold from a sample first narrows the
// rows to a few survivors in one pass with nothing stored per row (see
// ThresholdSurvivors), and the selection runs on those.

#pragma once

#include <thrust/for_each.h>
#include <thrust/scan.h>
#include <thrust/sort.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/column.h"
#include "kernels/detail/atomics.h"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/sort.inl"
#include "kernels/hd.h"
#include "kernels/memory.h"
#include "kernels/sort.h"

namespace kernels::detail {

constexpr int32_t kSelectDigitBits = 11;
constexpr int64_t kSelectBins = int64_t{1} << kSelectDigitBits;
// Words kept in the selection key (each is a functor argument on CUDA); a
// key with more stops there, as at a coarse word.
constexpr int32_t kMaxSelectWords = 3;

// One word of the selection key: a radix word of the sort plan, or the
// prefix of a string key (coarse).
struct SelectWord {
  bool coarse = false;
  RadixWord word;              // !coarse
  ColumnView col;              // coarse: the strings,
  const int64_t* index = nullptr;  // read at index[p] (or p)
  bool descending = false;
};

KERNELS_HD inline uint64_t SelectWordBits(const SelectWord& w, int64_t p) {
  if (!w.coarse) return PackWord(w.word, p);
  const uint64_t v = StringPrefix(w.col, w.index != nullptr ? w.index[p] : p);
  return w.descending ? ~v : v;
}

// The words and the pivot prefix: words [0, depth) equal pivot[] in full;
// in word `depth` the bits from `shift` up are fixed (shift 64: none).
// cache[j]: word j of every sort position, computed once (the passes over
// all rows then read 8 bytes a row rather than evaluate the key); null
// where not computed.
struct SelectKey {
  SelectWord words[kMaxSelectWords];
  const uint64_t* cache[kMaxSelectWords] = {};
  uint64_t pivot[kMaxSelectWords] = {};
  int32_t count = 0;
  int32_t depth = 0;
  int32_t shift = 64;
};

KERNELS_HD inline uint64_t HighBits(uint64_t v, int32_t shift) { return shift >= 64 ? 0 : v >> shift; }

// Sort position p against the pivot prefix: -1 before it, 0 matching, 1
// after. When matching and depth < count, *next holds word `depth`.
KERNELS_HD inline uint64_t SelectKeyWord(const SelectKey& s, int32_t j, int64_t p) {
  return s.cache[j] != nullptr ? s.cache[j][p] : SelectWordBits(s.words[j], p);
}

KERNELS_HD inline int ComparePrefix(const SelectKey& s, int64_t p, uint64_t* next) {
  for (int32_t j = 0; j < s.depth; ++j) {
    const uint64_t v = SelectKeyWord(s, j, p);
    if (v != s.pivot[j]) return v < s.pivot[j] ? -1 : 1;
  }
  if (s.depth < s.count) {
    const uint64_t v = SelectKeyWord(s, s.depth, p);
    const uint64_t a = HighBits(v, s.shift), b = HighBits(s.pivot[s.depth], s.shift);
    if (a != b) return a < b ? -1 : 1;
    *next = v;
  }
  return 0;
}

// The source of a round: list[i] (sort positions, in input order), or i.
KERNELS_HD inline int64_t SourcePosition(const int64_t* list, int64_t i) { return list != nullptr ? list[i] : i; }

// The range of word `depth` over the matching rows ({~0, 0} when none).
struct WordRange {
  uint64_t lo, hi;
};

struct MatchingWordRange {
  SelectKey key;
  const int64_t* list;
  KERNELS_HD WordRange operator()(int64_t i) const {
    uint64_t v = 0;
    if (ComparePrefix(key, SourcePosition(list, i), &v) != 0) return WordRange{~uint64_t{0}, 0};
    return WordRange{v, v};
  }
};

struct MergeWordRanges {
  KERNELS_HD WordRange operator()(const WordRange& a, const WordRange& b) const {
    return WordRange{a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
  }
};

// MatchingWordRange over all rows that also stores word `depth` of each
// matching row in out[p] (0 for the others, which never match again).
struct StoreWordRange {
  SelectKey key;
  uint64_t* out;
  KERNELS_HD WordRange operator()(int64_t p) const {
    uint64_t v = 0;
    const int c = ComparePrefix(key, p, &v);
    out[p] = v;
    return c != 0 ? WordRange{~uint64_t{0}, 0} : WordRange{v, v};
  }
};

// The digit (bits [low, low + kSelectDigitBits) of word `depth`) of source
// row i, or -1 when it does not match the prefix.
struct SelectDigit {
  SelectKey key;
  const int64_t* list;
  int32_t low;
  uint64_t mask;
  KERNELS_HD int64_t operator()(int64_t i) const {
    uint64_t v = 0;
    if (ComparePrefix(key, SourcePosition(list, i), &v) != 0) return -1;
    return static_cast<int64_t>((v >> low) & mask);
  }
};

struct SelectCountAtomic {
  SelectDigit digit;
  AtomicWord* counts;
  KERNELS_HD void operator()(int64_t i) const {
    const int64_t d = digit(i);
    if (d >= 0) AtomicAdd(&counts[d], 1);
  }
};

// Backends with few threads: run c counts its rows into its own bins.
struct SelectCountRun {
  SelectDigit digit;
  int64_t m, chunk;
  int64_t* counts;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < m ? (c + 1) * chunk : m;
    int64_t* cr = counts + c * kSelectBins;
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t d = digit(i);
      if (d >= 0) ++cr[d];
    }
  }
};

struct SumSelectRuns {
  const int64_t* counts;
  int64_t runs;
  KERNELS_HD int64_t operator()(int64_t b) const {
    int64_t total = 0;
    for (int64_t c = 0; c < runs; ++c) total += counts[c * kSelectBins + b];
    return total;
  }
};

// Which source rows a compaction keeps.
enum class SelectKeep : uint8_t {
  kUpToPivot,  // before the prefix or matching it
  kTies,       // matching it
  kTiesUpTo,   // before it, or matching it at source index <= limit
};

struct SelectMask {
  SelectKey key;
  const int64_t* list;
  SelectKeep keep;
  int64_t limit;
  KERNELS_HD uint8_t operator()(int64_t i) const {
    uint64_t v = 0;
    const int c = ComparePrefix(key, SourcePosition(list, i), &v);
    switch (keep) {
      case SelectKeep::kTies:
        return c == 0 ? 1 : 0;
      case SelectKeep::kTiesUpTo:
        return c < 0 || (c == 0 && i <= limit) ? 1 : 0;
      default:
        return c <= 0 ? 1 : 0;
    }
  }
};

// Source indices (or, with a list, its entries) of the `count` rows that
// `keep` keeps, in order.
template <typename D>
Buffer SelectCompact(const D& be, const SelectKey& key, const int64_t* list, int64_t m, SelectKeep keep,
                     int64_t limit, int64_t count, bool map_through_list, const Exec& exec) {
  Buffer mask(static_cast<size_t>(m), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(m), mask.as<uint8_t>(),
                    SelectMask{key, list, keep, limit});
  // The count comes from the histograms; a mismatch would overrun `idx`.
  if (be.CountNonZero(mask.as<uint8_t>(), m, exec) != count) {
    throw std::logic_error("TopKOrder: the candidates do not match their count");
  }
  Buffer idx(static_cast<size_t>(count) * sizeof(int64_t), exec);
  be.CompactIndices(mask.as<uint8_t>(), 0, m, idx.as<int64_t>(), exec);
  if (list == nullptr || !map_through_list || count == 0) return idx;
  Buffer out(static_cast<size_t>(count) * sizeof(int64_t), exec);
  be.GatherFixed(list, 8, idx.as<int64_t>(), count, out.data(), exec);
  return out;
}

// Counts of the digit at bits [low, low + kSelectDigitBits) of word
// `depth` over the source rows that match the prefix.
template <typename D>
std::vector<int64_t> SelectHistogram(const D& be, const SelectKey& key, const int64_t* list, int64_t m,
                                     int32_t low, int32_t bits, const Exec& exec) {
  const SelectDigit digit{key, list, low, (uint64_t{1} << bits) - 1};
  std::vector<int64_t> out(static_cast<size_t>(kSelectBins));
  Buffer counts(static_cast<size_t>(kSelectBins) * sizeof(int64_t), exec);
  if (SerialGroups(be)) {
    const int64_t runs = RunsFor(m, kSelectBins);
    Buffer per_run(static_cast<size_t>(runs * kSelectBins) * sizeof(int64_t), exec);
    be.Fill(per_run.data(), 0, per_run.size(), exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                       SelectCountRun{digit, m, (m + runs - 1) / runs, per_run.as<int64_t>()});
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(kSelectBins), counts.as<int64_t>(),
                      SumSelectRuns{per_run.as<int64_t>(), runs});
  } else {
    be.Fill(counts.data(), 0, counts.size(), exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), m, SelectCountAtomic{digit, counts.as<AtomicWord>()});
  }
  be.CopyToHostSync(out.data(), counts.data(), counts.size(), exec);
  return out;
}

// Sorts candidate sort positions (in input order) by the keys and returns
// the first k rows.
template <typename D>
Buffer SortCandidates(const D& be, const std::vector<SortColumn>& cols, const int64_t* rows, Buffer positions,
                      int64_t count, int64_t k, const Exec& exec) {
  Buffer perm = std::move(positions);
  if (rows != nullptr) {
    Buffer mapped(static_cast<size_t>(count) * sizeof(int64_t), exec);
    be.GatherFixed(rows, 8, perm.as<int64_t>(), count, mapped.data(), exec);
    perm = std::move(mapped);
  }
  RunSortPlan(be, PlanSort(cols), perm.as<int64_t>(), count, exec);
  if (count == k) return perm;
  Buffer out(static_cast<size_t>(k) * sizeof(int64_t), exec);
  be.CopyOnDevice(out.data(), perm.data(), out.size(), exec);
  return out;
}

// Few enough candidates to sort at once.
inline int64_t TopKBudget(int64_t k) { return k + std::max<int64_t>(k, 4096); }

// Whether TopKOrder selects rather than sorts everything (sort.h).
inline bool SelectsTopK(int64_t n, int64_t k) {
  return k <= n / 4 && k <= std::max<int64_t>(int64_t{1} << 16, n / 64) && n > TopKBudget(k);
}

// --- Small k: a threshold from a sample, then one filtering pass -----------
//
// Word 0 of the selection key orders rows consistently with the sort (the
// sort refines it: a row before another never has a larger word 0). The
// k-th smallest word 0 of a strided sample of the rows is a threshold t
// with at least k rows at or below it (the sample's own rows), so the
// sort's first k rows all have word 0 <= t; those rows (the survivors),
// in input order, hold the answer. When they are few (a sample that spreads
// like the data leaves about k * n / samples), TopKOrder recurses on them;
// else (many ties at t, a skewed sample) it selects by radix as before.

// Word 0 of sample row i (sort position i * stride).
struct SampleWord {
  SelectWord word;
  int64_t stride;
  KERNELS_HD uint64_t operator()(int64_t i) const { return SelectWordBits(word, i * stride); }
};

// Whether sort position p survives: word 0 <= t. A word that is one
// float64 or int64 column without nulls (typed != 0) is read directly, as
// its OrderBits xor `flip` (descending: all ones).
struct WordAtMost {
  SelectWord word;
  uint64_t t;
  int32_t typed = 0;  // 1: float64, 2: int64
  const void* data = nullptr;
  const int64_t* index = nullptr;
  uint64_t flip = 0;
  KERNELS_HD uint8_t operator()(int64_t p) const {
    uint64_t v;
    if (typed == 1) {
      v = DoubleOrderBits(static_cast<const double*>(data)[index != nullptr ? index[p] : p]) ^ flip;
    } else if (typed == 2) {
      v = (static_cast<uint64_t>(static_cast<const int64_t*>(data)[index != nullptr ? index[p] : p]) ^
           0x8000000000000000ull) ^ flip;
    } else {
      v = SelectWordBits(word, p);
    }
    return v <= t ? 1 : 0;
  }
};

inline WordAtMost MakeWordAtMost(const SelectWord& w, uint64_t t) {
  WordAtMost pred{w, t};
  const KeyField& f = w.word.fields[0];
  if (!w.coarse && w.word.count == 1 && f.kind == FieldKind::kValue && f.bits == 64 && f.shift == 0 &&
      f.col.validity == nullptr &&
      (f.col.type == PhysType::kFloat64 || f.col.type == PhysType::kInt64)) {
    pred.typed = f.col.type == PhysType::kFloat64 ? 1 : 2;
    pred.data = f.col.data;
    pred.index = f.index;
    pred.flip = f.descending ? ~uint64_t{0} : 0;
  }
  return pred;
}

// Backends with few threads: run c counts its survivors (no mask) ...
struct CountAtMostRun {
  WordAtMost pred;
  int64_t n, chunk;
  KERNELS_HD int64_t operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t count = 0;
    for (int64_t p = c * chunk; p < end; ++p) count += pred(p);
    return count;
  }
};

// ... then writes them from its offset on, in input order.
struct WriteAtMostRun {
  WordAtMost pred;
  int64_t n, chunk;
  const int64_t* offsets;
  int64_t* out;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t* o = out + offsets[c];
    for (int64_t p = c * chunk; p < end; ++p) {
      if (pred(p)) *o++ = p;
    }
  }
};

// Rows sampled for the threshold (about k * n / samples survive), or 0
// where filtering does not pay: at least max(16384, 64 k), aiming at 256 k,
// and at most an eighth of the rows.
inline int64_t TopKSampleSize(int64_t n, int64_t k) {
  if (k > 1024) return 0;
  const int64_t least = std::max<int64_t>(16384, 64 * k);
  const int64_t s = std::min<int64_t>(std::max<int64_t>(least, 256 * k), n / 8);
  return s >= least ? s : 0;
}

// Word `word` of sort position p * stride, as a range of one value.
struct StridedWordRange {
  SelectWord word;
  int64_t stride;
  KERNELS_HD WordRange operator()(int64_t p) const {
    const uint64_t v = SelectWordBits(word, p * stride);
    return WordRange{v, v};
  }
};

// Whether `word` is the same at every one of the n sort positions: first
// over `samples` of them (which almost always answers no, cheaply), then
// over all.
template <typename D>
bool WordConstant(const D& be, const SelectWord& word, int64_t n, int64_t samples, const Exec& exec) {
  const auto range = [&](int64_t count, int64_t stride) {
    return thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(count),
                                    StridedWordRange{word, stride}, WordRange{~uint64_t{0}, 0}, MergeWordRanges{});
  };
  const WordRange sampled = range(samples, n / samples);
  if (sampled.lo != sampled.hi) return false;
  const WordRange all = range(n, 1);
  return all.lo == all.hi;
}

// The sort positions (ascending) whose word 0 is at most the sample's k-th
// smallest, when there are at most n / 8 of them; else an empty Buffer and
// *count -1.
template <typename D>
Buffer ThresholdSurvivors(const D& be, const SelectWord& word, int64_t n, int64_t k, int64_t samples,
                          int64_t* count, const Exec& exec) {
  *count = -1;
  uint64_t t = 0;
  {
    Buffer sample(static_cast<size_t>(samples) * sizeof(uint64_t), exec);
    uint64_t* sp = sample.as<uint64_t>();
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(samples), sp, SampleWord{word, n / samples});
    {
      auto scope = be.sort_scope(exec, sample.size());
      thrust::sort(scope.policy(), sp, sp + samples);
    }
    be.CopyToHostSync(&t, sp + (k - 1), sizeof(uint64_t), exec);
  }
  const WordAtMost pred = MakeWordAtMost(word, t);
  const int64_t limit = n / 8;
  if (SerialGroups(be)) {
    const int64_t runs = std::min<int64_t>(256, n / 16384 + 1);
    const int64_t chunk = (n + runs - 1) / runs;
    Buffer counts(static_cast<size_t>(runs + 1) * sizeof(int64_t), exec);
    int64_t* cp = counts.as<int64_t>();
    be.Fill(cp + runs, 0, sizeof(int64_t), exec);
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(runs), cp, CountAtMostRun{pred, n, chunk});
    // Each run's first index in the output (and the total at [runs]).
    thrust::exclusive_scan(be.policy(exec), cp, cp + runs + 1, cp);
    int64_t total = 0;
    be.CopyToHostSync(&total, cp + runs, sizeof(int64_t), exec);
    if (total > limit) return Buffer();
    Buffer out(static_cast<size_t>(std::max<int64_t>(total, 1)) * sizeof(int64_t), exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                       WriteAtMostRun{pred, n, chunk, cp, out.as<int64_t>()});
    *count = total;
    return out;
  }
  Buffer mask(static_cast<size_t>(n), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), mask.as<uint8_t>(), pred);
  const int64_t total = be.CountNonZero(mask.as<uint8_t>(), n, exec);
  if (total > limit) return Buffer();
  Buffer out(static_cast<size_t>(std::max<int64_t>(total, 1)) * sizeof(int64_t), exec);
  be.CompactIndices(mask.as<uint8_t>(), 0, n, out.as<int64_t>(), exec);
  *count = total;
  return out;
}

template <typename D>
Buffer TopKOrderAlgo(const D& be, const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                     const Exec& exec) {
  if (k < 0) throw std::invalid_argument("TopKOrder: k must not be negative");
  if (n <= 0 || k == 0) return Buffer();
  const int64_t kept = k < n ? k : n;
  if (keys.empty()) return RowsOrIota(be, rows, kept, exec);
  if (!SelectsTopK(n, k)) {
    Buffer all = SortOrderAlgo(be, keys, rows, n, exec);
    if (kept == n) return all;
    Buffer out(static_cast<size_t>(kept) * sizeof(int64_t), exec);
    be.CopyOnDevice(out.data(), all.data(), out.size(), exec);
    return out;
  }

  // The key words, most significant first, read at sort position p (rows[p] or p).
  std::vector<SortColumn> cols, indexed;
  for (const SortKey& key : keys) {
    SortColumn c;
    c.col = key.column;
    c.descending = key.descending;
    cols.push_back(c);
    c.index = rows;
    indexed.push_back(c);
  }
  const std::vector<SortPass> plan = PlanSort(indexed);
  SelectKey sk;
  bool exact = true;  // every tie of the words is a tie of the whole key
  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    if (sk.count == kMaxSelectWords) {
      exact = false;
      break;
    }
    SelectWord& w = sk.words[sk.count++];
    if (it->radix) {
      w.word = it->word;
      // A word the same in every row orders nothing: the null flags of a
      // key without nulls, SQL's "(x is null)" before a non-null x.
      if (WordConstant(be, w, n, std::min<int64_t>(n, 1024), exec)) --sk.count;
    } else {
      w.coarse = true;
      w.col = it->compare.col;
      w.index = it->compare.index;
      w.descending = it->compare.descending;
      exact = false;
      break;
    }
  }

  // No word varies: every row ties, and ties keep their input order.
  if (sk.count == 0) return RowsOrIota(be, rows, kept, exec);

  const int64_t samples = TopKSampleSize(n, k);
  if (samples > 0) {
    int64_t count = -1;
    Buffer survivors = ThresholdSurvivors(be, sk.words[0], n, k, samples, &count, exec);
    if (count >= 0) {
      if (count < k) throw std::logic_error("TopKOrder: the threshold lost rows");
      if (rows != nullptr && count > 0) {
        Buffer mapped(static_cast<size_t>(count) * sizeof(int64_t), exec);
        be.GatherFixed(rows, 8, survivors.as<int64_t>(), count, mapped.data(), exec);
        survivors = std::move(mapped);
      }
      // The survivors' rows, in input order: their first k are the answer.
      return TopKOrderAlgo(be, keys, survivors.as<int64_t>(), count, k, exec);
    }
  }
  Buffer caches[kMaxSelectWords];

  // Few enough candidates to sort; and few enough rows up to the prefix to
  // keep them in a list rather than scan all rows again.
  const int64_t budget = TopKBudget(k);
  const int64_t list_limit = std::max<int64_t>(budget, n / 16);
  Buffer list;                  // the source: sort positions, in input order
  const int64_t* lp = nullptr;  // null: all positions 0..n-1
  int64_t m = n;                // source rows
  int64_t before = 0;           // source rows before the prefix (all in)
  int64_t matching = n;         // source rows matching the prefix
  while (!(lp != nullptr && m <= budget) && sk.depth < sk.count) {
    if (sk.shift == 64) {
      // A new word: its bits above the highest one that differs among the
      // matching rows are common to them.
      WordRange r;
      if (lp == nullptr) {
        // Passes over all rows follow: compute the word once.
        Buffer& cache = caches[sk.depth];
        cache = Buffer(static_cast<size_t>(n) * sizeof(uint64_t), exec);
        r = thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(n),
                                     StoreWordRange{sk, cache.as<uint64_t>()}, WordRange{~uint64_t{0}, 0},
                                     MergeWordRanges{});
        sk.cache[sk.depth] = cache.as<uint64_t>();
      } else {
        r = thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(m), MatchingWordRange{sk, lp},
                                     WordRange{~uint64_t{0}, 0}, MergeWordRanges{});
      }
      int32_t varying = 0;
      while (varying < 64 && ((r.lo ^ r.hi) >> varying) != 0) ++varying;
      sk.pivot[sk.depth] = varying == 64 ? 0 : (r.lo >> varying) << varying;
      sk.shift = varying;
      if (varying == 0) {
        ++sk.depth;
        sk.shift = 64;
        continue;
      }
    }
    const int32_t bits = std::min(sk.shift, kSelectDigitBits);
    const int32_t low = sk.shift - bits;
    const std::vector<int64_t> counts = SelectHistogram(be, sk, lp, m, low, bits, exec);
    int64_t bin = 0, skipped = 0;
    while (bin + 1 < kSelectBins && before + skipped + counts[bin] < k) skipped += counts[bin++];
    before += skipped;
    matching = counts[bin];
    if (before + matching < k) throw std::logic_error("TopKOrder: the selection lost rows");
    sk.pivot[sk.depth] |= static_cast<uint64_t>(bin) << low;
    sk.shift = low;
    if (sk.shift == 0) {
      ++sk.depth;
      sk.shift = 64;
    }
    if (lp != nullptr || before + matching <= list_limit) {
      list = SelectCompact(be, sk, lp, m, SelectKeep::kUpToPivot, 0, before + matching, true, exec);
      lp = list.as<int64_t>();
      m = before + matching;
    }
  }

  if (!(lp != nullptr && m <= budget)) {
    if (!exact) {
      // Ties of a prefix word: every row up to it is a candidate.
      if (lp == nullptr) {
        list = SelectCompact(be, sk, nullptr, n, SelectKeep::kUpToPivot, 0, before + matching, true, exec);
        m = before + matching;
      }
    } else {
      // The whole key is fixed and too many rows tie with it: the rows
      // before it and the first k - before ties, in input order.
      const int64_t need = k - before;
      Buffer ties = SelectCompact(be, sk, lp, m, SelectKeep::kTies, 0, matching, false, exec);
      int64_t last = 0;  // source index of the last tie taken
      be.CopyToHostSync(&last, ties.as<int64_t>() + (need - 1), sizeof(int64_t), exec);
      list = SelectCompact(be, sk, lp, m, SelectKeep::kTiesUpTo, last, k, true, exec);
      m = k;
    }
  }
  for (Buffer& cache : caches) cache.Reset();  // before the sort's own temporaries
  return SortCandidates(be, cols, rows, std::move(list), m, k, exec);
}

}  // namespace kernels::detail
