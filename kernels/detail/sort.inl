// Sorting (SortOrder in sort.h) and the sort plans that group-by, aggregates,
// histograms and top-k reuse: each key is cut into bit fields packed into
// 32- or 64-bit radix words (PlanSort, PackWord), or compared as strings
// with an 8-byte prefix; RunSortPlan runs the plan's stable passes, least
// significant first. Templates over a backend D (see AnalyticsAlgorithms in
// analytics_algorithms.inl for what D supplies).

#pragma once

#include <thrust/functional.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/column.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/hd.h"
#include "kernels/memory.h"
#include "kernels/sort.h"

namespace kernels::detail {

// A column's key is cut into bit fields, most significant first: a null flag
// (nullable columns), then the value (charN: 8-byte chunks). Fields of
// neighbouring keys share a 32- or 64-bit radix word when they fit.
enum class FieldKind : uint8_t {
  kValue,  // OrderBits of the value; 0 for a null row
  kNull,   // 1 for a valid row, 0 for a null one (nulls first)
  kPlain,  // an integer less `lo`, below 2^bits (0 for a null row)
};

struct KeyField {
  ColumnView col;
  const int64_t* index = nullptr;  // the row of sort position p: index ? index[p] : p
  int32_t byte_offset = 0;         // charN: the chunk's first byte
  FieldKind kind = FieldKind::kValue;
  uint8_t bits = 0;
  uint8_t shift = 0;  // position in the packed word
  bool descending = false;
  int64_t lo = 0;  // kPlain: the value taken as 0
};

constexpr int kMaxFields = 8;
constexpr int32_t kMaxRadixCharWidth = 32;  // wider charN sort by comparison

struct RadixWord {
  KeyField fields[kMaxFields];
  int32_t count = 0;
  int32_t bits = 0;
};

KERNELS_HD inline uint64_t FieldBits(const KeyField& f, int64_t p) {
  const int64_t row = f.index != nullptr ? f.index[p] : p;
  uint64_t v;
  switch (f.kind) {
    case FieldKind::kNull:
      v = f.col.is_valid(row) ? 1 : 0;
      break;
    case FieldKind::kPlain:
      v = f.col.is_valid(row) ? static_cast<uint64_t>(IntegerAt(f.col, row)) - static_cast<uint64_t>(f.lo) : 0;
      break;
    default:
      v = f.col.is_valid(row) ? OrderBits(f.col, row, f.byte_offset, f.bits / 8) : 0;
      break;
  }
  if (f.descending) v = ~v & (f.bits >= 64 ? ~uint64_t{0} : ((uint64_t{1} << f.bits) - 1));
  return v;
}

KERNELS_HD inline uint64_t PackWord(const RadixWord& w, int64_t p) {
  uint64_t key = 0;
  for (int32_t k = 0; k < w.count; ++k) key |= FieldBits(w.fields[k], p) << w.fields[k].shift;
  return key;
}

// The packed word of sort position perm[i] (or i when perm is null).
template <typename K>
struct PackKeys {
  RadixWord word;
  const int64_t* perm;
  KERNELS_HD K operator()(int64_t i) const {
    return static_cast<K>(PackWord(word, perm != nullptr ? perm[i] : i));
  }
};

// A sort position with the first 8 bytes of its string key (big-endian,
// zero-padded; 0 for null), so that a comparison sort mostly compares
// words it holds and reads the strings only when the prefixes tie.
struct PrefixedPosition {
  uint64_t prefix;
  int64_t pos;
};

KERNELS_HD inline uint64_t StringPrefix(const ColumnView& col, int64_t row) {
  if (!col.is_valid(row)) return 0;
  const char* s;
  int64_t len;
  StringAt(col, row, s, len);
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v = (v << 8) | (k < len ? static_cast<unsigned char>(s[k]) : 0u);
  return v;
}

struct MakePrefixed {
  ColumnView col;
  const int64_t* index;
  const int64_t* perm;
  KERNELS_HD PrefixedPosition operator()(int64_t i) const {
    const int64_t p = perm[i];
    return PrefixedPosition{StringPrefix(col, index != nullptr ? index[p] : p), p};
  }
};

struct PositionOf {
  KERNELS_HD int64_t operator()(const PrefixedPosition& k) const { return k.pos; }
};

// Orders positions by a string key: null < strings (bytewise), or reversed.
struct StringKeyLess {
  ColumnView col;
  const int64_t* index;
  bool descending;
  KERNELS_HD bool operator()(const PrefixedPosition& a, const PrefixedPosition& b) const {
    if (a.prefix != b.prefix) return descending ? a.prefix > b.prefix : a.prefix < b.prefix;
    const int64_t ra = index != nullptr ? index[a.pos] : a.pos;
    const int64_t rb = index != nullptr ? index[b.pos] : b.pos;
    const bool va = col.is_valid(ra), vb = col.is_valid(rb);
    if (va != vb) return descending ? va : vb;
    if (!va) return false;
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(col, ra, sa, na);
    StringAt(col, rb, sb, nb);
    const int c = CompareBytes(sa, na, sb, nb);
    return descending ? c > 0 : c < 0;
  }
};

// One key of an internal sort: `col` read at index[p] (or p) for sort
// position p. known_bits > 0: an integer column whose values less `lo`
// are below 2^known_bits (group ids; bounded group keys), sorted by that.
struct SortColumn {
  ColumnView col;
  const int64_t* index = nullptr;
  bool descending = false;
  int32_t known_bits = 0;
  int64_t lo = 0;
};

// One stable sort of a plan: a radix word, or a comparison on a string key.
struct SortPass {
  bool radix = true;
  RadixWord word;
  SortColumn compare;
};

inline bool IsRadixKey(const ColumnView& c) {
  return c.type != PhysType::kVarChars && !(c.type == PhysType::kFixedChars && c.width > kMaxRadixCharWidth);
}

// The passes that sort by `cols` (the first most significant), least
// significant pass first, as LSD radix sort needs them.
inline std::vector<SortPass> PlanSort(const std::vector<SortColumn>& cols) {
  std::vector<SortPass> passes;
  SortPass cur;
  auto flush = [&] {
    if (cur.word.count > 0) passes.push_back(cur);
    cur = SortPass();
  };
  for (auto it = cols.rbegin(); it != cols.rend(); ++it) {
    const SortColumn& c = *it;
    if (c.known_bits == 0 && !IsRadixKey(c.col)) {
      flush();
      SortPass p;
      p.radix = false;
      p.compare = c;
      passes.push_back(p);
      continue;
    }
    std::vector<KeyField> fields;  // least significant first
    KeyField f;
    f.col = c.col;
    f.index = c.index;
    f.descending = c.descending;
    if (c.known_bits > 0) {
      f.kind = FieldKind::kPlain;
      f.bits = static_cast<uint8_t>(c.known_bits);
      f.lo = c.lo;
      fields.push_back(f);
    } else if (c.col.type == PhysType::kFixedChars) {
      for (int32_t off = (c.col.width - 1) / 8 * 8; off >= 0 && c.col.width > 0; off -= 8) {
        f.byte_offset = off;
        f.bits = static_cast<uint8_t>(8 * (c.col.width - off < 8 ? c.col.width - off : 8));
        fields.push_back(f);
      }
    } else {
      f.bits = static_cast<uint8_t>(8 * ValueWidth(c.col.type, c.col.width));
      fields.push_back(f);
    }
    if (c.col.validity != nullptr) {
      f.kind = FieldKind::kNull;
      f.byte_offset = 0;
      f.bits = 1;
      fields.push_back(f);
    }
    for (KeyField& field : fields) {
      if (cur.word.bits + field.bits > 64 || cur.word.count == kMaxFields) flush();
      field.shift = static_cast<uint8_t>(cur.word.bits);
      cur.word.fields[cur.word.count++] = field;
      cur.word.bits += field.bits;
    }
  }
  flush();
  return passes;
}

inline size_t WordBytes(const SortPass& p) { return p.word.bits <= 32 ? 4 : 8; }

// 1 where the key at sample i (position i * stride) is less than the one
// before it.
template <typename K>
struct KeyDescent {
  const K* keys;
  int64_t stride;
  KERNELS_HD int64_t operator()(int64_t i) const { return i > 0 && keys[i * stride] < keys[(i - 1) * stride] ? 1 : 0; }
};

// Whether keys[0, n) are in ascending order: a strided sample first (which
// answers no for most inputs at the cost of a few cache lines), then all.
template <typename D, typename K>
bool KeysAscending(const D& be, const K* keys, int64_t n, const Exec& exec) {
  const auto descents = [&](int64_t count, int64_t stride) {
    return thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(count), KeyDescent<K>{keys, stride},
                                    int64_t{0}, thrust::plus<int64_t>());
  };
  const int64_t samples = n < 1024 ? n : 1024;
  return descents(samples, n / samples) == 0 && descents(n, 1) == 0;
}

