#include "server/command_line.h"

#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"

namespace server {

void ParseCommandLine(int argc, char** argv, absl::string_view main_file, const char* usage) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  static std::string file;
  file = std::string(main_file);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view path) { return absl::EndsWith(path, file); };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    for (size_t k = 2; k < arg.size() && k < eq; ++k) {
      if (arg[0] == '-' && arg[1] == '-' && arg[k] == '-') argv[i][k] = '_';
    }
  }
  absl::ParseCommandLine(argc, argv);
}

bool ParseBytes(absl::string_view text, size_t* bytes) {
  std::string t = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (!t.empty() && t.back() == 'B') t.pop_back();
  size_t scale = 1;
  if (!t.empty()) {
    switch (t.back()) {
      case 'K':
        scale = size_t{1} << 10;
        break;
      case 'M':
        scale = size_t{1} << 20;
        break;
      case 'G':
        scale = size_t{1} << 30;
        break;
      case 'T':
        scale = size_t{1} << 40;
        break;
      default:
        break;
    }
    if (scale != 1) t.pop_back();
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(t, &n)) return false;
  *bytes = static_cast<size_t>(n) * scale;
  return true;
}

}  // namespace server
