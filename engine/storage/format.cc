#include "engine/storage/format.h"

#include <xxhash.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/table/record_codec.h"

namespace engine::storage {
namespace {

// The checksum of a record: XXH3-64 of its kind and body, seeded with the
// body's length.
template <typename Parts>
uint64_t FrameChecksum(uint32_t length, uint32_t kind, const Parts& parts) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset_withSeed(state, length);
  char k[4];
  PutU32(kind, k);
  XXH3_64bits_update(state, k, 4);
  for (absl::string_view p : parts) XXH3_64bits_update(state, p.data(), p.size());
  const uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

absl::string_view Bytes(const void* p, size_t n) { return absl::string_view(static_cast<const char*>(p), n); }

}  // namespace

std::string FileHeader(absl::string_view magic) {
  std::string h(kFileHeaderBytes, '\0');
  std::memcpy(h.data(), magic.data(), std::min<size_t>(magic.size(), 8));
  PutU32(kFormatVersion, h.data() + 8);
  return h;
}

absl::Status CheckFileHeader(absl::string_view bytes, absl::string_view magic, absl::string_view path) {
  if (bytes.size() < kFileHeaderBytes || bytes.substr(0, magic.size()) != magic) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a ", magic, " file (its header is missing or wrong)"));
  }
  const uint32_t version = GetU32(bytes.data() + 8);
  if (version > kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": format version ", version,
                                                      " was written by a newer server; this server reads versions up to ",
                                                      kFormatVersion, " (upgrade the server)"));
  }
  if (version == 0) return absl::FailedPreconditionError(absl::StrCat(path, ": format version 0 is not valid"));
  return absl::OkStatus();
}

void Pieces::AddCopy(std::string bytes) {
  copies_.push_back(std::move(bytes));
  parts_.push_back(copies_.back());
}

size_t Pieces::bytes() const {
  size_t n = 0;
  for (absl::string_view p : parts_) n += p.size();
  return n;
}

Pieces Body(Json meta, Pieces data) {
  Json blobs = Json::array();
  for (absl::string_view p : data.parts()) blobs.push_back(p.size());
  meta["blobs"] = std::move(blobs);
  const std::vector<uint8_t> cbor = Json::to_cbor(meta);
  std::string head(4 + cbor.size(), '\0');
  PutU32(static_cast<uint32_t>(cbor.size()), head.data());
  std::memcpy(head.data() + 4, cbor.data(), cbor.size());
  Pieces out;
  out.AddCopy(std::move(head));
  for (absl::string_view p : data.parts()) out.Add(p);
  // The views stay valid: moving the pieces moves their copies' storage.
  out.Keep(std::make_shared<Pieces>(std::move(data)));
  return out;
}

absl::StatusOr<ParsedBody> ParseBody(absl::string_view body) {
  if (body.size() < 4) return absl::DataLossError("record body shorter than its header");
  const uint32_t meta_bytes = GetU32(body.data());
  if (meta_bytes > body.size() - 4) return absl::DataLossError("record description runs past the record");
  ParsedBody out;
  out.meta = Json::from_cbor(body.substr(4, meta_bytes), /*strict=*/true, /*allow_exceptions=*/false);
  if (out.meta.is_discarded() || !out.meta.is_object() || !out.meta.contains("blobs") ||
      !out.meta["blobs"].is_array()) {
    return absl::DataLossError("record description is not valid");
  }
  size_t at = 4 + meta_bytes;
  for (const Json& n : out.meta["blobs"]) {
    if (!n.is_number_unsigned() || n.get<uint64_t>() > body.size() - at) {
      return absl::DataLossError("record blob runs past the record");
    }
    out.blobs.push_back(body.substr(at, n.get<uint64_t>()));
    at += n.get<uint64_t>();
  }
  if (at != body.size()) return absl::DataLossError("record has bytes after its blobs");
  return out;
}

std::string FrameHeader(uint32_t kind, const Pieces& body) {
  const uint32_t length = static_cast<uint32_t>(body.bytes());
  std::string h(kFrameHeaderBytes, '\0');
  PutU32(length, h.data());
  PutU32(kind, h.data() + 4);
  PutU64(FrameChecksum(length, kind, body.parts()), h.data() + 8);
  return h;
}

absl::StatusOr<Frame> NextFrame(absl::string_view* bytes) {
  if (bytes->size() < kFrameHeaderBytes) return absl::DataLossError("torn record header");
  const uint32_t length = GetU32(bytes->data());
  const uint32_t kind = GetU32(bytes->data() + 4);
  const uint64_t sum = GetU64(bytes->data() + 8);
  if (length > bytes->size() - kFrameHeaderBytes) return absl::DataLossError("torn record (shorter than its header says)");
  const absl::string_view body = bytes->substr(kFrameHeaderBytes, length);
  if (FrameChecksum(length, kind, std::vector<absl::string_view>{body}) != sum) {
    return absl::DataLossError("damaged record (checksum mismatch)");
  }
  bytes->remove_prefix(kFrameHeaderBytes + length);
  return Frame{kind, body};
}

