#include "kernels/dictionary.h"

#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/detail/ops.h"
#include "kernels/gather.h"

namespace kernels {
namespace {

// A dictionary's values on the host, to merge two of them.
struct HostValues {
  std::vector<int64_t> offsets;  // kVarChars
  std::vector<char> chars;
  std::vector<uint8_t> validity;  // empty: none null
  PhysType type = PhysType::kVarChars;
  int32_t width = 0;
  int64_t size = 0;

  bool null(int64_t i) const { return !validity.empty() && validity[static_cast<size_t>(i)] == 0; }
  std::string_view at(int64_t i) const {
    if (type == PhysType::kVarChars) {
      const int64_t b = offsets[static_cast<size_t>(i)];
      return std::string_view(chars.data() + b, static_cast<size_t>(offsets[static_cast<size_t>(i) + 1] - b));
    }
    const char* s = chars.data() + i * width;
    return std::string_view(s, strnlen(s, static_cast<size_t>(width)));
  }
};

// REQUIRES: `c` built whole (kVarChars offsets from 0).
HostValues ReadValues(const Column& c, const Exec& exec) {
  const ColumnView v = c.view();
  HostValues h;
  h.type = v.type;
  h.width = v.width;
  h.size = v.size;
  if (v.type == PhysType::kVarChars) {
    h.offsets.resize(static_cast<size_t>(v.size) + 1);
    CopyToHostSync(h.offsets.data(), v.offsets, h.offsets.size() * sizeof(int64_t), exec);
    h.chars.resize(static_cast<size_t>(h.offsets.back()));
  } else {
    h.chars.resize(static_cast<size_t>(v.size * v.width));
  }
  if (!h.chars.empty()) CopyToHostSync(h.chars.data(), v.data, h.chars.size(), exec);
  if (v.validity != nullptr) {
    h.validity.resize(static_cast<size_t>(v.size));
    CopyToHostSync(h.validity.data(), v.validity, h.validity.size(), exec);
  }
  return h;
}

// The order of the values: null first, then bytewise (as GroupRows and
// SortOrder order strings).
int Compare(const HostValues& a, int64_t i, const HostValues& b, int64_t j) {
  const bool na = a.null(i), nb = b.null(j);
  if (na || nb) return na == nb ? 0 : na ? -1 : 1;
  return a.at(i).compare(b.at(j));
}

Buffer Upload(const std::vector<int32_t>& v, const Exec& exec) {
  Buffer b(v.size() * sizeof(int32_t), exec);
  if (!v.empty()) CopyToDevice(b.data(), v.data(), b.size(), exec);
  return b;
}

}  // namespace

bool ExtendDictionary(const ColumnView& column, int64_t max_values, Dictionary* dict, const Exec& exec) {
  const detail::Ops& ops = detail::OpsFor(exec.backend);
  const int64_t done = dict->rows();
  const ColumnView added = SliceRows(column, done, column.size);
  const bool nullable = column.validity != nullptr;
  Buffer local_codes, value_rows;
  const int64_t local = ops.EncodeValues(added, max_values, &local_codes, &value_rows, exec);
  if (local < 0) return false;
  Column fresh = Gather(added, value_rows.as<int64_t>(), local, nullable, exec);
  if (done == 0) {
    Column codes = Column::Adopt(PhysType::kInt32, 0, false, added.size, std::move(local_codes), Buffer(), Buffer());
    dict->values = std::move(fresh);
    dict->codes = std::move(codes);
    return true;
  }

  // Both lists of values are sorted: merged on the host (they are few).
  const HostValues old_values = ReadValues(dict->values, exec);
  const HostValues new_values = ReadValues(fresh, exec);
  std::vector<int32_t> old_to(static_cast<size_t>(old_values.size));
  std::vector<int32_t> new_to(static_cast<size_t>(new_values.size));
  std::vector<int64_t> merged;  // positions in old ++ new values, ascending
  int64_t i = 0, j = 0;
  while (i < old_values.size || j < new_values.size) {
    const int c = i == old_values.size ? 1 : j == new_values.size ? -1 : Compare(old_values, i, new_values, j);
    const auto code = static_cast<int32_t>(merged.size());
    if (c <= 0) {
      merged.push_back(i);
      old_to[static_cast<size_t>(i++)] = code;
      if (c == 0) new_to[static_cast<size_t>(j++)] = code;
    } else {
      merged.push_back(old_values.size + j);
      new_to[static_cast<size_t>(j++)] = code;
    }
  }
  if (static_cast<int64_t>(merged.size()) > max_values) return false;

  // The new rows' codes; the old rows' renumbered when values came between theirs.
  const Buffer new_map = Upload(new_to, exec);
  ops.MapCodes(local_codes.as<int32_t>(), added.size, new_map.as<int32_t>(), local_codes.as<int32_t>(), exec);
  ColumnView added_codes = dict->codes.view();
  added_codes.size = added.size;
  added_codes.data = local_codes.data();
  if (static_cast<int64_t>(merged.size()) == old_values.size) {
    dict->codes.Append(added_codes, exec);
    ops.Synchronize(exec);  // before the host's vectors go
    return true;
  }
  Column both(column.type, column.width, nullable);
  both.Reserve(old_values.size + new_values.size,
               static_cast<int64_t>(old_values.chars.size() + new_values.chars.size()), exec);
  both.Append(dict->values.view(), exec);
  both.Append(fresh.view(), exec);
  Buffer positions(merged.size() * sizeof(int64_t), exec);
  CopyToDevice(positions.data(), merged.data(), positions.size(), exec);
  Column values = Gather(both.view(), positions.as<int64_t>(), static_cast<int64_t>(merged.size()), nullable, exec);
  const Buffer old_map = Upload(old_to, exec);
  Buffer renumbered(static_cast<size_t>(column.size) * sizeof(int32_t), exec);
  int32_t* out = renumbered.as<int32_t>();
  ops.MapCodes(static_cast<const int32_t*>(dict->codes.view().data), done, old_map.as<int32_t>(), out, exec);
  ops.CopyOnDevice(out + done, local_codes.data(), static_cast<size_t>(added.size) * sizeof(int32_t), exec);
  Column codes = Column::Adopt(PhysType::kInt32, 0, false, column.size, std::move(renumbered), Buffer(), Buffer());
  ops.Synchronize(exec);
  dict->values = std::move(values);
  dict->codes = std::move(codes);
  return true;
}

}  // namespace kernels
