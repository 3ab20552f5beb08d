#include "engine/table/table.h"

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/table/catalog.h"
#include "engine/jobs/device.h"
#include "engine/table/host_column.h"
#include "engine/table/record_codec.h"
#include "engine/table/types.h"
#include "kernels/memory.h"
#include "tests/common/table_type.h"

namespace engine {
namespace {

using gpudb_test::MustParse;

constexpr char kType[] =
    R"([["id","long"],["name","string","nullable"],["code","char8"],["flag","boolean","nullable"],)"
    R"(["x","double"],["small","int16"]])";

// Rows [begin, begin + n) of a deterministic data set of kType.
void AppendRows(const TableType& type, int64_t begin, int64_t n, std::vector<HostColumn>* cols) {
  ASSERT_EQ(type.size(), 6u);
  for (int64_t i = begin; i < begin + n; ++i) {
    (*cols)[0].AppendInt(i * 1000003);
    if (i % 5 == 0) {
      (*cols)[1].AppendNull();
    } else {
      (*cols)[1].AppendString(std::string(static_cast<size_t>(i % 13), static_cast<char>('a' + i % 26)));
    }
    (*cols)[2].AppendString(absl::StrCat("c", i % 10000000));
    if (i % 3 == 0) {
      (*cols)[3].AppendNull();
    } else {
      (*cols)[3].AppendInt(i % 2);
    }
    (*cols)[4].AppendFloat(static_cast<double>(i) * 0.5);
    (*cols)[5].AppendInt(static_cast<int16_t>(i * 7));
  }
}

std::vector<kernels::Column> Upload(const std::vector<HostColumn>& host, const kernels::Exec& exec) {
  std::vector<kernels::Column> out;
  for (const HostColumn& c : host) out.push_back(ToDevice(c, exec));
  return out;
}

std::vector<kernels::ColumnView> Views(const std::vector<kernels::Column>& columns) {
  std::vector<kernels::ColumnView> out;
  for (const kernels::Column& c : columns) out.push_back(c.view());
  return out;
}

void ExpectSameColumn(const ColumnDef& def, const HostColumn& expected, int64_t expected_begin,
                      const HostColumn& actual) {
  SCOPED_TRACE(def.name);
  for (int64_t r = 0; r < actual.size; ++r) {
    const int64_t e = expected_begin + r;
    ASSERT_EQ(actual.IsValid(r), expected.IsValid(e)) << "row " << e;
    if (!expected.IsValid(e)) continue;
    if (def.is_integer()) {
      ASSERT_EQ(actual.IntAt(r), expected.IntAt(e)) << "row " << e;
    } else if (def.is_real()) {
      ASSERT_EQ(actual.FloatAt(r), expected.FloatAt(e)) << "row " << e;
    } else {
      ASSERT_EQ(actual.StringAt(r), expected.StringAt(e)) << "row " << e;
    }
  }
}

// Reads rows [begin, end) of every column of `table` back and compares them
// with rows [begin, end) of `expected`.
void ExpectTableContent(const Table& table, const std::vector<HostColumn>& expected, int64_t begin, int64_t end,
                        const kernels::Exec& exec) {
  const std::vector<kernels::ColumnView> views = table.views();
  ASSERT_EQ(views.size(), expected.size());
  for (size_t c = 0; c < views.size(); ++c) {
    const ColumnDef& def = table.type().column(c);
    EXPECT_EQ(views[c].size, expected[c].size) << def.name;
    EXPECT_EQ(views[c].type, def.phys()) << def.name;
    const HostColumn back = ToHost(views[c], def.nullable, begin, end, exec);
    ASSERT_EQ(back.size, end - begin) << def.name;
    ExpectSameColumn(def, expected[c], begin, back);
    if (begin == 0 && end == expected[c].size) {
      // The whole column: byte-exact.
      EXPECT_EQ(back.data, expected[c].data) << def.name;
      EXPECT_EQ(back.offsets, expected[c].offsets) << def.name;
      EXPECT_EQ(back.validity, expected[c].validity) << def.name;
    }
  }
}

class TableTest : public ::testing::Test {
 protected:
  TableTest() : device_(0, kernels::Backend::kHost, 0, size_t{64} << 20, 1), type_(MustParse(kType)) {}

