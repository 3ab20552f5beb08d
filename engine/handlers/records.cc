// /insert/records, /insert/records/random, /get/records, /get/records/bycolumn,
// /get/records/fromcollection.

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/handlers/keys.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/table/record_codec.h"
#include "engine/table/result_table.h"
#include "engine/table/subtypes.h"
#include "kernels/gather.h"
#include "kernels/materialize.h"
#include "kernels/random.h"

namespace engine {
namespace {

std::vector<kernels::ColumnView> Views(const std::vector<kernels::Column>& columns) {
  std::vector<kernels::ColumnView> views;
  for (const auto& c : columns) views.push_back(c.view());
  return views;
}

// The table named by table_name, which must be a table, not a view.
absl::StatusOr<std::shared_ptr<Table>> FindInsertTarget(const JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (table.ok() && (*table)->kind() == Table::Kind::kView) {
    return absl::InvalidArgumentError(absl::StrCat("table_name: '", (*table)->name(), "' is a view; insert into a table"));
  }
  return table;
}

absl::StatusOr<Json> InsertRecords(JobContext& ctx, const Json& request) {
  auto table = FindInsertTarget(ctx, request);
  if (!table.ok()) return table.status();
  const std::string& encoding = StringField(request, "list_encoding");
  const Json& list = request["list"];
  const Json& list_str = request["list_str"];
  DecodeOptions decode;
  auto truncate = BoolOption(request, "truncate_strings", false);
  auto dry_run = BoolOption(request, "dry_run", false);
  auto return_ids = BoolOption(request, "return_record_ids", false);
  auto upsert = BoolOption(request, "update_on_existing_pk", false);
  auto ignore = BoolOption(request, "ignore_existing_pk", false);
  for (const auto* v : {&truncate, &dry_run, &return_ids, &upsert, &ignore}) {
    if (!v->ok()) return v->status();
  }
  decode.truncate_strings = *truncate;

  const TableType& type = (*table)->type();
  if (encoding == "binary" && !list_str.empty()) {
    return absl::InvalidArgumentError("list_str: records given with list_encoding 'binary'; put them in list");
  }
  if (encoding == "json" && BytesListReader(list).size() > 0) {
    return absl::InvalidArgumentError("list: binary records given with list_encoding 'json'; put them in list_str");
  }
  if (encoding != "binary" && encoding != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("list_encoding: expected 'binary' or 'json', got '", encoding, "'"));
  }
  // Decode in chunks, reporting progress; decoding is most of an insert's work.
  // `list` is an array of binary values or, as the transports decode it, a
  // packed byte list (engine/api/json.h).
  constexpr size_t kDecodeChunk = 16384;
  std::vector<HostColumn> columns = MakeHostColumns(type);
  if (encoding == "binary") {
    AvroRecordsDecoder decoder(type, list, decode);
    const size_t total = decoder.size();
    for (HostColumn& c : columns) c.Reserve(static_cast<int64_t>(total));
    while (decoder.decoded() < total) {
      if (absl::Status s = decoder.Next(kDecodeChunk, &columns); !s.ok()) return s;
      if (absl::Status s = ctx.checkpoint(decoder.decoded() * 9, total * 10); !s.ok()) return s;
    }
  } else {
    const size_t total = list_str.size();
    for (size_t begin = 0; begin < total; begin += kDecodeChunk) {
      const size_t end = std::min(total, begin + kDecodeChunk);
      if (absl::Status s = DecodeJsonRecords(type, list_str, decode, &columns, begin, end); !s.ok()) return s;
      if (absl::Status s = ctx.checkpoint(end * 9, total * 10); !s.ok()) return s;
    }
  }

