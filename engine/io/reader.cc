#include "engine/io/reader.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/io/formats.h"
#include "engine/table/record_codec.h"

namespace engine::io {

Records RecordsOf(const TableType& type) {
  Records records;
  records.type = type;
  records.has_type = true;
  records.columns = MakeHostColumns(type);
  return records;
}

absl::Status ReadRecords(const Input& input, const ReadOptions& options, const Progress& progress, Records* out) {
  switch (options.format) {
    case FileFormat::kDelimitedText:
      return detail::ReadDelimited(input, options, progress, out);
    case FileFormat::kJson:
      return detail::ReadJson(input, options, progress, out);
    case FileFormat::kParquet:
      return detail::ReadParquet(input, options, progress, out);
  }
  return absl::InvalidArgumentError("unknown format");
}

FileFormat FormatOfName(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (absl::EndsWith(lower, ".parquet")) return FileFormat::kParquet;
  if (absl::EndsWith(lower, ".json") || absl::EndsWith(lower, ".jsonl") || absl::EndsWith(lower, ".ndjson")) {
    return FileFormat::kJson;
  }
  return FileFormat::kDelimitedText;
}

char DelimiterOfName(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (absl::EndsWith(lower, ".tsv")) return '\t';
  if (absl::EndsWith(lower, ".psv")) return '|';
  return ',';
}

bool LooksLikeParquet(absl::string_view bytes) { return absl::StartsWith(bytes, "PAR1"); }

namespace detail {
namespace {

// One entry of columns_to_load or columns_to_skip: source columns (by index),
// or none (an empty entry).
struct Entry {
  std::vector<int> sources;
};

// Parses a list of column numbers ("5", "1..3", "3..1") or names; a single
// entry that is not a number makes them all names. `field` names the option.
absl::StatusOr<std::vector<Entry>> ParseEntries(const std::vector<std::string>& entries, const SourceColumns& source,
                                                const char* field) {
  auto number = [](absl::string_view s, int* out) { return absl::SimpleAtoi(s, out); };
  bool numbers = true;
  for (const std::string& raw : entries) {
    const absl::string_view e = absl::StripAsciiWhitespace(raw);
    if (e.empty()) continue;
    int a, b;
    std::vector<absl::string_view> range = absl::StrSplit(e, "..");
    if (!(range.size() == 1 && number(e, &a)) && !(range.size() == 2 && number(range[0], &a) && number(range[1], &b))) {
      numbers = false;
    }
  }
  std::vector<Entry> out;
  for (const std::string& raw : entries) {
    const absl::string_view e = absl::StripAsciiWhitespace(raw);
    Entry entry;
    if (e.empty()) {
      out.push_back(entry);
      continue;
    }
    if (numbers) {
      std::vector<absl::string_view> range = absl::StrSplit(e, "..");
      int first = 0, last = 0;
      number(range[0], &first);
      last = first;
      if (range.size() == 2) number(range[1], &last);
      for (int n : {first, last}) {
        if (n < 1 || static_cast<size_t>(n) > source.count()) {
          return absl::InvalidArgumentError(
              absl::StrCat("options.", field, ": column ", n, " is not in the data (1..", source.count(), ")"));
        }
      }
      const int step = first <= last ? 1 : -1;
      for (int n = first;; n += step) {
        entry.sources.push_back(n - 1);
        if (n == last) break;
      }
    } else {
      if (!source.named) {
        return absl::InvalidArgumentError(absl::StrCat("options.", field, ": '", e,
                                                       "' is a name, and the data has no column names "
                                                       "(no header); give column numbers"));
      }
      auto it = std::find(source.names.begin(), source.names.end(), e);
      if (it == source.names.end()) {
        return absl::InvalidArgumentError(absl::StrCat("options.", field, ": '", e, "' is not a column of the data"));
      }
      entry.sources.push_back(static_cast<int>(it - source.names.begin()));
    }
    out.push_back(entry);
  }
  return out;
}

// The source column named `name` (exactly, else but for case) that is not
// in `skipped`, or -1.
int FindByName(const SourceColumns& source, const std::string& name, const std::set<int>& skipped) {
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < source.count(); ++i) {
      if (skipped.count(static_cast<int>(i)) > 0) continue;
      if (pass == 0 ? source.names[i] == name : absl::EqualsIgnoreCase(source.names[i], name)) {
        return static_cast<int>(i);
      }
    }
  }
  return -1;
}

absl::StatusOr<std::set<int>> Skipped(const SourceColumns& source, const ReadOptions& options) {
  std::set<int> skipped;
  if (options.columns_to_skip.empty()) return skipped;
  if (!options.columns_to_load.empty()) {
    return absl::InvalidArgumentError("options.columns_to_skip: give columns_to_load or columns_to_skip, not both");
  }
  auto entries = ParseEntries(options.columns_to_skip, source, "columns_to_skip");
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) skipped.insert(e.sources.begin(), e.sources.end());
  return skipped;
}

}  // namespace

