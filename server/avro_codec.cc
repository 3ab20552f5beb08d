#include "server/avro_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/api/avro.h"
#include "engine/api/field_path.h"

namespace server {
namespace {

using engine::Json;
using engine::PathScope;
using engine::TypeSchema;
using Kind = TypeSchema::Kind;

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at
// most U+10FFFF): JSON text, and so the engine's records, can hold only that.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(n) >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

class Decoder {
 public:
  // `packed`: array<bytes> values as packed byte lists. `owner`, when given,
  // holds `bytes` and may be taken by the record's largest bytes field (Take).
  // `max_bytes`: the most host memory the decoded value may take
  // (engine/api/json.h's count).
  Decoder(absl::string_view bytes, bool packed, size_t max_bytes, std::vector<uint8_t>* owner = nullptr)
      : bytes_(bytes), reader_(bytes), packed_(packed), owner_(owner), left_(max_bytes), max_bytes_(max_bytes) {}

  absl::StatusOr<Json> Record(const TypeSchema& record) {
    Json out;
    if (absl::Status s = Charge(engine::kValueBytes); !s.ok()) return s;
    if (absl::Status s = Value(record, &out); !s.ok()) return s;
    if (!reader_.at_end()) {
      return absl::InvalidArgumentError(absl::StrCat(reader_.remaining(), " bytes left after the end of the ",
                                                     record.name, " record (at byte ", reader_.position(), ")"));
    }
    if (!large_.empty()) Take(&out);
    return out;
  }

 private:
  // A bytes field of the record of kTakeBytes or more, left empty until the
  // whole record is read (the owner's buffer is read until then).
  struct Large {
    std::string field;
    size_t at, size;  // in bytes_
  };
  static constexpr size_t kTakeBytes = size_t{1} << 20;

  // Fills the large fields: the largest takes the owner's buffer, its bytes
  // moved to the front (within memory already written, rather than into new
  // memory), after the others are copied out of it.
  void Take(Json* record) {
    auto largest = std::max_element(large_.begin(), large_.end(),
                                    [](const Large& a, const Large& b) { return a.size < b.size; });
    for (auto it = large_.begin(); it != large_.end(); ++it) {
      if (it == largest) continue;
      const uint8_t* p = owner_->data() + it->at;
      (*record)[it->field] = Json::binary(Json::binary_t::container_type(p, p + it->size));
    }
    std::vector<uint8_t> taken = std::move(*owner_);
    std::memmove(taken.data(), taken.data() + largest->at, largest->size);
    taken.resize(largest->size);
    (*record)[largest->field] = Json::binary(std::move(taken));
  }

  // Counts the nesting of records, arrays and maps: 1 in the fields of the
  // record decoded.
  class Nested {
   public:
    explicit Nested(int* depth) : depth_(depth) { ++*depth_; }
    ~Nested() { --*depth_; }

   private:
    int* depth_;
  };

  absl::Status Fail(absl::string_view problem) const {
    std::string where = path_;
    if (item_ != kNoItem) absl::StrAppend(&where, "[", item_, "]");
    if (where.empty()) return absl::InvalidArgumentError(problem);
    return absl::InvalidArgumentError(absl::StrCat("field '", where, "': ", problem));
  }
  absl::Status Check(const absl::Status& s) const { return s.ok() ? s : Fail(s.message()); }

  // Counts `bytes` more of the decoded value against the budget, before they
  // are allocated: 10^8 empty list items in a 100 MB body took 14 GB.
  absl::Status Charge(size_t bytes) {
    if (bytes <= left_) {
      left_ -= bytes;
      return absl::OkStatus();
    }
    return Fail(absl::StrCat("the request decodes to more than ", max_bytes_,
                             " bytes of memory (the limit is 4 times the largest message)"));
  }

  absl::Status Text(bool utf8, Json* out) {
    absl::string_view v;
    if (absl::Status s = reader_.Bytes(&v); !s.ok()) return Fail(s.message());
    if (absl::Status s = Charge(engine::StringBytes(v.size()) - engine::kValueBytes); !s.ok()) return s;
    if (utf8) {
      if (!IsUtf8(v)) return Fail("string is not valid UTF-8");
      *out = std::string(v);
    } else if (owner_ != nullptr && depth_ == 1 && v.size() >= kTakeBytes) {
      large_.push_back(Large{path_, static_cast<size_t>(v.data() - bytes_.data()), v.size()});
      *out = Json::binary({});
    } else {
      *out = Json::binary(Json::binary_t::container_type(v.begin(), v.end()));
    }
    return absl::OkStatus();
  }

