// JSON, read by nlohmann/json (the engine's JSON library): an array of
// objects, one object, or one object per line. Arrow's JSON reader takes
// only the last form and names a bad record by neither line nor number, so
// it is not used here. Keys name the columns (a key that differs only in case
// matches too); keys of no column are ignored; a missing key is null.

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/io/cells.h"
#include "engine/io/formats.h"

namespace engine::io::detail {
namespace {

constexpr int64_t kPermille = 1000;

// Calls fn(record, where, number, text) for each record of `text`; records
// that are not JSON objects go to `bad` (where, number, text, error).
using RecordFn = std::function<absl::Status(const Json&, const char*, int64_t, absl::string_view)>;
using BadFn = std::function<absl::Status(const char*, int64_t, absl::string_view, std::string)>;

absl::Status ForEachRecord(absl::string_view text, const ReadOptions& options, const Progress& progress,
                           const RecordFn& fn, const BadFn& bad) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return absl::OkStatus();
  if (trimmed[0] == '[' || trimmed[0] == '{') {
    absl::StatusOr<Json> parsed = ParseJson(trimmed);
    Json all;
    bool whole = true;
    if (parsed.ok()) {
      all = *std::move(parsed);
    } else {
      if (trimmed[0] == '[') {
        return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": ", parsed.status().message()));
      }
      whole = false;  // not one object: one per line
    }
    if (whole && all.is_object()) return fn(all, "record", 1, trimmed);
    if (whole) {
      const int64_t n = static_cast<int64_t>(all.size());
      for (int64_t i = 0; i < n; ++i) {
        const Json& record = all[i];
        if (!record.is_object()) {
          if (absl::Status s = bad("record", i + 1, engine::DumpJson(record), "not a JSON object"); !s.ok()) return s;
          continue;
        }
        if (absl::Status s = fn(record, "record", i + 1, {}); !s.ok()) return s;
        if ((i + 1) % std::max<int64_t>(options.batch_size, 1) == 0) {
          if (absl::Status s = progress((i + 1) * kPermille / n, kPermille); !s.ok()) return s;
        }
      }
      return absl::OkStatus();
    }
  }
  int64_t line = 0;
  int64_t since_report = 0;
  absl::string_view rest = text;
  while (!rest.empty()) {
    ++line;
    const size_t nl = rest.find('\n');
    absl::string_view row = rest.substr(0, nl);
    rest = nl == absl::string_view::npos ? absl::string_view() : rest.substr(nl + 1);
    row = absl::StripAsciiWhitespace(row);
    if (row.empty()) continue;
    Json record;
    std::string error;
    if (absl::StatusOr<Json> parsed = ParseJson(row); !parsed.ok()) {
      error = std::string(parsed.status().message());
    } else if (!parsed->is_object()) {
      error = "not a JSON object";
    } else {
      record = *std::move(parsed);
    }
    if (!error.empty()) {
      if (absl::Status s = bad("line", line, row, error); !s.ok()) return s;
      continue;
    }
    if (absl::Status s = fn(record, "line", line, row); !s.ok()) return s;
    if (++since_report >= options.batch_size) {
      since_report = 0;
      const int64_t done = static_cast<int64_t>(text.size() - rest.size());
      if (absl::Status s = progress(done * kPermille / static_cast<int64_t>(text.size()), kPermille); !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

// What the values of one key were, for the type of a new table.
struct Seen {
  bool ints = false, reals = false, bools = false, texts = false, others = false, nulls = false;
  int64_t min = 0, max = 0;
  size_t longest = 0;
};

Json InferredEntry(const std::string& name, const Seen& s, int64_t records, int64_t present) {
  std::string kind = "string";
  const bool numbers = (s.ints || s.reals) && !s.texts && !s.bools && !s.others;
  if (numbers && s.reals) {
    kind = "double";
  } else if (numbers) {
    kind = s.min >= INT32_MIN && s.max <= INT32_MAX ? "int" : "long";
  } else if (s.bools && !s.ints && !s.reals && !s.texts && !s.others) {
    kind = "boolean";
  } else if (s.texts && !s.ints && !s.reals && !s.bools && !s.others && s.longest <= 256) {
    int width = 1;
    while (static_cast<size_t>(width) < s.longest) width <<= 1;
    kind = absl::StrCat("char", width);
  }
  Json entry = Json::array({name, kind});
  if (s.nulls || present < records) entry.push_back("nullable");
  return entry;
}

// The member of `record` named `key`, else one whose name differs only in
// case; null when there is none.
const Json* Member(const Json& record, const std::string& key) {
  auto it = record.find(key);
  if (it != record.end()) return &*it;
  for (auto m = record.begin(); m != record.end(); ++m) {
    if (absl::EqualsIgnoreCase(m.key(), key)) return &m.value();
  }
  return nullptr;
}

// The cell of `value` for `def`; `holder` keeps text the cell points into.
absl::StatusOr<Cell> ValueCell(const ColumnDef& def, const Json& value, bool truncate, std::string* holder) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return NullCell(def);
    case Json::value_t::string:
      return ParseCell(def, value.get_ref<const std::string&>(), truncate);
    case Json::value_t::boolean:
      if (!def.is_string()) return IntCell(def, value.get<bool>() ? 1 : 0);
      break;
    case Json::value_t::number_integer:
      if (!def.is_string()) return IntCell(def, value.get<int64_t>());
      break;
    case Json::value_t::number_unsigned:
      if (value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return absl::InvalidArgumentError(
            absl::StrCat(engine::DumpJson(value), " is out of range for ", def.type_name()));
      }
      if (!def.is_string()) return IntCell(def, value.get<int64_t>());
      break;
    case Json::value_t::number_float:
      if (!def.is_string()) return RealCell(def, value.get<double>());
      break;
    default:
      if (!def.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(value.is_array() ? "an array" : "an object", " is not a valid ", def.type_name()));
      }
  }
  *holder = engine::DumpJson(value);  // a number, boolean, array or object as its JSON text
  return ParseCell(def, *holder, truncate);
}