  const int64_t count = columns.empty() ? 0 : columns[0].size;
  const int64_t first_row = (*table)->rows();
  int64_t inserted = 0, updated = 0;
  if (!*dry_run && count > 0) {
    std::vector<kernels::Column> staged;
    const ExistingKey policy = *upsert ? ExistingKey::kUpdate : *ignore ? ExistingKey::kIgnore : ExistingKey::kError;
    if (absl::Status s =
            InsertWithKey(ctx, **table, DeviceViews(columns, ctx.exec, &staged), policy, &inserted, &updated);
        !s.ok()) {
      return s;
    }
  }
  Json record_ids = Json::array();
  if (*return_ids) {
    for (int64_t i = 0; i < inserted; ++i) record_ids.push_back(absl::StrCat(first_row + i));
  }
  return Json{
      {"record_ids", record_ids}, {"count_inserted", inserted}, {"count_updated", updated}, {"info", Json::object()}};
}

// Defaults of /insert/records/random, as Kinetica documents them.
constexpr double kDefaultMin = -99999;
constexpr double kDefaultMax = 99999;
constexpr double kDefaultMinLength = 1;
constexpr double kDefaultMaxLength = 200;
constexpr double kTimestamp2010 = 1262304000000;  // 2010-01-01 in ms
constexpr double kTimestamp2030 = 1893456000000;  // 2030-01-01 in ms
constexpr int64_t kRandomChunkRows = int64_t{1} << 22;

// The spec of one column: its own settings over `all`'s over the defaults.
absl::StatusOr<kernels::RandomSpec> ColumnSpec(const ColumnDef& def, const Json& options, uint64_t seed,
                                               uint64_t column) {
  kernels::RandomSpec spec;
  if (def.is_string()) {
    spec.min = kDefaultMinLength;
    spec.max = def.kind == ColumnKind::kCharN ? def.char_width : kDefaultMaxLength;
  } else if (def.kind == ColumnKind::kTimestamp) {
    spec.min = kTimestamp2010;
    spec.max = kTimestamp2030;
  } else if (def.kind == ColumnKind::kDate) {
    spec.min = kTimestamp2010 / 86400000;  // days
    spec.max = kTimestamp2030 / 86400000;
  } else if (def.kind == ColumnKind::kBoolean) {
    spec.min = 0;
    spec.max = 1;
  } else {
    spec.min = kDefaultMin;
    spec.max = kDefaultMax;
  }
  for (const char* key : {"all", def.name.c_str()}) {
    auto it = options.find(key);
    if (it == options.end()) continue;
    for (auto p = it->begin(); p != it->end(); ++p) {
      const double v = p.value().get<double>();
      if (p.key() == "min") spec.min = v;
      else if (p.key() == "max") spec.max = v;
      else if (p.key() == "null_percentage") {
        if (v < 0 || v > 100) {
          return absl::InvalidArgumentError(absl::StrCat("options.", key, ".null_percentage: must be 0..100, got ", v));
        }
        spec.null_fraction = v / 100.0;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("options.", key, ": unknown setting '", p.key(), "' (min, max, null_percentage)"));
      }
    }
  }
  if (spec.min > spec.max) {
    return absl::InvalidArgumentError(absl::StrCat("options: min ", spec.min, " is greater than max ", spec.max,
                                                   " for column '", def.name, "'"));
  }
  if (def.is_integer() && std::floor(spec.max) < std::ceil(spec.min)) {
    return absl::InvalidArgumentError(absl::StrCat("options: no integer lies in [", spec.min, ", ", spec.max,
                                                   "] for column '", def.name, "'"));
  }
  if (def.is_string()) {
    spec.min = std::max(0.0, std::floor(spec.min));
    spec.max = std::floor(spec.max);
    if (def.kind == ColumnKind::kCharN) spec.max = std::min<double>(spec.max, def.char_width);
    spec.min = std::min(spec.min, spec.max);
  }
  spec.seed = seed;
  spec.stream = column;
  return spec;
}

// `n` random values of a subtype column (subtypes.h), nulls as `spec` says:
// each made of a random 64-bit draw.
kernels::Column RandomSubtypeColumn(const ColumnDef& def, absl::string_view subtype, int64_t n,
                                    kernels::RandomSpec spec, const kernels::Exec& exec) {
  spec.min = 0;
  spec.max = 9e15;  // integers a double holds exactly
  const kernels::Column words = kernels::RandomColumn(kernels::PhysType::kInt64, 0, def.nullable, n, spec, exec);
  const HostColumn drawn = ToHost(words.view(), def.nullable, 0, n, exec);
  HostColumn values(def.phys(), def.char_width, def.nullable);
  values.Reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    if (drawn.IsValid(i)) {
      values.AppendString(SubtypeValue(subtype, static_cast<uint64_t>(drawn.IntAt(i))));
    } else {
      values.AppendNull();
    }
  }
  return ToDevice(std::move(values), exec);
}