  // The item count of the next block (0 ends the list). A negative count is
  // followed by the block's size in bytes, which is checked and skipped.
  absl::Status BlockCount(int64_t* count) {
    const size_t at = reader_.position();
    if (absl::Status s = reader_.Long(count); !s.ok()) return Fail(s.message());
    if (*count < 0) {
      if (*count == std::numeric_limits<int64_t>::min()) {
        return Fail(absl::StrCat("block count ", *count, " at byte ", at, " is out of range"));
      }
      *count = -*count;
      int64_t size = 0;
      if (absl::Status s = reader_.Long(&size); !s.ok()) return Fail(s.message());
      if (size < 0 || static_cast<uint64_t>(size) > reader_.remaining()) {
        return Fail(absl::StrCat("block size ", size, " at byte ", at, " exceeds the ", reader_.remaining(),
                                 " bytes left"));
      }
    }
    // Every item takes at least one byte.
    if (static_cast<uint64_t>(*count) > reader_.remaining()) {
      return Fail(absl::StrCat("block of ", *count, " items at byte ", at, " exceeds the ", reader_.remaining(),
                               " bytes left"));
    }
    return absl::OkStatus();
  }

  // A number (or boolean) read as T and stored as Out.
  template <typename T, typename Out>
  absl::Status Number(absl::Status (engine::AvroReader::*read)(T*), Json* out) {
    T v{};
    if (absl::Status s = (reader_.*read)(&v); !s.ok()) return Fail(s.message());
    *out = static_cast<Out>(v);
    return absl::OkStatus();
  }

  absl::Status Value(const TypeSchema& type, Json* out) {
    switch (type.kind) {
      case Kind::kString:
        return Text(/*utf8=*/true, out);
      case Kind::kBytes:
        return Text(/*utf8=*/false, out);
      case Kind::kInt:
        return Number<int32_t, int64_t>(&engine::AvroReader::Int, out);
      case Kind::kLong:
        return Number<int64_t, int64_t>(&engine::AvroReader::Long, out);
      case Kind::kFloat:
        return Number<float, double>(&engine::AvroReader::Float, out);
      case Kind::kDouble:
        return Number<double, double>(&engine::AvroReader::Double, out);
      case Kind::kBoolean:
        return Number<bool, bool>(&engine::AvroReader::Boolean, out);
      case Kind::kArray: {
        Nested nested(&depth_);
        if (packed_ && type.item->kind == Kind::kBytes) return PackedBytes(out);
        if (absl::Status s = Charge(engine::kContainerBytes); !s.ok()) return s;
        *out = Json::array();
        auto& items = out->get_ref<Json::array_t&>();
        // Items of a scalar kind name their index in an error through item_,
        // which costs nothing until then; others through a path scope.
        const bool scalar = engine::IsScalarKind(type.item->kind);
        for (;;) {
          int64_t count = 0;
          if (absl::Status s = BlockCount(&count); !s.ok()) return s;
          if (count == 0) return absl::OkStatus();
          if (absl::Status s = Charge(static_cast<size_t>(count) * engine::kValueBytes); !s.ok()) return s;
          items.reserve(items.size() + static_cast<size_t>(count));
          for (int64_t i = 0; i < count; ++i) {
            Json item;
            if (scalar) {
              item_ = items.size();
              absl::Status s = Value(*type.item, &item);
              item_ = kNoItem;
              if (!s.ok()) return s;
            } else {
              PathScope scope(&path_, items.size());
              if (absl::Status s = Value(*type.item, &item); !s.ok()) return s;
            }
            items.push_back(std::move(item));
          }
        }
      }
      case Kind::kMap: {
        Nested nested(&depth_);
        if (absl::Status s = Charge(engine::kContainerBytes); !s.ok()) return s;
        *out = Json::object();
        for (;;) {
          int64_t count = 0;
          if (absl::Status s = BlockCount(&count); !s.ok()) return s;
          if (count == 0) {
            // Repeats are looked for once, at the end: a map of n keys must
            // not cost n*n/2 comparisons.
            if (const std::string* repeated = engine::RepeatedMember(*out); repeated != nullptr) {
              PathScope scope(&path_, *repeated);
              return Fail("the key appears twice");
            }
            return absl::OkStatus();
          }
          for (int64_t i = 0; i < count; ++i) {
            Json key;
            {
              PathScope scope(&path_, absl::StrCat("<key ", out->size(), ">"));
              // The member: its key (charged by Text) and its value.
              if (absl::Status s = Charge(engine::kValueBytes); !s.ok()) return s;
              if (absl::Status s = Text(/*utf8=*/true, &key); !s.ok()) return s;
            }
            std::string& name = key.get_ref<std::string&>();
            PathScope scope(&path_, name);
            Json item;
            if (absl::Status s = Value(*type.item, &item); !s.ok()) return s;
            engine::AppendMember(*out, std::move(name), std::move(item));
          }
        }
      }
      case Kind::kRecord: {
        Nested nested(&depth_);
        if (absl::Status s = Charge(engine::kContainerBytes + type.fields.size() * engine::kValueBytes); !s.ok()) {
          return s;
        }
        *out = Json::object();
        // Room for every field first: growing would copy (not move) the
        // fields decoded so far, a whole list among them.
        out->get_ref<Json::object_t&>().reserve(type.fields.size());
        for (const engine::FieldSchema& field : type.fields) {
          PathScope scope(&path_, field.name);
          Json item;
          if (absl::Status s = Value(*field.type, &item); !s.ok()) return s;
          engine::AppendMember(*out, field.name, std::move(item));
        }
        return absl::OkStatus();
      }
      case Kind::kNullable: {
        int64_t branch = 0;
        if (absl::Status s = reader_.UnionIndex(2, &branch); !s.ok()) return Fail(s.message());
        if (branch == 1) {
          *out = nullptr;
          return absl::OkStatus();
        }
        return Value(*type.item, out);
      }
    }
    return absl::InternalError("unhandled schema kind");
  }