uint64_t Checksum(absl::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

Json AddRows(const TableType& type, const std::vector<kernels::ColumnView>& views, const kernels::Exec& exec,
             Pieces* out) {
  Json columns = Json::array();
  for (size_t c = 0; c < views.size(); ++c) {
    kernels::ColumnView v = views[c];
    const bool nullable = type.column(c).nullable;
    if (exec.backend != kernels::Backend::kHost) {
      auto host = std::make_shared<HostColumn>(ToHost(v, nullable, 0, v.size, exec));
      v = host->view();
      out->Keep(host);
    }
    const bool var = v.type == kernels::PhysType::kVarChars;
    const bool validity = nullable && v.validity != nullptr;
    columns.push_back(Json{{"rows", v.size}, {"validity", validity}});
    if (var) {
      const int64_t first = v.size > 0 ? v.offsets[0] : 0;
      const int64_t last = v.size > 0 ? v.offsets[v.size] : 0;
      out->Add(Bytes(static_cast<const char*>(v.data) + first, last - first));
      if (v.size == 0) {
        out->AddCopy(std::string(sizeof(int64_t), '\0'));  // an empty column may have no offsets
      } else if (first == 0) {
        out->Add(Bytes(v.offsets, (v.size + 1) * sizeof(int64_t)));
      } else {
        std::string rebased((v.size + 1) * sizeof(int64_t), '\0');
        auto* o = reinterpret_cast<int64_t*>(rebased.data());
        for (int64_t i = 0; i <= v.size; ++i) o[i] = v.offsets[i] - first;
        out->AddCopy(std::move(rebased));
      }
    } else {
      out->Add(Bytes(v.data, v.size * kernels::ValueWidth(v.type, v.width)));
    }
    if (validity) out->Add(Bytes(v.validity, v.size));
  }
  return columns;
}

absl::Status AppendRows(const Json& columns, const std::vector<absl::string_view>& blobs, size_t* next,
                        std::vector<HostColumn>* out) {
  if (!columns.is_array() || columns.size() != out->size()) {
    return absl::InvalidArgumentError("rows do not have one entry per column of the table");
  }
  auto take = [&](size_t bytes, const char* what) -> absl::StatusOr<absl::string_view> {
    if (*next >= blobs.size() || blobs[*next].size() != bytes) {
      return absl::InvalidArgumentError(absl::StrCat("rows: the ", what, " blob is missing or of the wrong size"));
    }
    return blobs[(*next)++];
  };
  for (size_t c = 0; c < out->size(); ++c) {
    HostColumn& col = (*out)[c];
    const Json& entry = columns[c];
    if (!entry.is_object() || !entry.contains("rows") || !entry["rows"].is_number_integer() ||
        entry["rows"].get<int64_t>() < 0) {
      return absl::InvalidArgumentError("rows: a column's entry has no row count");
    }
    const int64_t n = entry["rows"].get<int64_t>();
    const bool validity = entry.value("validity", false);
    if (col.type == kernels::PhysType::kVarChars) {
      if (*next >= blobs.size()) return absl::InvalidArgumentError("rows: the characters blob is missing");
      const absl::string_view chars = blobs[(*next)++];
      auto offsets = take((n + 1) * sizeof(int64_t), "offsets");
      if (!offsets.ok()) return offsets.status();
      // The blob's bytes need not be aligned for int64_t: read by copies.
      const char* raw = reinterpret_cast<const char*>(offsets->data());
      const auto o = [raw](int64_t i) {
        int64_t v;
        std::memcpy(&v, raw + i * static_cast<int64_t>(sizeof(int64_t)), sizeof(v));
        return v;
      };
      if (o(0) != 0 || o(n) != static_cast<int64_t>(chars.size())) {
        return absl::InvalidArgumentError("rows: string offsets do not match the characters");
      }
      const int64_t base = static_cast<int64_t>(col.data.size());
      col.data.insert(col.data.end(), chars.begin(), chars.end());
      const size_t at = col.offsets.size();
      col.offsets.resize(at + n);
      for (int64_t i = 1, previous = 0; i <= n; ++i) {
        const int64_t next = o(i);
        if (next < previous) return absl::InvalidArgumentError("rows: string offsets decrease");
        col.offsets[at + i - 1] = base + next;
        previous = next;
      }
    } else {
      auto values = take(n * kernels::ValueWidth(col.type, col.width), "values");
      if (!values.ok()) return values.status();
      col.data.insert(col.data.end(), values->begin(), values->end());
    }
    if (validity) {
      auto valid = take(n, "validity");
      if (!valid.ok()) return valid.status();
      if (col.nullable) col.validity.insert(col.validity.end(), valid->begin(), valid->end());
    } else if (col.nullable) {
      col.validity.insert(col.validity.end(), n, 1);
    }
    col.size += n;
  }
  return absl::OkStatus();
}

Json TypeToJson(const TableType& type) {
  Json properties = Json::object();
  for (const auto& [column, list] : type.PropertyMap()) properties[column] = list;
  return Json{{"definition", type.RecordSchema()}, {"properties", properties}, {"label", type.label()}};
}

absl::StatusOr<TableType> TypeFromJson(const Json& json) {
  if (!json.is_object() || !json.contains("definition") || !json["definition"].is_string()) {
    return absl::InvalidArgumentError("a type without its definition");
  }
  std::map<std::string, std::vector<std::string>> properties;
  if (json.contains("properties") && json["properties"].is_object()) {
    for (auto it = json["properties"].begin(); it != json["properties"].end(); ++it) {
      properties[it.key()] = it.value().get<std::vector<std::string>>();
    }
  }
  return ParseTypeDefinition(json["definition"].get<std::string>(), properties, json.value("label", ""));
}

}  // namespace engine::storage