// A stable sort of (keys, values) pairs by key; radix sort on both backends.
// Keys in order already (a table kept in key order) are left as they are.
template <typename D, typename K>
void StableSortPairs(const D& be, K* keys, int64_t* values, int64_t n, const Exec& exec) {
  if (n <= 1 || KeysAscending(be, keys, n, exec)) return;
  auto scope = be.sort_scope(exec, static_cast<size_t>(n) * (sizeof(K) + sizeof(int64_t)));
  thrust::stable_sort_by_key(scope.policy(), keys, keys + n, values);
}

// Sorts the sort positions (or rows) in `perm` by `plan`, stably. Returns
// the buffer that holds the packed words of the last pass (when radix).
template <typename D>
Buffer RunSortPlan(const D& be, const std::vector<SortPass>& plan, int64_t* perm, int64_t n,
                   const Exec& exec) {
  size_t word_bytes = 0;
  for (const SortPass& p : plan) {
    if (p.radix && WordBytes(p) > word_bytes) word_bytes = WordBytes(p);
  }
  Buffer words(static_cast<size_t>(n) * word_bytes, exec);
  for (const SortPass& p : plan) {
    if (!p.radix) {
      Buffer keyed(static_cast<size_t>(n) * sizeof(PrefixedPosition), exec);
      PrefixedPosition* k = keyed.as<PrefixedPosition>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k,
                        MakePrefixed{p.compare.col, p.compare.index, perm});
      {
        auto scope = be.sort_scope(exec, keyed.size());
        thrust::stable_sort(scope.policy(), k, k + n,
                            StringKeyLess{p.compare.col, p.compare.index, p.compare.descending});
      }
      thrust::transform(be.policy(exec), k, k + n, perm, PositionOf{});
    } else if (WordBytes(p) == 4) {
      uint32_t* k = words.as<uint32_t>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k, PackKeys<uint32_t>{p.word, perm});
      StableSortPairs(be, k, perm, n, exec);
    } else {
      uint64_t* k = words.as<uint64_t>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k, PackKeys<uint64_t>{p.word, perm});
      StableSortPairs(be, k, perm, n, exec);
    }
  }
  return words;
}