  // An array<bytes> as a packed byte list: each block's items are checked
  // (Avro's (length, bytes) pairs, every length within the data) and copied
  // as they are, at once.
  absl::Status PackedBytes(Json* out) {
    engine::PackedBytesBuilder packed;
    size_t index = 0;
    for (;;) {
      int64_t count = 0;
      if (absl::Status s = BlockCount(&count); !s.ok()) return s;
      if (count == 0) break;
      const size_t begin = reader_.position();
      for (int64_t i = 0; i < count; ++i, ++index) {
        absl::string_view item;
        if (absl::Status s = reader_.Bytes(&item); !s.ok()) {
          PathScope scope(&path_, index);
          return Fail(s.message());
        }
      }
      packed.AddEncoded(bytes_.substr(begin, reader_.position() - begin), static_cast<uint64_t>(count));
    }
    *out = packed.Finish();
    return absl::OkStatus();
  }

  static constexpr size_t kNoItem = ~size_t{0};

  absl::string_view bytes_;
  engine::AvroReader reader_;
  const bool packed_;
  std::vector<uint8_t>* const owner_;
  std::vector<Large> large_;
  int depth_ = 0;
  std::string path_;
  size_t item_ = kNoItem;  // the index of the scalar array item being read
  size_t left_;            // of the budget
  const size_t max_bytes_;
};

class Encoder {
 public:
  explicit Encoder(std::string* out) : writer_(out) {}