absl::StatusOr<std::vector<int>> MapColumns(const SourceColumns& source, const TableType& type,
                                            const ReadOptions& options) {
  std::vector<int> map;
  if (!options.columns_to_load.empty()) {
    auto entries = ParseEntries(options.columns_to_load, source, "columns_to_load");
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {
      if (e.sources.empty())
        map.push_back(-1);
      else
        map.insert(map.end(), e.sources.begin(), e.sources.end());
    }
    if (map.size() != type.size()) {
      return absl::InvalidArgumentError(absl::StrCat("options.columns_to_load: ", map.size(),
                                                     " columns given for a table of ", type.size(), " columns"));
    }
  } else {
    auto skipped = Skipped(source, options);
    if (!skipped.ok()) return skipped.status();
    std::vector<int> remaining;
    for (size_t i = 0; i < source.count(); ++i) {
      if (skipped->count(static_cast<int>(i)) == 0) remaining.push_back(static_cast<int>(i));
    }
    for (size_t c = 0; c < type.size(); ++c) {
      if (source.named)
        map.push_back(FindByName(source, type.column(c).name, *skipped));
      else
        map.push_back(c < remaining.size() ? remaining[c] : -1);
    }
  }
  for (size_t c = 0; c < type.size(); ++c) {
    if (map[c] >= 0) continue;
    const ColumnDef& def = type.column(c);
    if (!def.nullable) {
      return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": the table's column '", def.name,
                                                     "' is not nullable and the data has no column for it"));
    }
    if (options.columns_to_load.empty() && options.on_error != OnError::kPermissive) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.source_name, ": the data has no column for the table's column '", def.name,
                       "' (options.error_handling=permissive loads it as null; columns_to_load maps columns)"));
    }
  }
  return map;
}

absl::StatusOr<std::vector<int>> NewTableColumns(const SourceColumns& source, const ReadOptions& options) {
  std::vector<int> columns;
  if (!options.columns_to_load.empty()) {
    auto entries = ParseEntries(options.columns_to_load, source, "columns_to_load");
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {
      if (e.sources.empty()) {
        return absl::InvalidArgumentError(
            "options.columns_to_load: an empty entry needs a table column to fill; the table does not exist yet");
      }
      columns.insert(columns.end(), e.sources.begin(), e.sources.end());
    }
    return columns;
  }
  auto skipped = Skipped(source, options);
  if (!skipped.ok()) return skipped.status();
  for (size_t i = 0; i < source.count(); ++i) {
    if (skipped->count(static_cast<int>(i)) == 0) columns.push_back(static_cast<int>(i));
  }
  if (columns.empty()) return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": no columns to load"));
  return columns;
}

std::string NewColumnName(const SourceColumns& source, int i) {
  return source.named ? source.names[i] : absl::StrCat("column_", i + 1);
}

absl::Status SetType(const Json& columns, const ReadOptions& options, Records* out) {
  auto type = ParseTypeDefinition(engine::DumpJson(columns), {}, "");
  if (!type.ok()) {
    absl::string_view message = type.status().message();
    absl::ConsumePrefix(&message, "type_definition: ");
    return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": the table's type from the data: ", message));
  }
  out->type = *std::move(type);
  out->has_type = true;
  out->columns = MakeHostColumns(out->type);
  out->rows = 0;
  return absl::OkStatus();
}

}  // namespace detail
}  // namespace engine::io
