// Dictionaries (dictionary.h) on every backend of this binary: the values
// are the column's distinct values, ascending, a null first; each row's code
// names its value; extending over appended rows gives what building whole
// gives (new values renumber the old rows' codes), and a column of more
// values than allowed is refused, the dictionary unchanged; a program's
// tests of the strings against constants, rewritten to test the codes,
// select the same rows.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/dictionary.h"
#include "kernels/expr_program.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace {

using namespace test;  // NOLINT

class DictionaryTest : public BackendTest {
 protected:
  // A row's value as the dictionary orders it; nullopt for null.
  static std::optional<std::string> ValueOf(const HostColumn& h, int64_t i) {
    if (!h.valid(i)) return std::nullopt;
    return StringAt(h, i);
  }

  // Checks `dict` against the rows of `h`: values distinct and ascending
  // (null first), and every row's code naming its value.
  void Check(const Dictionary& dict, const HostColumn& h) {
    ASSERT_EQ(dict.rows(), h.size());
    std::vector<std::optional<std::string>> expected;
    for (int64_t i = 0; i < h.size(); ++i) expected.push_back(ValueOf(h, i));
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    const HostColumn values = Host(dict.values.view());
    ASSERT_EQ(values.size(), static_cast<int64_t>(expected.size()));
    for (int64_t v = 0; v < values.size(); ++v) EXPECT_EQ(ValueOf(values, v), expected[v]) << "value " << v;
    const HostColumn codes = Host(dict.codes.view());
    EXPECT_TRUE(codes.validity.empty());
    for (int64_t i = 0; i < h.size(); ++i) {
      const int32_t code = ValueAt<int32_t>(codes, i);
      ASSERT_GE(code, 0);
      ASSERT_LT(code, values.size());
      EXPECT_EQ(ValueOf(values, code), ValueOf(h, i)) << "row " << i;
    }
  }

  // Rows drawn from `words` (about one in nine null when `nulls`).
  static HostColumn Draw(PhysType type, const std::vector<std::string>& words, int64_t n, bool nulls, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> rows;
    std::vector<uint8_t> valid;
    for (int64_t i = 0; i < n; ++i) {
      rows.push_back(words[rng() % words.size()]);
      valid.push_back(!nulls || rng() % 9 != 0 ? 1 : 0);
    }
    if (!nulls) valid.clear();
    return type == PhysType::kVarChars ? VarChars(rows, valid) : FixedChars(16, rows, valid);
  }

  static HostColumn Concat(const HostColumn& a, const HostColumn& b) {
    HostColumn out = a;
    out.rows.insert(out.rows.end(), b.rows.begin(), b.rows.end());
    if (!a.validity.empty() || !b.validity.empty()) {
      out.validity.resize(static_cast<size_t>(a.size()), 1);
      for (int64_t i = 0; i < b.size(); ++i) out.validity.push_back(b.valid(i) ? 1 : 0);
    }
    return out;
  }
};

INSTANTIATE_FOR_BACKENDS(DictionaryTest);

TEST_P(DictionaryTest, BuiltWholeCodesEveryRow) {
  const std::vector<std::string> words = {"pear", "apple", "", "apricot", "zebra", "ap", "Apple", "\xc3\xa9t\xc3\xa9"};
  for (PhysType type : {PhysType::kVarChars, PhysType::kFixedChars}) {
    for (bool nulls : {false, true}) {
      for (int64_t n : {int64_t{1}, int64_t{5000}, int64_t{100003}}) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? " with nulls" : "") << ", " << n << " rows");
        const HostColumn h = Draw(type, words, n, nulls, 3 + n);
        const Column c = Dev(h);
        Dictionary dict;
        ASSERT_TRUE(ExtendDictionary(c.view(), 100, &dict, exec_));
        Check(dict, h);
      }
    }
  }
}

TEST_P(DictionaryTest, ExtendingEqualsBuildingWhole) {
  std::vector<std::string> words;
  for (int i = 0; i < 300; ++i) words.push_back("w" + std::to_string(i * 7 % 1000));
  const std::vector<std::string> known(words.begin(), words.begin() + 200);
  // New values before, between and after the known ones.
  std::vector<std::string> more = known;
  for (const char* w : {"a", "w100x", "w5", "zz", "w999"}) more.push_back(w);
  for (PhysType type : {PhysType::kVarChars, PhysType::kFixedChars}) {
    for (bool nulls : {false, true}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? " with nulls" : ""));
      const HostColumn first = Draw(type, known, 80000, false, 11);
      const HostColumn same = Draw(type, known, 3000, nulls, 12);
      const HostColumn fresh = Draw(type, more, 90000, nulls, 13);
      Dictionary dict;
      const Column c1 = Dev(first);
      ASSERT_TRUE(ExtendDictionary(c1.view(), 1000, &dict, exec_));
      Check(dict, first);
      const std::vector<int32_t> before = FromDevice<int32_t>(dict.codes.view().data, dict.rows(), exec_);

      // Only known values (and, with nulls, a null value that is new).
      const HostColumn h2 = Concat(first, same);
      const Column c2 = Dev(h2);
      ASSERT_TRUE(ExtendDictionary(c2.view(), 1000, &dict, exec_));
      Check(dict, h2);
      if (!nulls) {
        const std::vector<int32_t> after = FromDevice<int32_t>(dict.codes.view().data, first.size(), exec_);
        EXPECT_EQ(after, before);  // no new value: the old rows' codes kept
      }
      // Nothing appended.
      ASSERT_TRUE(ExtendDictionary(c2.view(), 1000, &dict, exec_));
      Check(dict, h2);
      // New values: every code renumbered.
      const HostColumn h3 = Concat(h2, fresh);
      const Column c3 = Dev(h3);
      ASSERT_TRUE(ExtendDictionary(c3.view(), 1000, &dict, exec_));
      Check(dict, h3);
    }
  }
}