  const kernels::Exec& exec() { return device_.stream(0).exec(); }

  Device device_;
  TableType type_;
};

TEST_F(TableTest, NewTableIsEmpty) {
  Table table("t", type_, &device_, Table::Kind::kTable);
  EXPECT_EQ(table.name(), "t");
  EXPECT_EQ(table.type().size(), type_.size());
  EXPECT_EQ(table.type_id(), type_.TypeId());
  EXPECT_EQ(table.device(), &device_);
  EXPECT_EQ(table.kind(), Table::Kind::kTable);
  EXPECT_EQ(table.rows(), 0);
  EXPECT_EQ(table.device_bytes(), 0u);
  const std::vector<kernels::ColumnView> views = table.views();
  ASSERT_EQ(views.size(), type_.size());
  for (size_t c = 0; c < views.size(); ++c) {
    EXPECT_EQ(views[c].size, 0);
    EXPECT_EQ(views[c].type, type_.column(c).phys());
  }
  EXPECT_EQ(device_.memory().in_use(), 0u);

  Table view("v", type_, &device_, Table::Kind::kView);
  EXPECT_EQ(view.kind(), Table::Kind::kView);
}

TEST_F(TableTest, AppendOfNoRowsChangesNothing) {
  Table table("t", type_, &device_, Table::Kind::kTable);
  std::vector<HostColumn> empty = MakeHostColumns(type_);
  std::vector<kernels::Column> uploaded = Upload(empty, exec());
  ASSERT_TRUE(table.Append(Views(uploaded), exec()).ok());
  ASSERT_TRUE(table.Append({}, exec()).ok());
  EXPECT_EQ(table.rows(), 0);
  EXPECT_EQ(table.device_bytes(), 0u);
}

TEST_F(TableTest, AppendAcrossBatchesKeepsEveryRowInOrder) {
  Table table("t", type_, &device_, Table::Kind::kTable);
  std::vector<HostColumn> expected = MakeHostColumns(type_);
  int64_t rows = 0;
  size_t last_bytes = 0;
  // Sizes that cross the initial capacity and grow it more than once.
  for (int64_t n : {1, 1022, 1, 2500, 7, 4099}) {
    SCOPED_TRACE(n);
    std::vector<HostColumn> batch = MakeHostColumns(type_);
    AppendRows(type_, rows, n, &batch);
    AppendRows(type_, rows, n, &expected);
    {
      std::vector<kernels::Column> uploaded = Upload(batch, exec());
      ASSERT_TRUE(table.Append(Views(uploaded), exec()).ok());
    }
    rows += n;
    EXPECT_EQ(table.rows(), rows);
    EXPECT_GE(table.device_bytes(), last_bytes);
    last_bytes = table.device_bytes();
    // Only the table holds device memory now; the pool rounds each of its
    // (at most 9) buffers up to 256 bytes.
    EXPECT_LE(table.device_bytes(), device_.memory().in_use());
    EXPECT_LT(device_.memory().in_use(), table.device_bytes() + 9 * 256);
  }
  // At least the bytes of the rows: id 8, name offsets 8, code 8, flag 1+1, x 8,
  // small 2, name validity 1, plus the name characters.
  int64_t chars = 0;
  for (int64_t i = 0; i < rows; ++i) chars += expected[1].StringAt(i).size();
  EXPECT_GE(table.device_bytes(), static_cast<size_t>(rows * (8 + 8 + 8 + 2 + 8 + 2 + 1) + chars));

  ExpectTableContent(table, expected, 0, rows, exec());
  ExpectTableContent(table, expected, 1000, 1100, exec());
  ExpectTableContent(table, expected, rows - 1, rows, exec());
}

TEST_F(TableTest, DestroyingTheTableReturnsItsMemory) {
  {
    Table table("t", type_, &device_, Table::Kind::kTable);
    std::vector<HostColumn> batch = MakeHostColumns(type_);
    AppendRows(type_, 0, 3000, &batch);
    std::vector<kernels::Column> uploaded = Upload(batch, exec());
    ASSERT_TRUE(table.Append(Views(uploaded), exec()).ok());
    EXPECT_GT(device_.memory().in_use(), 0u);
  }
  EXPECT_EQ(device_.memory().in_use(), 0u);
}

TEST_F(TableTest, ReplaceSwapsTheContent) {
  Table table("t", type_, &device_, Table::Kind::kTable);
  std::vector<HostColumn> first = MakeHostColumns(type_);
  AppendRows(type_, 0, 100, &first);
  std::vector<kernels::Column> uploaded = Upload(first, exec());
  ASSERT_TRUE(table.Append(Views(uploaded), exec()).ok());
  ASSERT_EQ(table.rows(), 100);

  std::vector<HostColumn> second = MakeHostColumns(type_);
  AppendRows(type_, 500, 10, &second);
  ASSERT_TRUE(table.Replace(Upload(second, exec()), exec()).ok());
  EXPECT_EQ(table.rows(), 10);
  ExpectTableContent(table, second, 0, 10, exec());
}

// Table::dictionary: a string column of few values (name: 13 lengths of 26
// letters, some null) gets one once the table has kAutoDictionaryRows rows;
// one of a value a row (code) and a number (id) get none; appends extend it
// and a replacement rebuilds it; a column declared `dict` gets one at any size.
TEST_F(TableTest, DictionariesOfFewStringValuesFollowTheRows) {
  const auto distinct_names = [](int64_t rows) {
    std::set<std::string> names;
    for (int64_t i = 0; i < rows; ++i) {
      if (i % 5 != 0) names.insert(std::string(static_cast<size_t>(i % 13), static_cast<char>('a' + i % 26)));
    }
    return static_cast<int64_t>(names.size()) + 1;  // and the null
  };
  Table table("t", type_, &device_, Table::Kind::kTable);
  const auto append = [&](int64_t begin, int64_t n) {
    std::vector<HostColumn> batch = MakeHostColumns(type_);
    AppendRows(type_, begin, n, &batch);
    std::vector<kernels::Column> uploaded = Upload(batch, exec());
    ASSERT_TRUE(table.Append(Views(uploaded), exec()).ok());
  };
  append(0, 1000);
  EXPECT_EQ(table.dictionary(1, exec()), nullptr);  // too few rows to choose one
  append(1000, Table::kAutoDictionaryRows);
  const int64_t rows = 1000 + Table::kAutoDictionaryRows;
  auto dict = table.dictionary(1, exec());
  ASSERT_NE(dict, nullptr);
  EXPECT_EQ(dict->rows(), rows);
  EXPECT_EQ(dict->count(), distinct_names(rows));
  EXPECT_EQ(table.dictionary(2, exec()), nullptr);  // a value a row
  EXPECT_EQ(table.dictionary(0, exec()), nullptr);  // not a string
  EXPECT_EQ(table.dictionary(1, exec()), dict);     // kept
  append(rows, 3000);
  dict = table.dictionary(1, exec());
  ASSERT_NE(dict, nullptr);
  EXPECT_EQ(dict->rows(), rows + 3000);
  EXPECT_EQ(dict->count(), distinct_names(rows + 3000));

  std::vector<HostColumn> second = MakeHostColumns(type_);
  AppendRows(type_, 0, 70000, &second);
  ASSERT_TRUE(table.Replace(Upload(second, exec()), exec()).ok());
  dict = table.dictionary(1, exec());
  ASSERT_NE(dict, nullptr);
  EXPECT_EQ(dict->rows(), 70000);
  EXPECT_EQ(dict->count(), distinct_names(70000));

  // No name: one job's scratch.
  Table scratch("", type_, &device_, Table::Kind::kView);
  ASSERT_TRUE(scratch.Replace(Upload(second, exec()), exec()).ok());
  EXPECT_EQ(scratch.dictionary(1, exec()), nullptr);

  const TableType declared = MustParse(R"([["d","string","dict"],["e","string"]])");
  Table small("s", declared, &device_, Table::Kind::kTable);
  std::vector<HostColumn> few = MakeHostColumns(declared);
  for (int i = 0; i < 10; ++i) {
    few[0].AppendString(i % 2 == 0 ? "even" : "odd");
    few[1].AppendString("same");
  }
  std::vector<kernels::Column> uploaded = Upload(few, exec());
  ASSERT_TRUE(small.Append(Views(uploaded), exec()).ok());
  dict = small.dictionary(0, exec());
  ASSERT_NE(dict, nullptr);
  EXPECT_EQ(dict->count(), 2);
  EXPECT_EQ(small.dictionary(1, exec()), nullptr);
}

// Table::distinct: the distinct values of a column as the rows stand,
// again after rows are appended or replaced; none for one job's scratch.
TEST_F(TableTest, DistinctValuesFollowTheRows) {
  const TableType type = MustParse(R"([["k","long"],["v","long","nullable"]])");
  const auto rows_of = [&](int64_t n, int64_t base, int64_t values) {
    std::vector<HostColumn> batch = MakeHostColumns(type);
    for (int64_t i = 0; i < n; ++i) {
      batch[0].AppendInt(base + i % values);
      if (i % 10 == 0) {
        batch[1].AppendNull();
      } else {
        batch[1].AppendInt(i);
      }
    }
    return Upload(batch, exec());
  };
  Table table("t", type, &device_, Table::Kind::kTable);
  std::vector<kernels::Column> first = rows_of(1000, 0, 100);
  ASSERT_TRUE(table.Append(Views(first), exec()).ok());
  EXPECT_EQ(table.distinct(0, exec()), 100);
  EXPECT_EQ(table.distinct(1, exec()), 901);  // 900 values and the null
  EXPECT_EQ(table.distinct(0, exec()), 100);
  std::vector<kernels::Column> more = rows_of(1000, 100, 50);
  ASSERT_TRUE(table.Append(Views(more), exec()).ok());
  EXPECT_EQ(table.distinct(0, exec()), 150);
  ASSERT_TRUE(table.Replace(rows_of(40000, 0, 7), exec()).ok());
  EXPECT_EQ(table.distinct(0, exec()), 7);  // a sample of the rows: every value many times
  EXPECT_EQ(table.distinct(2, exec()), -1);

  Table scratch("", type, &device_, Table::Kind::kView);
  ASSERT_TRUE(scratch.Replace(rows_of(10, 0, 3), exec()).ok());
  EXPECT_EQ(scratch.distinct(0, exec()), -1);
}

TEST(TableMemoryTest, AppendOverTheMemoryLimitThrowsAndLeavesTheTableUnchanged) {
  Device device(0, kernels::Backend::kHost, 0, size_t{1} << 20, 1);
  const kernels::Exec& exec = device.stream(0).exec();
  const TableType type = MustParse(R"([["id","long"],["s","string"]])");
  Table table("t", type, &device, Table::Kind::kTable);

  std::vector<HostColumn> small = MakeHostColumns(type);
  for (int i = 0; i < 10; ++i) {
    small[0].AppendInt(i);
    small[1].AppendString(absl::StrCat("row", i));
  }
  {
    std::vector<kernels::Column> uploaded = Upload(small, exec);
    ASSERT_TRUE(table.Append(Views(uploaded), exec).ok());
  }
  ASSERT_EQ(table.rows(), 10);
  const size_t bytes_before = table.device_bytes();

  // ~630 KiB of source rows fit; growing the table by as much again does not.
  std::vector<HostColumn> big = MakeHostColumns(type);
  for (int i = 0; i < 2000; ++i) {
    big[0].AppendInt(100 + i);
    big[1].AppendString(std::string(300, static_cast<char>('a' + i % 26)));
  }
  std::vector<kernels::Column> uploaded = Upload(big, exec);
  const size_t in_use_before = device.memory().in_use();
  try {
    table.Append(Views(uploaded), exec).IgnoreError();
    ADD_FAILURE() << "Append over the limit did not throw";
  } catch (const kernels::OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("out of device memory on host:0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(device.memory().in_use(), in_use_before);
  EXPECT_EQ(table.rows(), 10);
  EXPECT_EQ(table.device_bytes(), bytes_before);
  ExpectTableContent(table, small, 0, 10, exec);

  // The table still takes appends that fit.
  uploaded.clear();
  std::vector<HostColumn> more = MakeHostColumns(type);
  more[0].AppendInt(77);
  more[1].AppendString("after");
  small[0].AppendInt(77);
  small[1].AppendString("after");
  {
    std::vector<kernels::Column> up = Upload(more, exec);
    ASSERT_TRUE(table.Append(Views(up), exec).ok());
  }
  EXPECT_EQ(table.rows(), 11);
  ExpectTableContent(table, small, 0, 11, exec);
}

// ---------------------------------------------------------------------------
// Catalog

class CatalogTest : public TableTest {
 protected:
  std::shared_ptr<Table> Make(const std::string& name) {
    return std::make_shared<Table>(name, type_, &device_, Table::Kind::kTable);
  }
  Catalog catalog_;
};

TEST_F(CatalogTest, AddFindHasList) {
  std::shared_ptr<Table> c = Make("c"), a = Make("a"), b = Make("b");
  ASSERT_TRUE(catalog_.Add(c).ok());
  ASSERT_TRUE(catalog_.Add(a).ok());
  ASSERT_TRUE(catalog_.Add(b).ok());
  absl::StatusOr<std::shared_ptr<Table>> found = catalog_.Find("a");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->get(), a.get());
  EXPECT_TRUE(catalog_.Has("b"));
  EXPECT_FALSE(catalog_.Has("B"));
  const std::vector<std::shared_ptr<Table>> list = catalog_.List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]->name(), "a");
  EXPECT_EQ(list[1]->name(), "b");
  EXPECT_EQ(list[2]->name(), "c");
}

TEST_F(CatalogTest, FindOfMissingTableIsNotFound) {
  absl::StatusOr<std::shared_ptr<Table>> found = catalog_.Find("nope");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(), "table 'nope' does not exist");
  EXPECT_FALSE(catalog_.Has("nope"));
}

