#include "engine/table/result_table.h"

#include "engine/table/dates.h"

#include "absl/strings/str_cat.h"
#include "engine/api/avro.h"
#include "engine/table/host_column.h"
#include "engine/table/record_codec.h"
#include "kernels/gather.h"

namespace engine {

TableType ResultTable::type() const {
  std::vector<ColumnDef> defs;
  for (const ResultColumn& c : columns_) defs.push_back(c.def);
  return TableType(std::move(defs), "");
}

std::vector<kernels::ColumnView> ResultTable::views() const {
  std::vector<kernels::ColumnView> out;
  for (const ResultColumn& c : columns_) out.push_back(c.values.view());
  return out;
}

void ResultTable::Keep(const int64_t* indices, int64_t n, const kernels::Exec& exec) {
  for (ResultColumn& c : columns_) {
    c.values = kernels::Gather(c.values.view(), indices, n, c.def.nullable, exec);
  }
}

namespace {

void EncodeAvroValue(const ColumnDef& def, const HostColumn& column, int64_t row, AvroWriter* w) {
  if (def.nullable) {
    const bool valid = column.IsValid(row);
    w->UnionIndex(valid ? 0 : 1);
    if (!valid) return;
  }
  switch (def.kind) {
    case ColumnKind::kInt:
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kBoolean: w->Int(static_cast<int32_t>(column.IntAt(row))); break;
    case ColumnKind::kLong:
    case ColumnKind::kTimestamp: w->Long(column.IntAt(row)); break;
    case ColumnKind::kFloat: w->Float(static_cast<float>(column.FloatAt(row))); break;
    case ColumnKind::kDouble: w->Double(column.FloatAt(row)); break;
    case ColumnKind::kString:
    case ColumnKind::kBytes:
    case ColumnKind::kCharN: w->Bytes(column.StringAt(row)); break;
    case ColumnKind::kDate:
      w->Bytes(FormatDate(column.IntAt(row)));
      break;
  }
}

void EncodeAvroStrings(const std::vector<std::string>& values, AvroWriter* w) {
  if (!values.empty()) {
    w->Long(static_cast<int64_t>(values.size()));
    for (const std::string& v : values) w->String(v);
  }
  w->Long(0);
}

}  // namespace

Json ResultTable::Encode(int64_t begin, int64_t end, absl::string_view encoding, const kernels::Exec& exec) const {
  std::vector<HostColumn> host;
  std::vector<std::string> headers, datatypes;
  Json fields = Json::array();
  for (size_t k = 0; k < columns_.size(); ++k) {
    const ResultColumn& c = columns_[k];
    host.push_back(ToHost(c.values.view(), c.def.nullable, begin, end, exec));
    headers.push_back(c.header);
    datatypes.push_back(c.def.type_name());
    const Json items = c.def.nullable ? Json::array({c.def.avro_type(), "null"}) : Json(c.def.avro_type());
    fields.push_back(Json{{"name", absl::StrCat("column_", k + 1)}, {"type", Json{{"type", "array"}, {"items", items}}}});
  }
  const Json strings = Json{{"type", "array"}, {"items", "string"}};
  fields.push_back(Json{{"name", "column_headers"}, {"type", strings}});
  fields.push_back(Json{{"name", "column_datatypes"}, {"type", strings}});
  const Json schema = Json{{"type", "record"}, {"name", "generic_response"}, {"fields", fields}};

  const int64_t n = end - begin;
  Json out = Json{{"response_schema_str", schema.dump()},
                  {"binary_encoded_response", Json::binary({})},
                  {"json_encoded_response", ""}};
  if (encoding == "json") {
    Json record = Json::object();
    for (size_t k = 0; k < columns_.size(); ++k) {
      Json values = Json::array();
      for (int64_t r = 0; r < n; ++r) values.push_back(ValueToJson(columns_[k].def, host[k], r));
      record[absl::StrCat("column_", k + 1)] = std::move(values);
    }
    record["column_headers"] = headers;
    record["column_datatypes"] = datatypes;
    out["json_encoded_response"] = DumpJson(record);
  } else {
    std::string bytes;
    AvroWriter w(&bytes);
    for (size_t k = 0; k < columns_.size(); ++k) {
      if (n > 0) {
        w.Long(n);
        for (int64_t r = 0; r < n; ++r) EncodeAvroValue(columns_[k].def, host[k], r, &w);
      }
      w.Long(0);
    }
    EncodeAvroStrings(headers, &w);
    EncodeAvroStrings(datatypes, &w);
    out["binary_encoded_response"] = Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  return out;
}

ColumnDef ResultDef(const ColumnDef& source, std::string name, bool nullable) {
  ColumnDef def = source;
  def.name = std::move(name);
  def.nullable = nullable;
  def.properties.clear();
  return def;
}

ColumnDef ValueDef(kernels::ValueKind kind, std::string name, bool nullable) {
  ColumnDef def;
  def.name = std::move(name);
  def.kind = kind == kernels::ValueKind::kInt     ? ColumnKind::kLong
             : kind == kernels::ValueKind::kFloat ? ColumnKind::kDouble
                                                  : ColumnKind::kString;
  def.nullable = nullable;
  return def;
}

}  // namespace engine