// `rows` copied, or 0..n-1.
template <typename D>
Buffer RowsOrIota(const D& be, const int64_t* rows, int64_t n, const Exec& exec) {
  Buffer perm(static_cast<size_t>(n) * sizeof(int64_t), exec);
  if (rows != nullptr) {
    be.CopyOnDevice(perm.data(), rows, static_cast<size_t>(n) * sizeof(int64_t), exec);
  } else {
    thrust::sequence(be.policy(exec), perm.as<int64_t>(), perm.as<int64_t>() + n);
  }
  return perm;
}

// A string key (or a charN too wide for radix words) over at least
// kRankMinRows rows whose sample shows at most one distinct value per
// kRankRowsPerValue rows is sorted as its values' ranks: the rows grouped
// by value (hashing), the distinct values sorted, and each row given its
// value's rank, an integer the radix sort takes (groupby.inl).
constexpr int64_t kRankMinRows = int64_t{1} << 16;
constexpr int64_t kRankRowsPerValue = 16;

// The ranks of `key`'s values at `rows` (or 0..n-1) in `key`'s order, as a
// device int32 column of key.column.size rows read at the rows (others
// unset); false (nothing allocated) when its values are too many.
template <typename D>
bool RankSortKey(const D& be, const SortKey& key, const int64_t* rows, int64_t n, Buffer* ranks,
                 const Exec& exec);

template <typename D>
Buffer SortOrderAlgo(const D& be, const std::vector<SortKey>& keys, const int64_t* rows, int64_t n,
                     const Exec& exec, bool rank_strings = true) {
  if (n <= 0) return Buffer();
  std::vector<SortColumn> cols;
  std::vector<Buffer> ranks;  // the ranks' storage, while the sort reads it
  for (const SortKey& k : keys) {
    SortColumn c;
    c.col = k.column;
    c.descending = k.descending;
    Buffer r;
    if (rank_strings && n >= kRankMinRows && !IsRadixKey(k.column) && RankSortKey(be, k, rows, n, &r, exec)) {
      c.col = ColumnView();
      c.col.type = PhysType::kInt32;
      c.col.size = k.column.size;
      c.col.data = r.data();
      c.descending = false;  // ranks are in the key's order
      ranks.push_back(std::move(r));
    }
    cols.push_back(c);
  }
  Buffer perm = RowsOrIota(be, rows, n, exec);
  RunSortPlan(be, PlanSort(cols), perm.as<int64_t>(), n, exec);
  return perm;
}

}  // namespace kernels::detail
