#include "engine/table/names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace engine {
namespace {

constexpr absl::string_view kSchemaAccessPrefix = "~";

bool NameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Length and characters; `dot` allows '.'.
absl::Status CheckCharacters(absl::string_view name, absl::string_view field, bool dot) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": the name is empty"));
  if (name.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": the name is longer than 256 characters"));
  }
  for (char c : name) {
    if (!NameCharacter(c) && !(dot && c == '.')) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", name,
                                                     "' has characters other than letters, digits, ",
                                                     dot ? "'_', '-' and '.'" : "'_' and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTableName(absl::string_view name, absl::string_view field) {
  if (absl::Status s = CheckCharacters(name, field, /*dot=*/true); !s.ok()) return s;
  const size_t dot = name.find('.');
  if (dot == absl::string_view::npos) return absl::OkStatus();
  if (name.find('.', dot + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", name, "' has more than one '.'; name a table as schema.table"));
  }
  if (dot == 0 || dot + 1 == name.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", name, "' lacks the ", dot == 0 ? "schema" : "table", " name around its '.'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSchemaName(absl::string_view name, absl::string_view field) {
  return CheckCharacters(name, field, /*dot=*/false);
}

TableName SplitTableName(absl::string_view name) {
  const size_t dot = name.find('.');
  if (dot == absl::string_view::npos) return TableName{std::string(kDefaultSchema), std::string(name)};
  return TableName{std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

std::string QualifiedTableName(absl::string_view name) {
  const TableName split = SplitTableName(name);
  return absl::StrCat(split.schema, ".", split.table);
}

std::string DisplayTableName(absl::string_view name) {
  TableName split = SplitTableName(name);
  if (split.schema == kDefaultSchema) return std::move(split.table);
  return absl::StrCat(split.schema, ".", split.table);
}

std::string SchemaAccessName(absl::string_view schema) { return absl::StrCat(kSchemaAccessPrefix, schema); }

std::vector<Access> SchedulerAccesses(const std::vector<Access>& accesses) {
  std::vector<Access> out;
  for (const Access& a : accesses) {
    if (absl::StartsWith(a.name, kSchemaAccessPrefix)) {
      out.push_back(a);
      continue;
    }
    const TableName name = SplitTableName(a.name);
    out.push_back(Access{absl::StrCat(name.schema, ".", name.table), a.write});
    if (name.schema != kDefaultSchema) out.push_back(Access{SchemaAccessName(name.schema), false});
  }
  return out;
}

}  // namespace engine
