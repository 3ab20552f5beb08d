#include "engine/handler_util.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/catalog.h"
#include "engine/expression.h"
#include "engine/result_table.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/materialize.h"
#include "kernels/sort.h"

namespace engine {

std::string Option(const Json& request, absl::string_view key, absl::string_view fallback) {
  const Json& options = request["options"];
  auto it = options.find(std::string(key));
  return it == options.end() ? std::string(fallback) : it->get<std::string>();
}

absl::StatusOr<bool> BoolOption(const Json& request, absl::string_view key, bool fallback) {
  const std::string v = Option(request, key, fallback ? "true" : "false");
  if (v == "true") return true;
  if (v == "false") return false;
  return absl::InvalidArgumentError(absl::StrCat("options.", key, ": expected 'true' or 'false', got '", v, "'"));
}

const std::string& StringField(const Json& request, absl::string_view field) {
  return request[std::string(field)].get_ref<const std::string&>();
}

absl::StatusOr<std::vector<Access>> ReadTableAccess(const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = ValidateTableName(name, "table_name"); !s.ok()) return s;
  return std::vector<Access>{{name, false}};
}

absl::StatusOr<std::vector<Access>> WriteTableAccess(const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = ValidateTableName(name, "table_name"); !s.ok()) return s;
  return std::vector<Access>{{name, true}};
}

absl::StatusOr<std::shared_ptr<Table>> FindTable(const JobContext& ctx, const Json& request,
                                                 absl::string_view field) {
  auto table = ctx.catalog.Find(StringField(request, field));
  if (!table.ok()) return absl::NotFoundError(absl::StrCat(field, ": ", table.status().message()));
  return table;
}

namespace {

absl::StatusOr<kernels::DeviceProgram> CompilePredicate(JobContext& ctx, const Table& table,
                                                        const std::string& expression,
                                                        absl::string_view field) {
  auto program = CompileExpression(expression, table.type(), table.views(), ExprUse::kPredicate);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  return kernels::Upload(*program, ctx.exec);
}

}  // namespace

absl::StatusOr<RowSet> SelectRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field) {
  RowSet rows;
  const int64_t n = table.rows();
  if (absl::StripAsciiWhitespace(expression).empty()) {
    rows.count = n;
    return rows;
  }
  auto program = CompilePredicate(ctx, table, expression, field);
  if (!program.ok()) return program.status();
  kernels::Buffer mask(static_cast<size_t>(n), ctx.exec);
  absl::Status scanned = ForEachChunk(ctx, n, [&](int64_t begin, int64_t end) {
    kernels::EvaluateMask(program->view, begin, end, mask.as<uint8_t>() + begin, ctx.exec);
  });
  if (!scanned.ok()) return scanned;
  kernels::Selection selection = kernels::Compact(mask.as<uint8_t>(), 0, n, ctx.exec);
  rows.all = false;
  rows.count = selection.count;
  rows.indices = std::move(selection.indices);
  return rows;
}

absl::StatusOr<int64_t> CountRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field) {
  if (absl::StripAsciiWhitespace(expression).empty()) return table.rows();
  auto program = CompilePredicate(ctx, table, expression, field);
  if (!program.ok()) return program.status();
  int64_t count = 0;
  absl::Status scanned = ForEachChunk(ctx, table.rows(), [&](int64_t begin, int64_t end) {
    count += kernels::Count(program->view, begin, end, ctx.exec);
  });
  if (!scanned.ok()) return scanned;
  return count;
}

absl::Status ForEachChunk(JobContext& ctx, int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t chunk = std::max<int64_t>(ctx.limits.chunk_rows, 1);
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t end = std::min(rows, begin + chunk);
    fn(begin, end);
    if (absl::Status s = ctx.checkpoint(end, rows); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::vector<HostColumn> FetchRows(JobContext& ctx, const Table& table, const RowSet& rows, int64_t begin,
                                  int64_t end) {
  std::vector<HostColumn> out;
  const std::vector<kernels::ColumnView> views = table.views();
  for (size_t c = 0; c < views.size(); ++c) {
    const bool nullable = table.type().column(c).nullable;
    if (rows.all) {
      out.push_back(ToHost(views[c], nullable, begin, end, ctx.exec));
    } else {
      kernels::Column picked =
          kernels::Gather(views[c], rows.indices.as<int64_t>() + begin, end - begin, nullable, ctx.exec);
      out.push_back(ToHost(picked.view(), nullable, 0, end - begin, ctx.exec));
    }
  }
  return out;
}

absl::StatusOr<Page> ResolvePage(int64_t offset, int64_t limit, int64_t total, const EngineLimits& limits) {
  if (offset < 0) return absl::InvalidArgumentError(absl::StrCat("offset: must be >= 0, got ", offset));
  if (limit == -9999) limit = limits.max_get_records_size;
  if (limit < 0) return absl::InvalidArgumentError(absl::StrCat("limit: must be >= 0 or -9999, got ", limit));
  limit = std::min(limit, limits.max_get_records_size);
  Page page;
  page.begin = std::min(offset, total);
  page.end = std::min(total, page.begin + limit);
  return page;
}

}  // namespace engine

namespace engine {

std::vector<std::string> SplitTopLevel(absl::string_view text, char sep) {
  std::vector<std::string> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == sep && depth == 0 && quote == 0)) {
      out.emplace_back(absl::StripAsciiWhitespace(text.substr(start, i - start)));
      start = i + 1;
      continue;
    }
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    }
  }
  return out;
}

