#include "server/auth.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/command_line.h"

namespace server {
namespace {

// Compares secrets without stopping at the first difference.
bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<Users> ReadUsersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--auth-file: cannot read '", path, "'"));
  Users users;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    const auto bad = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("--auth-file: ", path, " line ", n, ": ", what));
    };
    if (absl::StartsWith(trimmed, "Limits ")) {
      const std::vector<std::string> parts = absl::StrSplit(trimmed, ' ', absl::SkipEmpty());
      if (parts.size() < 3) return bad("expected Limits <user> jobs=N request=SIZE result=SIZE");
      engine::UserLimits limits{-1, -1, -1};
      for (size_t i = 2; i < parts.size(); ++i) {
        const std::pair<std::string, std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
        size_t n = 0;
        const bool size = kv.first == "request" || kv.first == "result";
        if (kv.first != "jobs" && !size) {
          return bad(absl::StrCat("'", kv.first, "' is not a limit; the limits are jobs, request and result"));
        }
        if (!(size ? ParseBytes(kv.second, &n) : absl::SimpleAtoi(kv.second, &n))) {
          return bad(absl::StrCat(kv.first, ": expected ", size ? "a size such as 16M" : "a count", ", got '",
                                  kv.second, "'"));
        }
        (kv.first == "jobs"      ? limits.max_jobs
         : kv.first == "request" ? limits.max_request_bytes
                                 : limits.max_result_bytes) = static_cast<int64_t>(n);
      }
      if (!users.limits.emplace(parts[1], limits).second) {
        return bad(absl::StrCat("the limits of user '", parts[1], "' appear twice"));
      }
      continue;
    }
    if (absl::StartsWith(trimmed, "Bearer ")) {
      const std::vector<std::string> parts = absl::StrSplit(trimmed, ' ', absl::SkipEmpty());
      if (parts.size() != 3) return bad("expected Bearer <token> <user>");
      if (!users.tokens.emplace(parts[1], parts[2]).second) return bad("the token appears twice");
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return bad("expected user:password or Bearer <token> <user>");
    const std::string user = line.substr(0, colon);
    if (!users.passwords.emplace(user, line.substr(colon + 1)).second) {
      return bad(absl::StrCat("user '", user, "' appears twice"));
    }
  }
  if (users.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--auth-file: ", path, " has no user:password or Bearer line"));
  }
  return users;
}

engine::LimitsByUser LimitsOf(const Users& users, const engine::UserLimits& defaults) {
  engine::LimitsByUser out;
  out.defaults = defaults;
  for (const auto& [user, given] : users.limits) {
    engine::UserLimits& limits = out.users[user];
    limits.max_jobs = given.max_jobs >= 0 ? given.max_jobs : defaults.max_jobs;
    limits.max_request_bytes = given.max_request_bytes >= 0 ? given.max_request_bytes : defaults.max_request_bytes;
    limits.max_result_bytes = given.max_result_bytes >= 0 ? given.max_result_bytes : defaults.max_result_bytes;
  }
  return out;
}

absl::StatusOr<std::string> Authenticator::UserOf(absl::string_view authorization) const {
  if (!enabled()) return std::string();
  absl::string_view value = authorization;
  if (value.empty()) return absl::UnauthenticatedError("Authorization: credentials are required (Basic or Bearer)");
  if (absl::ConsumePrefix(&value, "Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(value), &decoded)) decoded.clear();
    const size_t colon = decoded.find(':');
    if (colon != std::string::npos) {
      auto user = users_.passwords.find(decoded.substr(0, colon));
      if (user != users_.passwords.end() && SameSecret(absl::string_view(decoded).substr(colon + 1), user->second)) {
        return user->first;
      }
    }
    return absl::UnauthenticatedError("Authorization: wrong user name or password");
  }
  if (absl::ConsumePrefix(&value, "Bearer ")) {
    value = absl::StripAsciiWhitespace(value);
    // Every token is compared, so that the time taken does not tell which
    // one a guess came close to.
    const std::string* found = nullptr;
    for (const auto& [token, user] : users_.tokens) {
      if (SameSecret(value, token)) found = &user;
    }
    if (found != nullptr) return *found;
    return absl::UnauthenticatedError("Authorization: unknown bearer token");
  }
  return absl::UnauthenticatedError("Authorization: unknown scheme; use Basic or Bearer");
}

}  // namespace server