TEST_F(CatalogTest, DuplicateNameIsAlreadyExistsAndKeepsTheFirst) {
  std::shared_ptr<Table> first = Make("t");
  ASSERT_TRUE(catalog_.Add(first).ok());
  absl::Status s = catalog_.Add(Make("t"));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "table 't' already exists");
  EXPECT_EQ(catalog_.Find("t")->get(), first.get());
  EXPECT_EQ(catalog_.List().size(), 1u);
}

TEST_F(CatalogTest, RemoveReturnsTheTableWhichStaysValidWhileHeld) {
  std::shared_ptr<Table> t = Make("t");
  ASSERT_TRUE(catalog_.Add(t).ok());
  std::shared_ptr<Table> held = *catalog_.Find("t");
  t.reset();
  std::shared_ptr<Table> removed = *catalog_.Remove("t");
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed.get(), held.get());
  removed.reset();
  EXPECT_EQ(held->name(), "t");
  EXPECT_EQ(held->rows(), 0);
  EXPECT_FALSE(catalog_.Has("t"));
  EXPECT_EQ(catalog_.Find("t").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*catalog_.Remove("t"), nullptr);
  // The name is free again.
  EXPECT_TRUE(catalog_.Add(Make("t")).ok());
}

TEST_F(CatalogTest, ConcurrentAddsOfOneNameAdmitExactlyOne) {
  constexpr int kThreads = 8;
  std::vector<std::shared_ptr<Table>> tables;
  for (int i = 0; i < kThreads; ++i) tables.push_back(Make("same"));
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = catalog_.Add(tables[i]);
      ASSERT_TRUE(catalog_.Add(Make(absl::StrCat("own", i))).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(catalog_.List().size(), static_cast<size_t>(kThreads + 1));
}

TEST_F(CatalogTest, TypesAreRegisteredByTheirId) {
  const std::string id = *catalog_.AddType(type_);
  EXPECT_EQ(id, type_.TypeId());
  EXPECT_EQ(*catalog_.AddType(MustParse(kType)), id);  // an equal type: the same id
  const TableType other = MustParse(R"([["z","int"]])");
  const std::string other_id = *catalog_.AddType(other);
  EXPECT_NE(other_id, id);

  absl::StatusOr<TableType> found = catalog_.FindType(id);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), type_.size());
  for (size_t c = 0; c < type_.size(); ++c) {
    EXPECT_EQ(found->column(c).name, type_.column(c).name);
    EXPECT_EQ(found->column(c).kind, type_.column(c).kind);
  }
  EXPECT_EQ(catalog_.FindType(other_id)->column(0).name, "z");

  absl::StatusOr<TableType> missing = catalog_.FindType("123");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "type '123' does not exist");
}

