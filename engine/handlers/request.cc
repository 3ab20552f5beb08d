#include "engine/handlers/request.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/api/options.h"
#include "engine/table/catalog.h"

namespace engine {

const std::string& StringField(const Json& request, absl::string_view field) {
  return request[std::string(field)].get_ref<const std::string&>();
}

std::string Option(const Json& request, absl::string_view key, absl::string_view fallback) {
  const std::string* value = FindOption(request["options"], key);
  return value != nullptr ? *value : std::string(fallback);
}

std::vector<std::string> ListOption(const Json& request, absl::string_view key) {
  const std::string value = Option(request, key);
  std::vector<std::string> out;
  if (absl::StripAsciiWhitespace(value).empty()) return out;
  for (absl::string_view part : absl::StrSplit(value, ',')) out.emplace_back(absl::StripAsciiWhitespace(part));
  return out;
}

absl::StatusOr<bool> BoolOption(const Json& request, absl::string_view key, bool fallback) {
  return ParseBoolOption(key, FindOption(request["options"], key), fallback);
}

absl::StatusOr<bool> DescendingOption(const Json& request) {
  const std::string order = Option(request, "sort_order", "ascending");
  if (order == "ascending") return false;
  if (order == "descending") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("options.sort_order: expected 'ascending' or 'descending', got '", order, "'"));
}

namespace {

absl::StatusOr<std::vector<Access>> TableAccess(const Json& request, bool write) {
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = ValidateTableName(name, "table_name"); !s.ok()) return s;
  return std::vector<Access>{{name, write}};
}

}  // namespace

absl::StatusOr<std::vector<Access>> ReadTableAccess(const Json& request) { return TableAccess(request, false); }

absl::StatusOr<std::vector<Access>> WriteTableAccess(const Json& request) { return TableAccess(request, true); }

absl::StatusOr<std::vector<Access>> TableListAccess(const Json& request, absl::string_view field, bool write) {
  std::vector<Access> access;
  const Json& names = request[std::string(field)];
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i].get_ref<const std::string&>();
    if (absl::Status s = ValidateTableName(name, absl::StrCat(field, "[", i, "]")); !s.ok()) return s;
    access.push_back(Access{name, write});
  }
  return access;
}

absl::StatusOr<std::shared_ptr<Table>> FindTable(const JobContext& ctx, const Json& request, absl::string_view field) {
  auto table = ctx.catalog.Find(StringField(request, field));
  if (!table.ok()) return absl::NotFoundError(absl::StrCat(field, ": ", table.status().message()));
  return table;
}

void ReleaseRemovedTable(std::shared_ptr<Table> table) {
  if (table == nullptr) return;
  constexpr size_t kTrimAfterBytes = size_t{64} << 20;
  std::vector<Device*> devices{table->device()};
  for (const auto& shard : table->shards()) devices.push_back(shard->device());
  const bool big = table->device_bytes() >= kTrimAfterBytes;
  table.reset();
  if (!big) return;
  for (Device* device : devices) {
    if (device != nullptr) device->memory().Trim();
  }
}

absl::Status CheckEncoding(const Json& request) {
  const std::string& encoding = StringField(request, "encoding");
  if (encoding == "binary" || encoding == "json") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("encoding: expected 'binary' or 'json', got '", encoding, "'"));
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

absl::StatusOr<std::vector<OrderKey>> RequestedOrder(const Json& request) {
  const std::string order_by = Option(request, "order_by");
  if (!absl::StripAsciiWhitespace(order_by).empty()) return ParseOrderBy(order_by, "options.order_by");
  const std::string sort_by = Option(request, "sort_by");
  auto descending = DescendingOption(request);
  if (!descending.ok()) return descending.status();
  if (absl::StripAsciiWhitespace(sort_by).empty()) return std::vector<OrderKey>{};
  return std::vector<OrderKey>{{std::string(absl::StripAsciiWhitespace(sort_by)), *descending}};
}

absl::StatusOr<int64_t> RequestedBins(const Json& request) {
  const double start = request["start"].get<double>();
  const double end = request["end"].get<double>();
  const double interval = request["interval"].get<double>();
  if (!(interval > 0) || !std::isfinite(interval)) {
    return absl::InvalidArgumentError(absl::StrCat("interval: must be a positive number, got ", interval));
  }
  if (!(end > start) || !std::isfinite(start) || !std::isfinite(end)) {
    return absl::InvalidArgumentError(absl::StrCat("end: must be greater than start (", start, "), got ", end));
  }
  const double bins = std::ceil((end - start) / interval);
  constexpr double kMaxBins = 10'000'000;
  if (bins > kMaxBins) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval: (end - start) / interval gives ", bins, " bins; at most ", kMaxBins, " are allowed"));
  }
  return static_cast<int64_t>(bins);
}

}  // namespace engine