absl::StatusOr<Aliased> SplitAlias(absl::string_view text, absl::string_view field) {
  int depth = 0;
  char quote = 0;
  size_t at = absl::string_view::npos;
  for (size_t i = 0; i + 4 <= text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && absl::ascii_isspace(static_cast<unsigned char>(c)) &&
        absl::EqualsIgnoreCase(text.substr(i + 1, 2), "as") && i + 3 < text.size() &&
        absl::ascii_isspace(static_cast<unsigned char>(text[i + 3]))) {
      at = i;
    }
  }
  Aliased out;
  if (at == absl::string_view::npos) {
    out.expr = std::string(absl::StripAsciiWhitespace(text));
    return out;
  }
  out.expr = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
  out.alias = std::string(absl::StripAsciiWhitespace(text.substr(at + 4)));
  bool ok = !out.alias.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(out.alias[0]));
  for (char c : out.alias) ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok || out.expr.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "': an alias after 'as' must be a name (letters, digits, '_')"));
  }
  return out;
}

absl::StatusOr<RowValues> EvaluateRows(JobContext& ctx, const Table& table, const std::string& text,
                                       absl::string_view field) {
  RowValues out;
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  if (const int c = table.type().Find(trimmed); c >= 0) {
    out.view = table.views()[c];
    out.def = table.type().column(c);
    return out;
  }
  auto program = CompileExpression(trimmed, table.type(), table.views(), ExprUse::kValue);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  out.owned = kernels::Materialize(device_program.view, 0, table.rows(), /*nullable=*/true, ctx.exec);
  out.view = out.owned.view();
  out.def = ValueDef(program->result, trimmed, true);
  return out;
}

absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text, absl::string_view field) {
  std::vector<OrderKey> keys;
  for (const std::string& item : SplitTopLevel(text, ',')) {
    OrderKey key;
    key.expr = item;
    const std::string lower = absl::AsciiStrToLower(item);
    if (absl::EndsWith(lower, " desc")) {
      key.descending = true;
      key.expr = item.substr(0, item.size() - 5);
    } else if (absl::EndsWith(lower, " asc")) {
      key.expr = item.substr(0, item.size() - 4);
    }
    key.expr = std::string(absl::StripAsciiWhitespace(key.expr));
    if (key.expr.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": an empty sort key in '", text, "'"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<std::vector<OrderKey>> RequestedOrder(const Json& request) {
  const std::string order_by = Option(request, "order_by");
  if (!absl::StripAsciiWhitespace(order_by).empty()) return ParseOrderBy(order_by, "options.order_by");
  const std::string sort_by = Option(request, "sort_by");
  const std::string sort_order = Option(request, "sort_order", "ascending");
  if (sort_order != "ascending" && sort_order != "descending") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.sort_order: expected 'ascending' or 'descending', got '", sort_order, "'"));
  }
  if (absl::StripAsciiWhitespace(sort_by).empty()) return std::vector<OrderKey>{};
  return std::vector<OrderKey>{{std::string(absl::StripAsciiWhitespace(sort_by)), sort_order == "descending"}};
}

absl::Status OrderRows(JobContext& ctx, const Table& table, const std::vector<OrderKey>& keys, RowSet* rows,
                       absl::string_view field, int64_t needed) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<RowValues> values;
  std::vector<kernels::SortKey> sort_keys;
  for (const OrderKey& key : keys) {
    auto v = EvaluateRows(ctx, table, key.expr, field);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  for (size_t i = 0; i < keys.size(); ++i) sort_keys.push_back({values[i].view, keys[i].descending});
  kernels::Buffer order = needed >= 0 && needed < rows->count
                              ? kernels::TopKOrder(sort_keys, rows->data(), rows->count, needed, ctx.exec)
                              : kernels::SortOrder(sort_keys, rows->data(), rows->count, ctx.exec);
  rows->all = false;
  rows->indices = std::move(order);
  return absl::OkStatus();
}

}  // namespace engine