TEST_F(CatalogTest, ANameWithoutASchemaIsInTheDefaultSchema) {
  std::shared_ptr<Table> t = Make("ki_home.t");
  EXPECT_EQ(t->name(), "t");  // shown without the default schema
  ASSERT_TRUE(catalog_.Add(t).ok());
  EXPECT_EQ(catalog_.Find("t")->get(), t.get());
  EXPECT_EQ(catalog_.Find("ki_home.t")->get(), t.get());
  EXPECT_EQ(catalog_.Add(Make("t")).message(), "table 't' already exists");
  EXPECT_EQ(catalog_.ListSchema("ki_home").size(), 1u);
  EXPECT_EQ(catalog_.Remove("ki_home.t")->get(), t.get());
  EXPECT_FALSE(catalog_.Has("t"));
}

TEST_F(CatalogTest, TablesLiveInSchemasThatExist) {
  EXPECT_EQ(catalog_.Schemas(), std::vector<std::string>{"ki_home"});
  absl::Status s = catalog_.Add(Make("s1.t"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "schema 's1' does not exist");

  ASSERT_TRUE(catalog_.AddSchema("s1").ok());
  s = catalog_.AddSchema("s1");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "schema 's1' already exists");
  ASSERT_TRUE(catalog_.AddSchema("a0").ok());
  EXPECT_EQ(catalog_.Schemas(), (std::vector<std::string>{"a0", "ki_home", "s1"}));

  // One name in two schemas, and a schema's name as a table's: apart.
  std::shared_ptr<Table> home = Make("t"), other = Make("s1.t"), named_like = Make("s1");
  for (const auto& t : {home, other, named_like}) ASSERT_TRUE(catalog_.Add(t).ok()) << t->name();
  EXPECT_EQ(other->name(), "s1.t");
  EXPECT_EQ(catalog_.Find("s1.t")->get(), other.get());
  EXPECT_EQ(catalog_.Find("t")->get(), home.get());
  EXPECT_EQ(catalog_.Find("s1")->get(), named_like.get());
  EXPECT_FALSE(catalog_.Has("a0.t"));
  EXPECT_EQ(catalog_.ListSchema("s1").size(), 1u);
  EXPECT_EQ(catalog_.ListSchema("s").size(), 0u);  // not a prefix match
  EXPECT_EQ(catalog_.ListSchema("nope").size(), 0u);
  const std::vector<std::shared_ptr<Table>> all = catalog_.List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]->name(), "s1");  // by schema, then name: ki_home.s1, ki_home.t, s1.t
  EXPECT_EQ(all[2]->name(), "s1.t");
}