TEST_P(DictionaryTest, TooManyValuesAreRefusedLeavingItUnchanged) {
  std::vector<std::string> words;
  for (int i = 0; i < 5000; ++i) words.push_back("v" + std::to_string(i));
  const std::vector<std::string> few(words.begin(), words.begin() + 40);
  const HostColumn many = Draw(PhysType::kVarChars, words, 200000, false, 21);
  Dictionary dict;
  const Column c = Dev(many);
  EXPECT_FALSE(ExtendDictionary(c.view(), 100, &dict, exec_));  // refused by the sample
  EXPECT_EQ(dict.rows(), 0);
  // Built over few values, then rows bringing too many: refused at the merge.
  const HostColumn base = Draw(PhysType::kVarChars, few, 1000, false, 22);
  const Column b = Dev(base);
  ASSERT_TRUE(ExtendDictionary(b.view(), 100, &dict, exec_));
  const std::vector<std::string> others(words.begin() + 40, words.begin() + 110);
  const HostColumn grown = Concat(base, Draw(PhysType::kVarChars, others, 500, false, 23));
  const Column g = Dev(grown);
  EXPECT_FALSE(ExtendDictionary(g.view(), 100, &dict, exec_));
  Check(dict, base);
  EXPECT_TRUE(ExtendDictionary(g.view(), 110, &dict, exec_));
  Check(dict, grown);
}

TEST_P(DictionaryTest, TestsRewrittenToCodesSelectTheSameRows) {
  const std::vector<std::string> words = {"pear", "apple", "", "apricot", "zebra", "ap", "Apple", "m5", "m50"};
  // Constants present, absent (between, before and after every value), empty.
  const std::vector<std::string> constants = {"apple", "apples", "A", "zz", "", "m5", "m49"};
  const Cmp cmps[] = {Cmp::kEq, Cmp::kNe, Cmp::kLt, Cmp::kLe, Cmp::kGt, Cmp::kGe};
  for (PhysType type : {PhysType::kVarChars, PhysType::kFixedChars}) {
    for (bool nulls : {false, true}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? " with nulls" : ""));
      const int64_t n = 20000;
      const HostColumn h = Draw(type, words, n, nulls, 31);
      const Column c = Dev(h);
      Dictionary dict;
      ASSERT_TRUE(ExtendDictionary(c.view(), 100, &dict, exec_));
      std::vector<std::pair<std::string, std::function<Code(ProgramBuilder&)>>> tests;
      for (const std::string& k : constants) {
        for (Cmp cmp : cmps) {
          const std::string name = "cmp " + std::to_string(static_cast<int>(cmp)) + " '" + k + "'";
          tests.push_back(
              {"s " + name, [=](ProgramBuilder& b) { return Compare(Op::kCmpS, cmp, b.Col(0), b.Str(k)); }});
          tests.push_back(
              {"const " + name, [=](ProgramBuilder& b) { return Compare(Op::kCmpS, cmp, b.Str(k), b.Col(0)); }});
        }
        tests.push_back({"like '" + k + "%'", [=](ProgramBuilder& b) {
                           Code x = b.Col(0);
                           x.instrs.push_back(Instr{Op::kLike, b.Str(k + "%").instrs[0].arg});
                           return x;
                         }});
      }
      tests.push_back({"like '%p_e%'", [](ProgramBuilder& b) {
                         Code x = b.Col(0);
                         x.instrs.push_back(Instr{Op::kLike, b.Str("%p_e%").instrs[0].arg});
                         return x;
                       }});
      tests.push_back({"between 'ap' and 'm5'", [](ProgramBuilder& b) {
                         Code x = b.Col(0);
                         for (const char* v : {"ap", "m5"}) x.instrs.push_back(b.Str(v).instrs[0]);
                         x.instrs.push_back(Instr{Op::kBetweenS, 0});
                         return x;
                       }});
      tests.push_back({"in ('', 'm50', 'nope', 'zebra')", [](ProgramBuilder& b) {
                         return b.In(b.Col(0), std::vector<std::string>{"", "m50", "nope", "zebra"});
                       }});
      tests.push_back({"not (s = 'pear') or s like 'a%'", [](ProgramBuilder& b) {
                         Code like = b.Col(0);
                         like.instrs.push_back(Instr{Op::kLike, b.Str("a%").instrs[0].arg});
                         return Or(Not(Compare(Op::kCmpS, Cmp::kEq, b.Col(0), b.Str("pear"))), like);
                       }});
      for (const auto& [name, make] : tests) {
        SCOPED_TRACE(name);
        ProgramBuilder b({c.view()});
        const Program strings = b.Build(make(b));
        Program codes = strings;
        EXPECT_GT(RewriteWithCodes(&codes, 0, dict, exec_), 0);
        EXPECT_TRUE(IsWellFormed(codes));
        EXPECT_EQ(SelectRows(codes, 0, n), SelectRows(strings, 0, n));
      }
    }
  }
}

}  // namespace
}  // namespace kernels
