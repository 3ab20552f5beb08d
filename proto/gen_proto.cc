// gen_proto: writes gpudb.proto, the gRPC service and one message per record
// of the API. Usage: gen_proto TEMPLATE OUTPUT.
//
// The records come from the engine's registry (engine/api/schema.h, parsed
// from engine/api/endpoints.json); TEMPLATE (gpudb.proto.in) holds the
// service and the conventions, and its line "@RECORDS@" is replaced by the
// messages: the response wrapper, the wrappers of nested containers and
// nullable values, then each section's requests and responses. The mapping
// is the one the template states and server/proto_json.h relies on.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/api/schema.h"

namespace {

using engine::TypeSchema;
using Kind = TypeSchema::Kind;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "gen_proto: " << message << "\n";
  std::exit(1);
}

const char* ScalarType(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kInt:
      return "int32";
    case Kind::kLong:
      return "int64";
    case Kind::kFloat:
      return "float";
    case Kind::kDouble:
      return "double";
    case Kind::kBoolean:
      return "bool";
    default:
      Fail("not a scalar");
  }
}

// Whether a default differs from protobuf's zero value, so that the field
// must be `optional` for "not set" to be told apart.
bool NeedsPresence(const engine::Json& value) {
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  if (value.is_binary()) return !value.get_binary().empty();
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number()) return value.get<double>() != 0;
  return false;  // {} and []: the empty map or list
}

// The messages that stand for nested containers and nullable values, named
// after what they hold (StringList, DoubleMap, NullableString, ...), in the
// order first used.
class Wrappers {
 public:
  // The proto type of a value inside a container: a scalar, or a wrapper.
  std::string ItemType(const TypeSchema& t) { return engine::IsScalarKind(t.kind) ? ScalarType(t.kind) : Wrapper(t); }

  std::string text() const { return text_.str(); }

 private:
  std::string Name(const TypeSchema& t) {
    switch (t.kind) {
      case Kind::kArray:
        return Name(*t.item) + "List";
      case Kind::kMap:
        return Name(*t.item) + "Map";
      case Kind::kNullable:
        return "Nullable" + Name(*t.item);
      case Kind::kRecord:
        Fail("a record inside a container");
      default:
        return engine::MessageName(engine::KindName(t.kind));
    }
  }

  std::string Wrapper(const TypeSchema& t) {
    const std::string name = Name(t);
    if (!done_.emplace(name, true).second) return name;
    std::string field;
    if (t.kind == Kind::kArray) {
      field = absl::StrCat("repeated ", ItemType(*t.item), " values = 1;");
    } else if (t.kind == Kind::kMap) {
      field = absl::StrCat("map<string, ", ItemType(*t.item), "> values = 1;");
    } else {
      if (!engine::IsScalarKind(t.item->kind)) Fail("a nullable container");
      field = absl::StrCat("optional ", ScalarType(t.item->kind), " value = 1;");
    }
    text_ << "message " << name << " { " << field << " }\n";
    return name;
  }

  std::map<std::string, bool> done_;
  std::ostringstream text_;
};

std::string Message(const TypeSchema& record, Wrappers* wrappers) {
  std::ostringstream out;
  out << "message " << engine::MessageName(record.name) << " {\n";
  int number = 0;
  for (const engine::FieldSchema& field : record.fields) {
    const TypeSchema& t = *field.type;
    std::string type;
    std::string note;
    if (t.kind == Kind::kArray) {
      type = "repeated " + wrappers->ItemType(*t.item);
    } else if (t.kind == Kind::kMap) {
      type = absl::StrCat("map<string, ", wrappers->ItemType(*t.item), ">");
    } else if (engine::IsScalarKind(t.kind)) {
      type = ScalarType(t.kind);
      if (field.default_value && NeedsPresence(*field.default_value)) {
        type = "optional " + type;
        note = absl::StrCat("  // default ", field.default_value->dump());
      }
    } else {
      Fail(absl::StrCat(record.name, ".", field.name, ": a ", engine::KindName(t.kind), " field has no protobuf form"));
    }
    out << "  " << type << " " << field.name << " = " << ++number << ";" << note << "\n";
  }
  out << "}\n";
  return out.str();
}

constexpr char kRule[] = "// ---------------------------------------------------------------------------\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) Fail("usage: gen_proto TEMPLATE OUTPUT");
  std::ifstream in(argv[1]);
  if (!in) Fail(absl::StrCat("cannot read ", argv[1]));
  std::stringstream tmpl;
  tmpl << in.rdbuf();

  Wrappers wrappers;
  std::ostringstream records;
  std::string section;
  for (const engine::EndpointSchema& e : engine::AllEndpointSchemas()) {
    if (e.section != section) {
      section = e.section;
      records << "\n" << kRule << "// " << section << ".\n";
    }
    records << "\n" << Message(*e.request, &wrappers) << Message(*e.response, &wrappers);
  }
  const std::string messages = absl::StrCat(
      "// The response wrapper (spec §1).\n", Message(*engine::FindRecord("gpudb_response"), &wrappers), "\n", kRule,
      "// Wrappers for nested containers and nullable values.\n\n", wrappers.text(), records.str());

  const std::string text = tmpl.str();
  if (text.find("@RECORDS@\n") == std::string::npos) Fail(absl::StrCat(argv[1], ": no @RECORDS@ line"));
  const std::string proto = absl::StrReplaceAll(text, {{"@RECORDS@\n", messages}});
  // Written whole, then renamed, so that a failed run leaves no partial file.
  const std::string tmp = absl::StrCat(argv[2], ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << proto;
    if (!out) Fail(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), argv[2]) != 0) Fail(absl::StrCat("cannot rename ", tmp, " to ", argv[2]));
  return 0;
}