std::string Cut(absl::string_view text) { return std::string(text.substr(0, 4096)); }

}  // namespace

absl::Status ReadJson(const Input& input, const ReadOptions& options, const Progress& progress, Records* out) {
  absl::string_view text = input.bytes;
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  Rejects rejects(options, out);
  for (const std::string& entry : options.columns_to_load) {
    int n;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(entry), &n) || absl::StrContains(entry, "..")) {
      return absl::InvalidArgumentError(
          absl::StrCat("options.columns_to_load: '", entry, "': JSON columns are named, not numbered"));
    }
  }
  if (!options.columns_to_load.empty() && !options.columns_to_skip.empty()) {
    return absl::InvalidArgumentError("options.columns_to_skip: give columns_to_load or columns_to_skip, not both");
  }
  auto skipped = [&](const std::string& key) {
    for (const std::string& s : options.columns_to_skip) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(s), key)) return true;
    }
    return false;
  };

  if (!out->has_type) {
    // A first pass for the type: the keys in the order they first appear.
    std::vector<std::string> keys;
    std::map<std::string, Seen> seen;
    std::map<std::string, int64_t> present;
    int64_t records = 0;
    auto note = [&](const Json& record, const char*, int64_t, absl::string_view) {
      ++records;
      for (auto m = record.begin(); m != record.end(); ++m) {
        if (seen.emplace(m.key(), Seen{}).second) keys.push_back(m.key());
        Seen& s = seen[m.key()];
        ++present[m.key()];
        const Json& v = m.value();
        if (v.is_null())
          s.nulls = true;
        else if (v.is_boolean())
          s.bools = true;
        else if (v.is_number_integer()) {
          const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX ? INT64_MAX : v.get<int64_t>();
          s.min = s.ints ? std::min(s.min, x) : x;
          s.max = s.ints ? std::max(s.max, x) : x;
          s.ints = true;
        } else if (v.is_number_float())
          s.reals = true;
        else if (v.is_string()) {
          s.texts = true;
          s.longest = std::max(s.longest, v.get_ref<const std::string&>().size());
        } else
          s.others = true;
      }
      return absl::OkStatus();
    };
    auto ignore = [](const char*, int64_t, absl::string_view, std::string) { return absl::OkStatus(); };
    auto no_progress = [](int64_t, int64_t) { return absl::OkStatus(); };
    if (absl::Status s = ForEachRecord(text, options, no_progress, note, ignore); !s.ok()) return s;
    if (records == 0) return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": no records"));
    std::vector<std::string> order;
    for (const std::string& entry : options.columns_to_load) {
      const std::string key(absl::StripAsciiWhitespace(entry));
      if (seen.count(key) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("options.columns_to_load: '", key, "' is not a key of the records"));
      }
      order.push_back(key);
    }
    if (order.empty()) {
      for (const std::string& key : keys) {
        if (!skipped(key)) order.push_back(key);
      }
    }
    Json compact = Json::array();
    for (const std::string& key : order) compact.push_back(InferredEntry(key, seen[key], records, present[key]));
    if (absl::Status s = SetType(compact, options, out); !s.ok()) return s;
  }

  // The key of each column.
  const TableType& type = out->type;
  std::vector<std::string> keys;
  for (size_t c = 0; c < type.size(); ++c) {
    if (!options.columns_to_load.empty()) {
      if (options.columns_to_load.size() != type.size()) {
        return absl::InvalidArgumentError(absl::StrCat("options.columns_to_load: ", options.columns_to_load.size(),
                                                       " columns given for a table of ", type.size(), " columns"));
      }
      keys.emplace_back(absl::StripAsciiWhitespace(options.columns_to_load[c]));
    } else {
      keys.push_back(skipped(type.column(c).name) ? "" : type.column(c).name);
    }
  }
  const int64_t base = out->rows;
  std::vector<Cell> cells(type.size());
  std::vector<std::string> holders(type.size());
  auto load = [&](const Json& record, const char* where, int64_t number, absl::string_view raw) -> absl::Status {
    if (options.max_records >= 0 && out->rows - base >= options.max_records) return absl::OkStatus();
    for (size_t c = 0; c < type.size(); ++c) {
      const ColumnDef& def = type.column(c);
      const Json* value = keys[c].empty() ? nullptr : Member(record, keys[c]);
      static const Json kNull;
      auto cell = ValueCell(def, value != nullptr ? *value : kNull, options.truncate_strings, &holders[c]);
      if (!cell.ok()) {
        const std::string error = value == nullptr && !def.nullable
                                      ? absl::StrCat("column '", def.name, "' is missing")
                                      : absl::StrCat("column '", def.name, "': ", cell.status().message());
        return rejects.Reject(where, number, raw.empty() ? Cut(engine::DumpJson(record)) : Cut(raw), error);
      }
      cells[c] = *cell;
    }
    for (size_t c = 0; c < type.size(); ++c) AppendCell(type.column(c), cells[c], &out->columns[c]);
    ++out->rows;
    return absl::OkStatus();
  };
  auto bad = [&](const char* where, int64_t number, absl::string_view raw, std::string error) {
    return rejects.Reject(where, number, Cut(raw), std::move(error));
  };
  return ForEachRecord(text, options, progress, load, bad);
}

}  // namespace engine::io::detail
