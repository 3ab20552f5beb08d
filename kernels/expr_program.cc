#include "kernels/expr_program.h"

#include <string_view>

#include <cstring>

namespace kernels {

int32_t Program::AddInt(int64_t v) {
  ints.push_back(v);
  return static_cast<int32_t>(ints.size() - 1);
}

int32_t Program::AddIntSet(const std::vector<int64_t>& sorted) {
  const int32_t first = static_cast<int32_t>(ints.size());
  const int32_t count = static_cast<int32_t>(sorted.size());
  ints.insert(ints.end(), sorted.begin(), sorted.end());
  if (count <= kInHashMin) return first;
  const int32_t slots = InTableSlots(count), words = InFilterWords(count);
  const size_t table = ints.size(), filter = table + static_cast<size_t>(slots);
  ints.resize(filter, -1);
  ints.resize(filter + static_cast<size_t>(words), 0);
  const uint32_t mask = static_cast<uint32_t>(slots - 1), bit_mask = static_cast<uint32_t>(words * 64 - 1);
  for (int32_t k = 0; k < count; ++k) {
    const uint64_t h = InHash(sorted[static_cast<size_t>(k)]);
    uint32_t s = InSlot(h, mask);
    while (ints[table + s] >= 0) s = (s + 1) & mask;
    ints[table + s] = k;
    const uint32_t bit = InFilterBit(h, bit_mask);
    ints[filter + (bit >> 6)] =
        static_cast<int64_t>(static_cast<uint64_t>(ints[filter + (bit >> 6)]) | (uint64_t{1} << (bit & 63)));
  }
  return first;
}

int32_t Program::AddFloat(double v) {
  floats.push_back(v);
  return static_cast<int32_t>(floats.size() - 1);
}

int32_t Program::AddString(const std::string& s) {
  chars += s;
  string_offsets.push_back(static_cast<int64_t>(chars.size()));
  return static_cast<int32_t>(string_offsets.size() - 2);
}

bool IsWellFormed(const Program& p) {
  // String constants: offsets from 0, ascending, ending at the bytes' end.
  if (p.string_offsets.empty() || p.string_offsets.front() != 0 ||
      p.string_offsets.back() != static_cast<int64_t>(p.chars.size())) {
    return false;
  }
  for (size_t k = 1; k < p.string_offsets.size(); ++k) {
    if (p.string_offsets[k] < p.string_offsets[k - 1]) return false;
  }
  const int64_t columns = static_cast<int64_t>(p.columns.size());
  const int64_t ints = static_cast<int64_t>(p.ints.size());
  const int64_t floats = static_cast<int64_t>(p.floats.size());
  const int64_t strings = static_cast<int64_t>(p.string_offsets.size()) - 1;
  auto in_range = [](int64_t arg, int64_t count, int64_t size) {
    return arg >= 0 && count >= 0 && arg + count <= size;
  };
  // An IN list's constants: ascending and distinct (no NaN).
  auto ascending = [](const auto& values, int64_t arg, int64_t count) {
    for (int64_t k = arg; k < arg + count; ++k) {
      if (values[k] != values[k] || (k > arg && !(values[k - 1] < values[k]))) return false;
    }
    return true;
  };
  // A long int list's hash table and filter: in range, and finding every
  // constant.
  auto int_set_table = [&](int64_t arg, int64_t count) {
    if (count <= kInHashMin) return true;
    const int64_t slots = InTableSlots(static_cast<int32_t>(count));
    if (!in_range(arg + count, slots + InFilterWords(static_cast<int32_t>(count)), ints)) return false;
    for (int64_t s = 0; s < slots; ++s) {
      const int64_t k = p.ints[static_cast<size_t>(arg + count + s)];
      if (k < -1 || k >= count) return false;
    }
    for (int64_t k = 0; k < count; ++k) {
      if (!InIntSet(IntSetOf(p.ints.data(), static_cast<int32_t>(arg), static_cast<int32_t>(count)),
                    p.ints[static_cast<size_t>(arg + k)])) {
        return false;
      }
    }
    return true;
  };
  auto ascending_strings = [&](int64_t arg, int64_t count) {
    for (int64_t k = arg + 1; k < arg + count; ++k) {
      const std::string_view a(p.chars.data() + p.string_offsets[k - 1], p.string_offsets[k] - p.string_offsets[k - 1]);
      const std::string_view b(p.chars.data() + p.string_offsets[k], p.string_offsets[k + 1] - p.string_offsets[k]);
      if (!(a < b)) return false;
    }
    return true;
  };
  int depth = 0;
  for (const Instr& in : p.code) {
    if (in.op > Op::kFloatToInt) return false;
    const int effect = StackEffect(in.op);
    if (effect <= 0 && depth < 1 - effect) return false;
    depth += effect;
    if (depth > kMaxStackDepth) return false;
    bool ok = true;
    switch (in.op) {
      case Op::kColumn: ok = in_range(in.arg, 1, columns); break;
      case Op::kConstInt: ok = in_range(in.arg, 1, ints); break;
      case Op::kConstFloat: ok = in_range(in.arg, 1, floats); break;
      case Op::kConstString:
      case Op::kLike: ok = in_range(in.arg, 1, strings); break;
      case Op::kInI:
        ok = in_range(in.arg, in.arg2, ints) && ascending(p.ints, in.arg, in.arg2) && int_set_table(in.arg, in.arg2);
        break;
      case Op::kInF:
        ok = in_range(in.arg, in.arg2, floats) && ascending(p.floats, in.arg, in.arg2);
        break;
      case Op::kInS:
        ok = in_range(in.arg, in.arg2, strings) && ascending_strings(in.arg, in.arg2);
        break;
      case Op::kCmpI:
      case Op::kCmpF:
      case Op::kCmpS: ok = in.arg >= 0 && in.arg <= static_cast<int32_t>(Cmp::kGe); break;
      case Op::kMathF: ok = in.arg >= 0 && in.arg <= static_cast<int32_t>(MathFn::kRound); break;
      case Op::kFold: ok = in.arg >= 0 && in.arg <= kFoldUpper; break;
      case Op::kIf:
      case Op::kIfNull:
        ok = in.arg >= 0 && in.arg <= static_cast<int32_t>(ValueKind::kString);
        break;
      case Op::kDatePart: ok = in.arg >= 0 && in.arg <= static_cast<int32_t>(DatePart::kSec); break;
      default: break;
    }
    if (!ok) return false;
  }
  return depth == 1;
}

namespace {

size_t AlignUp(size_t n) { return (n + 15) / 16 * 16; }

}  // namespace

DeviceProgram Upload(const Program& program, const Exec& exec) {
  // One host staging block laid out as the device block, then one copy.
  const size_t code_bytes = AlignUp(program.code.size() * sizeof(Instr));
  const size_t column_bytes = AlignUp(program.columns.size() * sizeof(ColumnView));
  const size_t int_bytes = AlignUp(program.ints.size() * sizeof(int64_t));
  const size_t float_bytes = AlignUp(program.floats.size() * sizeof(double));
  const size_t offset_bytes = AlignUp(program.string_offsets.size() * sizeof(int64_t));
  const size_t char_bytes = AlignUp(program.chars.size() + 1);
  const ScanPlan plan = CompileScanPlan(program);
  const size_t plan_bytes = plan.kind == PlanKind::kNone ? 0 : AlignUp(sizeof(ScanPlan));
  const size_t total =
      code_bytes + column_bytes + int_bytes + float_bytes + offset_bytes + char_bytes + plan_bytes;

  std::string staging(total, '\0');
  size_t at = 0;
  auto put = [&](const void* src, size_t bytes, size_t reserved) {
    if (bytes > 0) std::memcpy(staging.data() + at, src, bytes);
    const size_t start = at;
    at += reserved;
    return start;
  };
  const size_t code_at = put(program.code.data(), program.code.size() * sizeof(Instr), code_bytes);
  const size_t column_at =
      put(program.columns.data(), program.columns.size() * sizeof(ColumnView), column_bytes);
  const size_t int_at = put(program.ints.data(), program.ints.size() * sizeof(int64_t), int_bytes);
  const size_t float_at = put(program.floats.data(), program.floats.size() * sizeof(double), float_bytes);
  const size_t offset_at = put(program.string_offsets.data(),
                               program.string_offsets.size() * sizeof(int64_t), offset_bytes);
  const size_t char_at = put(program.chars.data(), program.chars.size(), char_bytes);
  const size_t plan_at = put(&plan, plan_bytes == 0 ? 0 : sizeof(ScanPlan), plan_bytes);

  DeviceProgram out;
  out.storage = Buffer(total, exec);
  CopyToDevice(out.storage.data(), staging.data(), total, exec);
  char* base = out.storage.as<char>();
  out.view.code = reinterpret_cast<const Instr*>(base + code_at);
  out.view.length = static_cast<int32_t>(program.code.size());
  out.view.columns = reinterpret_cast<const ColumnView*>(base + column_at);
  out.view.ints = reinterpret_cast<const int64_t*>(base + int_at);
  out.view.floats = reinterpret_cast<const double*>(base + float_at);
  out.view.string_offsets = reinterpret_cast<const int64_t*>(base + offset_at);
  out.view.chars = base + char_at;
  out.view.result = program.result;
  if (plan_bytes > 0) {
    out.view.plan = reinterpret_cast<const ScanPlan*>(base + plan_at);
    out.view.plan_kind = plan.kind;
  }
  return out;
}

}  // namespace kernels