TEST_F(CatalogTest, RemoveSchema) {
  ASSERT_TRUE(catalog_.AddSchema("s1").ok());
  ASSERT_TRUE(catalog_.AddSchema("s10").ok());
  std::shared_ptr<Table> a = Make("s1.a"), b = Make("s1.b"), other = Make("s10.a");
  for (const auto& t : {a, b, other}) ASSERT_TRUE(catalog_.Add(t).ok());

  auto refused = catalog_.RemoveSchema("s1", /*cascade=*/false);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "schema 's1' is not empty (2 tables); drop its tables first, or set options.cascade");
  EXPECT_TRUE(catalog_.Has("s1.a"));

  auto removed = catalog_.RemoveSchema("s1", /*cascade=*/true);
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0].get(), a.get());
  EXPECT_EQ((*removed)[1].get(), b.get());
  EXPECT_FALSE(catalog_.HasSchema("s1"));
  EXPECT_FALSE(catalog_.Has("s1.a"));
  EXPECT_TRUE(catalog_.Has("s10.a"));

  EXPECT_EQ(catalog_.RemoveSchema("s1", true).status().message(), "schema 's1' does not exist");
  EXPECT_EQ(catalog_.RemoveSchema("s1", true).status().code(), absl::StatusCode::kNotFound);
  auto home = catalog_.RemoveSchema("ki_home", true);
  EXPECT_EQ(home.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(home.status().message(), "schema 'ki_home' is the default schema and cannot be dropped");
  // An empty schema goes without cascade.
  ASSERT_TRUE(*catalog_.Remove("s10.a") != nullptr);
  EXPECT_TRUE(catalog_.RemoveSchema("s10", false).ok());
}

