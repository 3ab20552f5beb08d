// HashJoin against a nested-loop reference; RowsNotIn and ReplacementOrder.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <tuple>

#include "kernels/detail/hash.inl"
#include "kernels/join.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace test {
namespace {

using JoinTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(JoinTest);

using Pair = std::pair<int64_t, int64_t>;

// The pairs of a result, sorted, and the unmatched rows.
struct Rows {
  std::vector<Pair> pairs;
  std::vector<int64_t> left_only, right_only;
};

Rows PairsOf(const JoinResult& r, const Exec& exec) {
  Rows out;
  const std::vector<int64_t> l = FromDevice<int64_t>(r.left.as<int64_t>(), r.pairs, exec);
  const std::vector<int64_t> rr = FromDevice<int64_t>(r.right.as<int64_t>(), r.pairs, exec);
  for (int64_t i = 0; i < r.pairs; ++i) out.pairs.emplace_back(l[i], rr[i]);
  std::sort(out.pairs.begin(), out.pairs.end());
  out.left_only = FromDevice<int64_t>(r.left_only.as<int64_t>(), r.left_only_count, exec);
  out.right_only = FromDevice<int64_t>(r.right_only.as<int64_t>(), r.right_only_count, exec);
  return out;
}

TEST_P(JoinTest, MatchesNestedLoopsOnTwoKeysWithNullsDuplicatesAndStrings) {
  // Left: 3000 rows; right: 700 (the build side), keys (int % 50 nullable, string % 7).
  std::vector<int32_t> li, ri;
  std::vector<uint8_t> lv, rv;
  std::vector<std::string> ls, rs;
  for (int i = 0; i < 3000; ++i) {
    li.push_back(i % 50);
    lv.push_back(i % 17 == 0 ? 0 : 1);
    ls.push_back("s" + std::to_string(i % 7));
  }
  for (int i = 0; i < 700; ++i) {
    ri.push_back((i * 3) % 61);
    rv.push_back(i % 11 == 0 ? 0 : 1);
    rs.push_back("s" + std::to_string(i % 5));
  }
  const Column a = Dev(Numbers(li, lv)), b = Dev(VarChars(ls));
  const Column c = Dev(Numbers(ri, rv)), d = Dev(FixedChars(4, rs));
  Rows expected;
  std::vector<bool> lm(3000), rm(700);
  for (int64_t i = 0; i < 3000; ++i) {
    for (int64_t j = 0; j < 700; ++j) {
      if (lv[i] && rv[j] && li[i] == ri[j] && ls[i] == rs[j]) {
        expected.pairs.emplace_back(i, j);
        lm[i] = rm[j] = true;
      }
    }
  }
  for (int64_t i = 0; i < 3000; ++i)
    if (!lm[i]) expected.left_only.push_back(i);
  for (int64_t j = 0; j < 700; ++j)
    if (!rm[j]) expected.right_only.push_back(j);
  ASSERT_GT(expected.pairs.size(), 1000u);
  for (JoinKind kind : {JoinKind::kInner, JoinKind::kLeft, JoinKind::kRight, JoinKind::kFull}) {
    const Rows got =
        PairsOf(HashJoin({a.view(), b.view()}, nullptr, 3000, {c.view(), d.view()}, nullptr, 700, kind, exec_), exec_);
    EXPECT_EQ(got.pairs, expected.pairs);
    const bool left = kind == JoinKind::kLeft || kind == JoinKind::kFull;
    const bool right = kind == JoinKind::kRight || kind == JoinKind::kFull;
    EXPECT_EQ(got.left_only, left ? expected.left_only : std::vector<int64_t>{});
    EXPECT_EQ(got.right_only, right ? expected.right_only : std::vector<int64_t>{});
  }
  // The sides swapped (the build side is then the left one): the same pairs.
  const Rows swapped = PairsOf(
      HashJoin({c.view(), d.view()}, nullptr, 700, {a.view(), b.view()}, nullptr, 3000, JoinKind::kFull, exec_), exec_);
  std::vector<Pair> back;
  for (const Pair& p : swapped.pairs) back.emplace_back(p.second, p.first);
  std::sort(back.begin(), back.end());
  EXPECT_EQ(back, expected.pairs);
  EXPECT_EQ(swapped.left_only, expected.right_only);
}

TEST_P(JoinTest, RowListsEmptySidesAndFloats) {
  const Column l = Dev(Numbers(std::vector<double>{1.0, -0.0, std::nan("1"), 2.5, 1.0}));
  const Column r = Dev(Numbers(std::vector<double>{0.0, 1.0, std::nan("2"), 7.0}));
  // Left rows 1, 2, 4 only; right rows 0..3.
  const Buffer rows = ToDevice(std::vector<int64_t>{1, 2, 4}, exec_);
  const Rows got =
      PairsOf(HashJoin({l.view()}, rows.as<int64_t>(), 3, {r.view()}, nullptr, 4, JoinKind::kFull, exec_), exec_);
  EXPECT_EQ(got.pairs, (std::vector<Pair>{{1, 0}, {2, 2}, {4, 1}}));
  EXPECT_TRUE(got.left_only.empty());
  EXPECT_EQ(got.right_only, (std::vector<int64_t>{3}));
  // An empty side.
  const Column none = Dev(Numbers(std::vector<double>{}));
  const Rows empty =
      PairsOf(HashJoin({l.view()}, nullptr, 5, {none.view()}, nullptr, 0, JoinKind::kLeft, exec_), exec_);
  EXPECT_TRUE(empty.pairs.empty());
  EXPECT_EQ(empty.left_only, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST_P(JoinTest, ManyRowsWithOneKeyMatchEveryPair) {
  // Skew: 2000 left rows and 300 right rows all of key 7, beside unique keys.
  std::vector<int64_t> lk(2000 + 1000, 7), rk(300 + 1000, 7);
  for (int i = 0; i < 1000; ++i) lk[2000 + i] = 100 + i, rk[300 + i] = 100 + i;
  const Column l = Dev(Numbers(lk)), r = Dev(Numbers(rk));
  const JoinResult res = HashJoin({l.view()}, nullptr, 3000, {r.view()}, nullptr, 1300, JoinKind::kInner, exec_);
  EXPECT_EQ(res.pairs, 2000 * 300 + 1000);
}

// One key, every probe row: the probe hashes its rows as it goes; blocks of
// few pairs are probed once (their pairs kept), a block of many again.
TEST_P(JoinTest, OneKeyProbeBlocksOfFewAndManyPairs) {
  // Probe (left): 20,000 rows, the first 4,096 all of key 7 (a block of
  // 8,192 pairs), then one row in ten of key i % 1000 (about 820 pairs a
  // block) and the others of keys the build side lacks; build (right):
  // 3,000 rows of i % 1,500 (each key twice).
  std::vector<int64_t> lk, rk;
  std::vector<std::string> ls, rs;
  for (int i = 0; i < 20000; ++i) lk.push_back(i < 4096 ? 7 : i % 10 == 0 ? i % 1000 : 5000 + i);
  for (int i = 0; i < 3000; ++i) rk.push_back(i % 1500);
  for (int64_t k : lk) ls.push_back("k" + std::to_string(k));
  for (int64_t k : rk) rs.push_back("k" + std::to_string(k));
  std::multimap<int64_t, int64_t> build;
  for (int64_t j = 0; j < 3000; ++j) build.emplace(rk[j], j);
  std::vector<Pair> expected;
  std::vector<int64_t> unmatched;
  for (int64_t i = 0; i < 20000; ++i) {
    const auto [lo, hi] = build.equal_range(lk[i]);
    for (auto it = lo; it != hi; ++it) expected.emplace_back(i, it->second);
    if (lo == hi) unmatched.push_back(i);
  }
  std::sort(expected.begin(), expected.end());
  const Column a = Dev(Numbers(lk)), b = Dev(Numbers(rk)), c = Dev(VarChars(ls)), d = Dev(VarChars(rs));
  for (bool strings : {false, true}) {
    SCOPED_TRACE(strings ? "string keys" : "long keys");
    const Column& l = strings ? c : a;
    const Column& r = strings ? d : b;
    const Rows got =
        PairsOf(HashJoin({l.view()}, nullptr, 20000, {r.view()}, nullptr, 3000, JoinKind::kLeft, exec_), exec_);
    EXPECT_EQ(got.pairs, expected);
    EXPECT_EQ(got.left_only, unmatched);
  }
}

// x with fmix64 (MixHash) undone.
uint64_t UnmixHash(uint64_t x) {
  const auto inverse = [](uint64_t c) {
    uint64_t y = c;  // Newton's iteration for c * y = 1 modulo 2^64
    for (int i = 0; i < 6; ++i) y *= 2 - c * y;
    return y;
  };
  x ^= x >> 33;
  x *= inverse(0xC4CEB9FE1A85EC53ull);
  x ^= x >> 33;
  x *= inverse(0xFF51AFD7ED558CCDull);
  x ^= x >> 33;
  return x;
}

// A long key probes by a loop of its own, and the build side's table keeps
// a key of every value: the one whose hash is the table's free-slot marker
// too.
int64_t KeyHashingToAllOnes() {
  const uint64_t seed = detail::kHashSeed;
  const uint64_t mixed = (UnmixHash(~uint64_t{0}) ^ seed) - seed - (seed << 6) - (seed >> 2);
  return static_cast<int64_t>(UnmixHash(mixed) ^ 0x8000000000000000ull);
}

// One int or long key on every probe row: the probe hashes it by a loop of
// its width; the build side's keys all distinct (a probe reads one slot and
// no chain) or each twice (chains); extremes of each width among them.
TEST_P(JoinTest, IntAndLongKeysWithDistinctAndRepeatedBuildKeys) {
  const int64_t all_ones = KeyHashingToAllOnes();
  ASSERT_EQ(detail::FoldValue(detail::kHashSeed, static_cast<uint64_t>(all_ones) ^ 0x8000000000000000ull),
            ~uint64_t{0});
  for (bool wide : {false, true}) {
    std::vector<int64_t> extremes = {0, -1, 1};
    if (wide) {
      extremes.insert(extremes.end(),
                      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), all_ones});
    } else {
      extremes.insert(extremes.end(), {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()});
    }
    for (int copies : {1, 2}) {
      SCOPED_TRACE(std::string(wide ? "long" : "int") + " keys, build keys " + (copies == 1 ? "distinct" : "twice"));
      // Probe (left): 9,000 rows of keys i % 1,300 - 100 and the extremes;
      // build (right): keys 0..999 and the extremes, `copies` times each.
      std::vector<int64_t> lk, rk;
      for (int i = 0; i < 9000; ++i) lk.push_back(i % 97 == 0 ? extremes[i % extremes.size()] : i % 1300 - 100);
      for (int c = 0; c < copies; ++c) {
        for (int k = 0; k < 1000; ++k) rk.push_back(k);
        rk.insert(rk.end(), extremes.begin(), extremes.end());
      }
      std::multimap<int64_t, int64_t> build;
      for (size_t j = 0; j < rk.size(); ++j) build.emplace(rk[j], static_cast<int64_t>(j));
      std::vector<Pair> expected;
      std::vector<int64_t> unmatched;
      for (size_t i = 0; i < lk.size(); ++i) {
        const auto [lo, hi] = build.equal_range(lk[i]);
        for (auto it = lo; it != hi; ++it) expected.emplace_back(static_cast<int64_t>(i), it->second);
        if (lo == hi) unmatched.push_back(static_cast<int64_t>(i));
      }
      std::sort(expected.begin(), expected.end());
      std::vector<int32_t> lk32(lk.begin(), lk.end()), rk32(rk.begin(), rk.end());
      const Column l = wide ? Dev(Numbers(lk)) : Dev(Numbers(lk32));
      const Column r = wide ? Dev(Numbers(rk)) : Dev(Numbers(rk32));
      const Rows got = PairsOf(HashJoin({l.view()}, nullptr, static_cast<int64_t>(lk.size()), {r.view()}, nullptr,
                                        static_cast<int64_t>(rk.size()), JoinKind::kLeft, exec_),
                               exec_);
      EXPECT_EQ(got.pairs, expected);
      EXPECT_EQ(got.left_only, unmatched);
    }
  }
}

TEST_P(JoinTest, ABuildSideThatDoesNotFitIsJoinedInPartitions) {
  // 60,000 x 40,000 rows, keys i % 25,000 (every key on both sides), two
  // key columns so that pairs are checked too; a limit that leaves room for
  // the sides' hashes and the pairs but not one table of every build row.
  std::vector<int64_t> lk, rk;
  std::vector<std::string> ls, rs;
  for (int i = 0; i < 60000; ++i) {
    lk.push_back(i % 25000);
    ls.push_back(std::to_string(i % 3));
  }
  for (int i = 0; i < 40000; ++i) {
    rk.push_back(i % 25000);
    rs.push_back(std::to_string(i % 3));
  }
  const Column a = Dev(Numbers(lk)), b = Dev(VarChars(ls)), c = Dev(Numbers(rk)), d = Dev(VarChars(rs));
  const JoinResult whole =
      HashJoin({a.view(), b.view()}, nullptr, 60000, {c.view(), d.view()}, nullptr, 40000, JoinKind::kFull, exec_);
  EXPECT_EQ(whole.partitions, 1);
  MemoryResource limited(GetParam(), 0, DeviceName(), size_t{6} << 20);
  const JoinResult parts = HashJoin({a.view(), b.view()}, nullptr, 60000, {c.view(), d.view()}, nullptr, 40000,
                                    JoinKind::kFull, ExecOn(&limited));
  EXPECT_GT(parts.partitions, 1);
  const Rows got = PairsOf(parts, exec_), want = PairsOf(whole, exec_);
  EXPECT_EQ(got.pairs, want.pairs);
  EXPECT_EQ(got.left_only, want.left_only);
  EXPECT_EQ(got.right_only, want.right_only);
  // Rows i and j pair when i = j (mod 25,000) and i = j (mod 3).
  int64_t expected = 0;
  for (int i = 0; i < 60000; ++i) {
    for (int j = i % 25000; j < 40000; j += 25000) expected += (i % 3 == j % 3) ? 1 : 0;
  }
  EXPECT_EQ(parts.pairs, expected);
}

TEST_P(JoinTest, RowsNotInRowsInAndReplacementOrder) {
  const Buffer removed = ToDevice(std::vector<int64_t>{4, 0, 7}, exec_);
  EXPECT_EQ(FromDevice<int64_t>(RowsNotIn(removed.as<int64_t>(), 3, 8, exec_).as<int64_t>(), 5, exec_),
            (std::vector<int64_t>{1, 2, 3, 5, 6}));
  // RowsIn: each once, ascending, duplicates allowed.
  const Buffer matched = ToDevice(std::vector<int64_t>{6, 2, 6, 0, 2, 6}, exec_);
  const Selection in = RowsIn(matched.as<int64_t>(), 6, 8, exec_);
  ASSERT_EQ(in.count, 3);
  EXPECT_EQ(FromDevice<int64_t>(in.indices.as<int64_t>(), 3, exec_), (std::vector<int64_t>{0, 2, 6}));
  EXPECT_EQ(RowsIn(matched.as<int64_t>(), 0, 8, exec_).count, 0);
  const Buffer updated = ToDevice(std::vector<int64_t>{5, 1}, exec_);
  EXPECT_EQ(FromDevice<int64_t>(ReplacementOrder(updated.as<int64_t>(), 2, 6, exec_).as<int64_t>(), 6, exec_),
            (std::vector<int64_t>{0, 7, 2, 3, 4, 6}));
}

TEST_P(JoinTest, ReplaceRowsOfEveryLayout) {
  const Buffer rows = ToDevice(std::vector<int64_t>{3, 0}, exec_);
  // Fixed width, nullable both ways.
  const Column ints = Dev(Numbers(std::vector<int32_t>{10, 11, 12, 13}, {1, 0, 1, 1}));
  const Column new_ints = Dev(Numbers(std::vector<int32_t>{93, 90}, {0, 1}));
  const Column replaced = ReplaceRows(ints.view(), rows.as<int64_t>(), 2, new_ints.view(), true, exec_);
  const HostColumn got = Host(replaced.view());
  EXPECT_EQ(ValueAt<int32_t>(got, 0), 90);
  EXPECT_FALSE(got.valid(1));
  EXPECT_EQ(ValueAt<int32_t>(got, 2), 12);
  EXPECT_FALSE(got.valid(3));
  EXPECT_TRUE(got.valid(0));
  // Strings, and charN.
  const Column s = Dev(VarChars({"a", "bb", "ccc", "dddd"}));
  const Column new_s = Dev(VarChars({"x", ""}));
  const Column rs = ReplaceRows(s.view(), rows.as<int64_t>(), 2, new_s.view(), false, exec_);
  const HostColumn gs = Host(rs.view());
  EXPECT_EQ(gs.rows, (std::vector<std::string>{"", "bb", "ccc", "x"}));
  const Column f = Dev(FixedChars(4, {"a", "bb", "ccc", "dddd"}));
  const Column new_f = Dev(FixedChars(4, {"wxyz", "q"}));
  const Column rf = ReplaceRows(f.view(), rows.as<int64_t>(), 2, new_f.view(), false, exec_);
  const HostColumn gf = Host(rf.view());
  EXPECT_EQ(StringAt(gf, 0), "q");
  EXPECT_EQ(StringAt(gf, 3), "wxyz");
  EXPECT_EQ(StringAt(gf, 1), "bb");
}

}  // namespace
}  // namespace test
}  // namespace kernels