absl::StatusOr<Json> InsertRecordsRandom(JobContext& ctx, const Json& request) {
  auto table = FindInsertTarget(ctx, request);
  if (!table.ok()) return table.status();
  const int64_t count = request["count"].get<int64_t>();
  if (count < 0) return absl::InvalidArgumentError(absl::StrCat("count: must be >= 0, got ", count));
  const Json& options = request["options"];
  for (auto it = options.begin(); it != options.end(); ++it) {
    if (it.key() != "all" && it.key() != "seed" && (*table)->type().Find(it.key()) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("options: no column named '", it.key(), "'"));
    }
  }
  uint64_t seed = 0;
  if (auto it = options.find("seed"); it != options.end()) {
    auto value = it->find("value");
    if (value == it->end() || value->get<double>() < 0) {
      return absl::InvalidArgumentError("options.seed: give the seed as {\"seed\": {\"value\": N}} with N >= 0");
    }
    seed = static_cast<uint64_t>(value->get<double>());
  } else {
    seed = static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}();
  }

  const TableType& type = (*table)->type();
  std::vector<kernels::RandomSpec> specs;
  for (size_t c = 0; c < type.size(); ++c) {
    auto spec = ColumnSpec(type.column(c), options, seed, c);
    if (!spec.ok()) return spec.status();
    specs.push_back(*spec);
  }

  // Draw in chunks into staging columns, then append once: the table changes
  // all at once or not at all, and a failure returns every staged byte.
  std::vector<kernels::Column> staged;
  for (const ColumnDef& c : type.columns()) {
    staged.emplace_back(c.phys(), c.char_width, c.nullable);
    staged.back().Reserve(count, 0, ctx.exec);  // no regrowth (strings' characters aside)
  }
  for (int64_t done = 0; done < count;) {
    const int64_t n = std::min(kRandomChunkRows, count - done);
    for (size_t c = 0; c < type.size(); ++c) {
      const ColumnDef& def = type.column(c);
      kernels::RandomSpec spec = specs[c];
      spec.stream = (static_cast<uint64_t>(done) << 16) ^ c;
      const absl::string_view subtype = StringSubtype(def);
      kernels::Column chunk = subtype.empty()
                                  ? kernels::RandomColumn(def.phys(), def.char_width, def.nullable, n, spec, ctx.exec)
                                  : RandomSubtypeColumn(def, subtype, n, spec, ctx.exec);
      staged[c].Append(chunk.view(), ctx.exec);
    }
    done += n;
    // Progress over the draw and the final append (counted as a tenth).
    if (absl::Status s = ctx.checkpoint(done * 9, count * 10); !s.ok()) return s;
  }
  // A table with a primary key keeps it: rows whose key is drawn again, or
  // is held already, are not inserted.
  int64_t inserted = 0, updated = 0;
  if (absl::Status s = InsertWithKey(ctx, **table, Views(staged), ExistingKey::kIgnore, &inserted, &updated); !s.ok()) {
    return s;
  }
  return Json{{"table_name", (*table)->name()}, {"count", inserted}, {"info", Json::object()}};
}

// The option a request's sort keys came from (as RequestedOrder reads
// them), to name it in errors.
const char* OrderField(const Json& request) {
  return absl::StripAsciiWhitespace(Option(request, "order_by")).empty() ? "options.sort_by" : "options.order_by";
}

// The rows a records read returns: those options.expression selects, in the
// requested order (options.sort_by or order_by), and the offset/limit page of
// them. Only the page's rows of the order are computed (the page depends on
// the count alone); a bad sort key is reported before a bad offset or limit.
// `rows` index `table`, a single-device table on the job's device; its
// positions [page.begin, page.end) are the page, and rows.count counts every
// selected row.
struct PagedRows {
  RowSet rows;
  Page page;
  std::shared_ptr<Table> table;
  // For a distributed table: each row of `table`'s position in the
  // distributed table (its record id); empty otherwise (the row number is).
  kernels::Column positions;
};