TEST_F(CatalogTest, TypesListsEveryType) {
  const std::string id = *catalog_.AddType(type_);
  const std::string other_id = *catalog_.AddType(MustParse(R"([["z","int"]])"));
  const auto types = catalog_.Types();
  ASSERT_EQ(types.size(), 2u);
  std::set<std::string> ids{types[0].first, types[1].first};
  EXPECT_EQ(ids, (std::set<std::string>{id, other_id}));
}

TEST_F(TableTest, MetadataIsMergedAndClearedByAnEmptyChange) {
  Table t("t", type_, &device_, Table::Kind::kTable);
  EXPECT_TRUE(t.metadata().empty());
  ASSERT_TRUE(t.UpdateMetadata({{"owner", "ann"}, {"tier", "1"}}).ok());
  ASSERT_TRUE(t.UpdateMetadata({{"tier", "2"}}).ok());
  EXPECT_EQ(t.metadata(), (std::map<std::string, std::string>{{"owner", "ann"}, {"tier", "2"}}));
  ASSERT_TRUE(t.UpdateMetadata({}).ok());
  EXPECT_TRUE(t.metadata().empty());
}

TEST(ValidateTableNameTest, AcceptsLettersDigitsUnderscoreDashDot) {
  for (const std::string& name : {std::string("a"), std::string("A.b-c_1"), std::string("123"),
                                  std::string("ki_home.my-table"), std::string(256, 'x')}) {
    EXPECT_TRUE(ValidateTableName(name, "table_name").ok()) << name;
  }
}

TEST(ValidateTableNameTest, RefusesEmptyTooLongAndOtherCharacters) {
  absl::Status s = ValidateTableName("", "table_name");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "table_name: the name is empty");

  s = ValidateTableName(std::string(257, 'x'), "view_name");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "view_name: the name is longer than 256 characters");

  for (const char* bad : {"a b", "a/b", "a;drop", "t\xC3\xA9", "x\ty", "q'uote", "a*"}) {
    SCOPED_TRACE(bad);
    s = ValidateTableName(bad, "table_name");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(),
              absl::StrCat("table_name: '", bad, "' has characters other than letters, digits, '_', '-' and '.'"));
  }
}

}  // namespace
}  // namespace engine