  absl::Status Value(const TypeSchema& type, const Json& v) {
    switch (type.kind) {
      case Kind::kString:
        if (!v.is_string()) return Mismatch(type, v);
        writer_.String(v.get_ref<const std::string&>());
        return absl::OkStatus();
      case Kind::kBytes:
        if (v.is_binary()) {
          const auto& b = v.get_binary();
          writer_.Bytes(absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
          return absl::OkStatus();
        }
        if (v.is_string()) {
          std::string bytes;
          if (!engine::FromCodePoints(v.get_ref<const std::string&>(), &bytes)) {
            return Fail("a string with a code point above 255 where bytes are expected");
          }
          writer_.Bytes(bytes);
          return absl::OkStatus();
        }
        return Mismatch(type, v);
      case Kind::kInt:
      case Kind::kLong: {
        int64_t i = 0;
        if (v.is_number_integer()) {
          i = v.get<int64_t>();
        } else if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>() &&
                   std::fabs(v.get<double>()) < 9.2e18) {
          i = static_cast<int64_t>(v.get<double>());
        } else {
          return Mismatch(type, v);
        }
        if (type.kind == Kind::kInt && (i < INT32_MIN || i > INT32_MAX)) {
          return Fail(absl::StrCat(i, " is out of range for int"));
        }
        writer_.Long(i);
        return absl::OkStatus();
      }
      case Kind::kFloat:
        if (!v.is_number()) return Mismatch(type, v);
        writer_.Float(static_cast<float>(v.get<double>()));
        return absl::OkStatus();
      case Kind::kDouble:
        if (!v.is_number()) return Mismatch(type, v);
        writer_.Double(v.get<double>());
        return absl::OkStatus();
      case Kind::kBoolean:
        if (!v.is_boolean()) return Mismatch(type, v);
        writer_.Boolean(v.get<bool>());
        return absl::OkStatus();
      case Kind::kArray: {
        if (type.item->kind == Kind::kBytes && engine::IsPackedBytes(v)) return PackedBytes(v);
        if (!v.is_array()) return Mismatch(type, v);
        if (!v.empty()) {
          writer_.Long(static_cast<int64_t>(v.size()));
          for (size_t i = 0; i < v.size(); ++i) {
            PathScope scope(&path_, i);
            if (absl::Status s = Value(*type.item, v[i]); !s.ok()) return s;
          }
        }
        writer_.Long(0);
        return absl::OkStatus();
      }
      case Kind::kMap: {
        if (!v.is_object()) return Mismatch(type, v);
        if (!v.empty()) {
          writer_.Long(static_cast<int64_t>(v.size()));
          for (auto it = v.begin(); it != v.end(); ++it) {
            PathScope scope(&path_, it.key());
            writer_.String(it.key());
            if (absl::Status s = Value(*type.item, it.value()); !s.ok()) return s;
          }
        }
        writer_.Long(0);
        return absl::OkStatus();
      }
      case Kind::kRecord: {
        if (!v.is_object()) return Mismatch(type, v);
        for (const engine::FieldSchema& field : type.fields) {
          PathScope scope(&path_, field.name);
          auto it = v.find(field.name);
          if (it != v.end()) {
            if (absl::Status s = Value(*field.type, *it); !s.ok()) return s;
          } else if (field.default_value) {
            if (absl::Status s = Value(*field.type, *field.default_value); !s.ok()) return s;
          } else {
            return Fail(absl::StrCat("missing in the ", type.name, " record"));
          }
        }
        return absl::OkStatus();
      }
      case Kind::kNullable:
        if (v.is_null()) {
          writer_.UnionIndex(1);
          return absl::OkStatus();
        }
        writer_.UnionIndex(0);
        return Value(*type.item, v);
    }
    return absl::InternalError("unhandled schema kind");
  }

 private:
  absl::Status Fail(absl::string_view problem) const {
    return absl::InternalError(absl::StrCat("cannot encode field '", path_, "': ", problem));
  }
  absl::Status Mismatch(const TypeSchema& type, const Json& v) const {
    return Fail(absl::StrCat("expected ", engine::KindName(type.kind), ", got ", engine::JsonTypeName(v)));
  }

  // A packed byte list as one block of its items.
  absl::Status PackedBytes(const Json& v) {
    engine::BytesListReader items(v);
    if (items.size() > 0) writer_.Long(static_cast<int64_t>(items.size()));
    while (!items.done()) {
      absl::string_view item;
      if (absl::Status s = items.Next(&item); !s.ok()) {
        PathScope scope(&path_, items.index() - 1);
        return Fail(s.message());
      }
      writer_.Bytes(item);
    }
    writer_.Long(0);
    return absl::OkStatus();
  }

  engine::AvroWriter writer_;
  std::string path_;
};

}  // namespace

absl::StatusOr<Json> AvroCodec::Decode(const TypeSchema& record, absl::string_view bytes) const {
  return Decoder(bytes, /*packed=*/false, max_decoded_bytes()).Record(record);
}

absl::StatusOr<Json> AvroCodec::DecodePacked(const TypeSchema& record, absl::string_view bytes) const {
  return Decoder(bytes, /*packed=*/true, max_decoded_bytes()).Record(record);
}

absl::StatusOr<Json> AvroCodec::DecodeOwned(const TypeSchema& record, std::vector<uint8_t> bytes) const {
  const absl::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return Decoder(view, /*packed=*/true, max_decoded_bytes(), &bytes).Record(record);
}

absl::StatusOr<std::string> AvroCodec::Encode(const TypeSchema& record, const Json& value) const {
  std::string out;
  Encoder encoder(&out);
  if (absl::Status s = encoder.Value(record, value); !s.ok()) return s;
  return out;
}

}  // namespace server