// A distributed table's page: each shard selects its rows and orders them,
// keeping the first offset + limit (a top-k); those rows come to the job's
// device, where they are ordered again (ties, and an unordered read, by
// position) and paged. A page deep into the order (offset + limit past half
// a shard's share of the rows) skips the shards' own ordering: most of
// their rows would come anyway, and one sort of them here costs less.
absl::StatusOr<PagedRows> ShardedPage(JobContext& ctx, const Table& table, const Json& request,
                                      const std::vector<OrderKey>& order) {
  const int64_t offset = request["offset"].get<int64_t>(), limit = request["limit"].get<int64_t>();
  auto bound = ResolvePage(offset, limit, std::numeric_limits<int64_t>::max() / 4, ctx.limits);
  const int64_t want = bound.ok() ? bound->end : 0;
  const TableType& type = table.type();
  const size_t n = PartCount(table);
  const bool deep = !order.empty() && want > table.rows() / static_cast<int64_t>(2 * n);
  std::vector<int64_t> counts(n, 0);
  // Per shard: its first rows in the requested order, then their positions:
  // views of the shard's own columns when those are its first rows as they
  // stand, else gathered (and owned in `gathered`).
  std::vector<std::vector<kernels::ColumnView>> picked(n);
  std::vector<std::vector<kernels::Column>> gathered(n);
  absl::Status scanned =
      ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
        auto rows = SelectRows(part_ctx, part, Option(request, "expression"), "options.expression");
        if (!rows.ok()) return rows.status();
        counts[i] = rows->count;
        const kernels::ColumnView positions = part.positions();
        // A shard's rows are in order of position already.
        const kernels::ColumnView* tiebreak = order.empty() ? nullptr : &positions;
        if (!deep) {
          if (absl::Status s = OrderRows(part_ctx, part, order, &*rows, OrderField(request), want, tiebreak); !s.ok()) {
            return s;
          }
        }
        const int64_t k = deep ? rows->count : std::min(rows->count, want);
        std::vector<kernels::ColumnView> views = part.views();
        views.push_back(positions);
        for (size_t c = 0; c < views.size(); ++c) {
          if (rows->all) {
            picked[i].push_back(kernels::SliceRows(views[c], 0, k));
          } else {
            const bool nullable = c < type.size() && type.column(c).nullable;
            gathered[i].push_back(kernels::Gather(views[c], rows->data(), k, nullable, part_ctx.exec));
            picked[i].push_back(gathered[i].back().view());
          }
        }
        return absl::OkStatus();
      });
  if (!scanned.ok()) return scanned;
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  auto page = ResolvePage(offset, limit, total, ctx.limits);
  if (!page.ok()) return page.status();
  std::vector<kernels::Column> columns;
  for (size_t c = 0; c <= type.size(); ++c) {
    std::vector<kernels::ColumnView> parts;
    for (const auto& p : picked) parts.push_back(p[c]);
    const bool nullable = c < type.size() && type.column(c).nullable;
    columns.push_back(Concatenate(parts, parts[0].type, parts[0].width, nullable, ctx.exec));
  }
  gathered.clear();
  kernels::Column positions = std::move(columns.back());
  columns.pop_back();
  auto local = std::make_shared<Table>("", type, &ctx.device, Table::Kind::kView);
  local->Replace(std::move(columns), ctx.exec).IgnoreError();  // no journal: cannot fail
  // The candidates in the requested order, ties (and an unordered read) in
  // the order of insertion: what one device gives.
  RowSet rows;
  rows.count = local->rows();
  const kernels::ColumnView tiebreak = positions.view();
  if (absl::Status s = OrderRows(ctx, *local, order, &rows, OrderField(request), page->end, &tiebreak); !s.ok()) {
    return s;
  }
  rows.count = total;
  return PagedRows{std::move(rows), *page, std::move(local), std::move(positions)};
}

