#pragma once

// Column types and table types (spec §3): what /create/type accepts, how each
// column is stored on a device, and how a type is written back as an Avro
// record schema.

#include <cstdint>
#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/column.h"

namespace engine {

enum class ColumnKind : uint8_t {
  kInt,   // int32
  kLong,  // int64
  kFloat,
  kDouble,
  kString,  // variable length (also time, datetime, decimal, ulong, uuid, ipv4)
  kBytes,   // variable length
  kInt8,
  kInt16,
  kBoolean,    // stored as int8 0/1, Avro int
  kTimestamp,  // int64 ms since epoch, Avro long
  kCharN,      // fixed maximum length `char_width` (1..256, power of two)
  kDate,       // a string 'YYYY-MM-DD' (property date), stored as int32 days since 1970-01-01 (dates.h)
};

struct ColumnDef {
  std::string name;
  ColumnKind kind = ColumnKind::kInt;
  int32_t char_width = 0;  // kCharN only
  bool nullable = false;
  // Properties as declared (e.g. "char16", "nullable", "primary_key"), in order.
  std::vector<std::string> properties;

  kernels::PhysType phys() const;
  // Avro base type of the column's values: int, long, float, double, string, bytes.
  const char* avro_type() const;
  // The column's type as reported in column_datatypes: int, long, float,
  // double, string, bytes, int8, int16, boolean, timestamp, charN.
  std::string type_name() const;
  bool is_integer() const;  // int, long, int8, int16, boolean, timestamp
  bool is_real() const;     // float, double
  bool is_string() const;   // string, bytes, charN
};

class TableType {
 public:
  TableType() = default;
  TableType(std::vector<ColumnDef> columns, std::string label)
      : columns_(std::move(columns)), label_(std::move(label)) {}

  const std::vector<ColumnDef>& columns() const { return columns_; }
  const ColumnDef& column(size_t i) const { return columns_[i]; }
  size_t size() const { return columns_.size(); }
  const std::string& label() const { return label_; }

  // Index of the column named `name`, or -1.
  int Find(absl::string_view name) const;

  // Avro record schema (JSON text) of one record of this type, named
  // `record_name`; nullable columns are unions [type, "null"].
  std::string AvroSchema(absl::string_view record_name) const;
  // The Avro schema named by the label ("type" without one): the type_schema
  // that /create/type, /show/types, /show/table and /get/records report.
  std::string RecordSchema() const;
  // The properties map of /create/type's response: column → properties.
  std::map<std::string, std::vector<std::string>> PropertyMap() const;
  // The same definition always yields the same id (a decimal string).
  std::string TypeId() const;

 private:
  std::vector<ColumnDef> columns_;
  std::string label_;
};

// Parses a type definition: an Avro record schema in JSON, or the compact
// column list ([["id","int","primary_key"], ...]). Column names are 1..200
// letters, digits and '_', not starting with a digit. `properties` adds column
// properties (column → list), as /create/type's `properties` field does.
// Errors are InvalidArgument naming the column and the problem.
absl::StatusOr<TableType> ParseTypeDefinition(
    absl::string_view definition, const std::map<std::string, std::vector<std::string>>& properties,
    std::string label);

}  // namespace engine
