#include "kernels/dictionary.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/detail/expr_eval.h"
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

// A rewritable test of `column` at code[i]: its instructions' count, or 0.
//   [column][string][cmp]   [string][column][cmp]   [column][in list]
//   [column][like]          [column][string][string][between]
int TestAt(const Program& p, size_t i, int32_t column) {
  const auto is = [&](size_t k, Op op) { return k < p.code.size() && p.code[k].op == op; };
  const auto col = [&](size_t k) { return is(k, Op::kColumn) && p.code[k].arg == column; };
  if (col(i) && is(i + 1, Op::kConstString) && is(i + 2, Op::kCmpS)) return 3;
  if (is(i, Op::kConstString) && col(i + 1) && is(i + 2, Op::kCmpS)) return 3;
  if (col(i) && (is(i + 1, Op::kInS) || is(i + 1, Op::kLike))) return 2;
  if (col(i) && is(i + 1, Op::kConstString) && is(i + 2, Op::kConstString) && is(i + 3, Op::kBetweenS)) return 4;
  return 0;
}

std::string ConstantOf(const Program& p, int32_t k) {
  const int64_t b = p.string_offsets[static_cast<size_t>(k)];
  return p.chars.substr(static_cast<size_t>(b), static_cast<size_t>(p.string_offsets[static_cast<size_t>(k) + 1] - b));
}

Cmp Mirrored(Cmp c) {
  switch (c) {
    case Cmp::kLt:
      return Cmp::kGt;
    case Cmp::kLe:
      return Cmp::kGe;
    case Cmp::kGt:
      return Cmp::kLt;
    case Cmp::kGe:
      return Cmp::kLe;
    default:
      return c;
  }
}

}  // namespace

bool TestsWithConstants(const Program& program, int32_t column) {
  for (size_t i = 0; i < program.code.size(); ++i) {
    if (TestAt(program, i, column) > 0) return true;
  }
  return false;
}

int RewriteWithCodes(Program* program, int32_t column, const Dictionary& dict, const Exec& exec) {
  if (!TestsWithConstants(*program, column)) return 0;
  const HostValues h = ReadValues(dict.values, exec);
  // The non-null values, ascending; value i has code first + i.
  const int64_t first = h.size > 0 && h.null(0) ? 1 : 0;
  std::vector<std::string_view> values;
  for (int64_t i = first; i < h.size; ++i) values.push_back(h.at(i));
  const auto lower = [&](const std::string& v) {
    return first + (std::lower_bound(values.begin(), values.end(), std::string_view(v)) - values.begin());
  };
  const auto upper = [&](const std::string& v) {
    return first + (std::upper_bound(values.begin(), values.end(), std::string_view(v)) - values.begin());
  };
  const auto code_of = [&](const std::string& v) -> int64_t {
    const int64_t at = lower(v);
    return at - first < static_cast<int64_t>(values.size()) && values[static_cast<size_t>(at - first)] == v ? at : -1;
  };
  // An in-list of codes; one that can match nothing holds -1 alone.
  const auto code_set = [&](std::vector<int64_t> codes) {
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    if (codes.empty()) codes.push_back(-1);
    return std::pair<int32_t, int32_t>(program->AddIntSet(codes), static_cast<int32_t>(codes.size()));
  };

  ColumnView codes = dict.codes.view();
  codes.validity = program->columns[static_cast<size_t>(column)].validity;
  program->columns.push_back(codes);
  const auto coded = static_cast<int32_t>(program->columns.size() - 1);
  int rewritten = 0;
  std::vector<Instr>& code = program->code;
  for (size_t i = 0; i < code.size();) {
    const int length = TestAt(*program, i, column);
    if (length == 0) {
      ++i;
      continue;
    }
    ++rewritten;
    if (code[i + 1].op == Op::kInS) {
      std::vector<int64_t> found;
      for (int32_t k = 0; k < code[i + 1].arg2; ++k) {
        const int64_t c = code_of(ConstantOf(*program, code[i + 1].arg + k));
        if (c >= 0) found.push_back(c);
      }
      const auto [at, count] = code_set(std::move(found));
      code[i] = Instr{Op::kColumn, coded};
      code[i + 1] = Instr{Op::kInI, at, count};
    } else if (code[i + 1].op == Op::kLike) {
      const std::string pattern = ConstantOf(*program, code[i + 1].arg);
      std::vector<int64_t> found;
      for (size_t v = 0; v < values.size(); ++v) {
        if (detail::Like(values[v].data(), static_cast<int64_t>(values[v].size()), 0, pattern.data(),
                         static_cast<int64_t>(pattern.size()))) {
          found.push_back(first + static_cast<int64_t>(v));
        }
      }
      const auto [at, count] = code_set(std::move(found));
      code[i] = Instr{Op::kColumn, coded};
      code[i + 1] = Instr{Op::kInI, at, count};
    } else if (length == 4) {
      // lo <= s <= hi: the codes from lo's lower bound to below hi's upper one.
      const int64_t lo = lower(ConstantOf(*program, code[i + 1].arg));
      const int64_t hi = upper(ConstantOf(*program, code[i + 2].arg)) - 1;
      code[i] = Instr{Op::kColumn, coded};
      code[i + 1] = Instr{Op::kConstInt, program->AddInt(lo)};
      code[i + 2] = Instr{Op::kConstInt, program->AddInt(hi)};
      code[i + 3] = Instr{Op::kBetweenI, 0};
    } else {
      const bool column_first = code[i].op == Op::kColumn;
      const std::string v = ConstantOf(*program, code[column_first ? i + 1 : i].arg);
      Cmp cmp = static_cast<Cmp>(code[i + 2].arg);
      if (!column_first) cmp = Mirrored(cmp);
      int64_t bound;
      switch (cmp) {
        case Cmp::kEq:
        case Cmp::kNe:
          bound = code_of(v);
          break;  // -1: no row's code
        case Cmp::kLt:
          bound = lower(v);
          break;  // s < v: code < lower(v)
        case Cmp::kLe:
          bound = upper(v);
          cmp = Cmp::kLt;
          break;
        case Cmp::kGt:
          bound = upper(v);
          cmp = Cmp::kGe;
          break;
        case Cmp::kGe:
          bound = lower(v);
          break;
      }
      code[i] = Instr{Op::kColumn, coded};
      code[i + 1] = Instr{Op::kConstInt, program->AddInt(bound)};
      code[i + 2] = Instr{Op::kCmpI, static_cast<int32_t>(cmp)};
    }
    i += static_cast<size_t>(length);
  }
  return rewritten;
}

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