absl::StatusOr<PagedRows> SortedPage(JobContext& ctx, const std::shared_ptr<Table>& table, const Json& request) {
  auto order = RequestedOrder(request);
  if (!order.ok()) return order.status();
  if (PartCount(*table) > 1) return ShardedPage(ctx, *table, request, *order);
  std::shared_ptr<Table> local = LocalTable(ctx, table);
  auto rows = SelectRows(ctx, *local, Option(request, "expression"), "options.expression");
  if (!rows.ok()) return rows.status();
  auto page = ResolvePage(request["offset"].get<int64_t>(), request["limit"].get<int64_t>(), rows->count,
                          ctx.limits);
  if (absl::Status s = OrderRows(ctx, *local, *order, &*rows, OrderField(request), page.ok() ? page->end : 0);
      !s.ok()) {
    return s;
  }
  if (!page.ok()) return page.status();
  return PagedRows{*std::move(rows), *page, std::move(local), {}};
}

// Rows [0, n) of `columns` as records of `type`: Avro records in `binary`,
// or JSON objects in `json`, as `encoding` says.
void EncodeRecords(const TableType& type, const std::vector<HostColumn>& columns, int64_t n,
                   const std::string& encoding, Json* binary, Json* json) {
  *binary = Json::array();
  *json = Json::array();
  for (int64_t r = 0; r < n; ++r) {
    if (encoding == "binary") {
      const std::string record = EncodeAvroRecord(type, columns, r);
      binary->push_back(Json::binary(std::vector<uint8_t>(record.begin(), record.end())));
    } else {
      json->push_back(DumpJson(RecordToJson(type, columns, r)));
    }
  }
}

// type_name is the table's type id, which /show/types describes (Kinetica's
// clients look the type up by it).
absl::StatusOr<Json> GetRecords(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;
  auto paged = SortedPage(ctx, *table, request);
  if (!paged.ok()) return paged.status();
  const RowSet& rows = paged->rows;
  const Page& page = paged->page;
  const TableType& type = (*table)->type();
  std::vector<HostColumn> columns = FetchRows(ctx, *paged->table, rows, page.begin, page.end);
  Json records_binary, records_json;
  EncodeRecords(type, columns, page.end - page.begin, StringField(request, "encoding"), &records_binary,
                &records_json);
  return Json{{"table_name", StringField(request, "table_name")},
              {"type_name", (*table)->type_id()},
              {"type_schema", type.RecordSchema()},
              {"records_binary", records_binary},
              {"records_json", records_json},
              {"total_number_of_records", rows.count},
              {"has_more_records", page.end < rows.count},
              {"info", Json::object()}};
}

// A table's records as /get/records gives them, with their type ids in
// type_names and, with options.return_record_ids, their record ids (the row
// numbers /insert/records returns).
absl::StatusOr<Json> GetRecordsFromCollection(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;
  auto return_ids = BoolOption(request, "return_record_ids", false);
  if (!return_ids.ok()) return return_ids.status();
  auto paged = SortedPage(ctx, *table, request);
  if (!paged.ok()) return paged.status();
  const RowSet& rows = paged->rows;
  const Page& page = paged->page;
  const int64_t n = page.end - page.begin;
  std::vector<HostColumn> columns = FetchRows(ctx, *paged->table, rows, page.begin, page.end);
  Json records_binary, records_json;
  EncodeRecords((*table)->type(), columns, n, StringField(request, "encoding"), &records_binary, &records_json);
  Json record_ids = Json::array();
  if (*return_ids) {
    std::vector<int64_t> ids = RowIndices(ctx, rows, page.begin, page.end);
    if (paged->positions.size() > 0 && !ids.empty()) {
      // A distributed table's record ids are its rows' positions.
      kernels::Buffer at(ids.size() * sizeof(int64_t), ctx.exec);
      kernels::CopyToDevice(at.data(), ids.data(), ids.size() * sizeof(int64_t), ctx.exec);
      kernels::Column picked =
          kernels::Gather(paged->positions.view(), at.as<int64_t>(), static_cast<int64_t>(ids.size()), false, ctx.exec);
      kernels::CopyToHostSync(ids.data(), picked.view().data, ids.size() * sizeof(int64_t), ctx.exec);
    }
    for (int64_t id : ids) record_ids.push_back(absl::StrCat(id));
  }
  return Json{{"table_name", StringField(request, "table_name")},
              {"type_names", std::vector<std::string>(n, (*table)->type_id())},
              {"records_binary", records_binary},
              {"records_json", records_json},
              {"record_ids", record_ids},
              {"info", Json{{"total_number_of_records", absl::StrCat(rows.count)},
                            {"has_more_records", page.end < rows.count ? "true" : "false"}}}};
}

