#pragma once

// What one user may ask of the server at once. A zero limit is no limit.
// Without authentication every caller is the same user, "".

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace engine {

struct UserLimits {
  // Bytes of one request as it arrives: an HTTP body, a gRPC request's
  // data or data_str. Checked by the transports (server/job_api.h).
  int64_t max_request_bytes = 0;
  // Bytes of one job's result as held in memory (approximately): a larger
  // result ends its job in ERROR instead.
  int64_t max_result_bytes = 0;
  // The user's unfinished jobs (queued or running, asynchronous and
  // synchronous calls alike): one more is refused with ResourceExhausted.
  int64_t max_jobs = 0;
};

// Each user's limits: those named, else the defaults.
struct LimitsByUser {
  UserLimits defaults;
  std::map<std::string, UserLimits, std::less<>> users;

  const UserLimits& For(absl::string_view user) const {
    auto it = users.find(user);
    return it == users.end() ? defaults : it->second;
  }
};

// A user as errors about its limits name it: "user 'ann'", or "the
// anonymous user" for "".
inline std::string UserName(absl::string_view user) {
  return user.empty() ? std::string("the anonymous user") : absl::StrCat("user '", user, "'");
}

}  // namespace engine
