#include "engine/handler_util.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/catalog.h"
#include "engine/expression.h"
#include "kernels/filter.h"
#include "kernels/gather.h"

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