absl::StatusOr<Json> GetRecordsByColumn(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;
  const std::string& encoding = StringField(request, "encoding");
  const auto names = request["column_names"].get<std::vector<std::string>>();
  if (names.empty()) return absl::InvalidArgumentError("column_names: give at least one column or expression");
  std::vector<Aliased> outputs;
  for (size_t i = 0; i < names.size(); ++i) {
    auto aliased = SplitAlias(names[i], absl::StrCat("column_names[", i, "]"));
    if (!aliased.ok()) return aliased.status();
    outputs.push_back(*std::move(aliased));
  }
  auto paged = SortedPage(ctx, *table, request);
  if (!paged.ok()) return paged.status();
  const RowSet& rows = paged->rows;
  const Page& page = paged->page;

  // Gather the page's rows of every column, then evaluate the outputs over
  // that small table only (a small page on the calling thread alone).
  const int64_t n = page.end - page.begin;
  const kernels::OneThreadScope one_thread(ctx.exec, n < kernels::kOneThreadRows);
  const TableType& type = (*table)->type();
  std::vector<kernels::Column> page_columns;
  const std::vector<kernels::ColumnView> views = paged->table->views();
  kernels::Buffer positions;
  const int64_t* page_rows = nullptr;
  if (rows.all) {
    positions = kernels::Buffer(static_cast<size_t>(n) * sizeof(int64_t), ctx.exec);
    std::vector<int64_t> host(n);
    for (int64_t r = 0; r < n; ++r) host[r] = page.begin + r;
    kernels::CopyToDevice(positions.data(), host.data(), host.size() * sizeof(int64_t), ctx.exec);
    page_rows = positions.as<int64_t>();
  } else {
    page_rows = rows.indices.as<int64_t>() + page.begin;
  }
  std::vector<kernels::ColumnView> page_views;
  for (size_t c = 0; c < views.size(); ++c) {
    page_columns.push_back(kernels::Gather(views[c], page_rows, n, type.column(c).nullable, ctx.exec));
    page_views.push_back(page_columns.back().view());
  }
  std::vector<ResultColumn> columns;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Aliased& out = outputs[i];
    const std::string header = out.alias.empty() ? out.expr : out.alias;
    if (const int c = type.Find(out.expr); c >= 0) {
      kernels::Column copy(page_columns[c].type(), page_columns[c].width(), type.column(c).nullable);
      copy.Append(page_views[c], ctx.exec);
      columns.push_back(ResultColumn{header, ResultDef(type.column(c), header, type.column(c).nullable),
                                     std::move(copy)});
      continue;
    }
    auto program = CompileExpression(out.expr, type, page_views, ExprUse::kValue);
    if (!program.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("column_names[", i, "]: ", program.status().message()));
    }
    kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
    columns.push_back(ResultColumn{header, ValueDef(program->result, header, true),
                                   kernels::Materialize(device_program.view, 0, n, true, ctx.exec)});
  }
  ResultTable result(std::move(columns));
  Json encoded = result.Encode(0, n, encoding, ctx.exec);
  return Json{{"table_name", (*table)->name()},
              {"response_schema_str", encoded["response_schema_str"]},
              {"binary_encoded_response", encoded["binary_encoded_response"]},
              {"json_encoded_response", encoded["json_encoded_response"]},
              {"total_number_of_records", rows.count},
              {"has_more_records", page.end < rows.count},
              {"info", Json::object()}};
}

}  // namespace

void AddRecordHandlers(HandlerMap* handlers) {
  (*handlers)["/insert/records"] = Handler{false, WriteTableAccess, InsertRecords};
  (*handlers)["/insert/records/random"] = Handler{false, WriteTableAccess, InsertRecordsRandom};
  (*handlers)["/get/records"] = Handler{true, ReadTableAccess, GetRecords};
  (*handlers)["/get/records/bycolumn"] = Handler{true, ReadTableAccess, GetRecordsByColumn};
  (*handlers)["/get/records/fromcollection"] = Handler{true, ReadTableAccess, GetRecordsFromCollection};
}

}  // namespace engine
