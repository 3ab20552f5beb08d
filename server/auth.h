#pragma once

// Who a request comes from. One users file serves both transports: HTTP's
// `Authorization` header and gRPC's `authorization` call metadata carry the
// same values, `Basic base64(user:password)` or `Bearer <token>`. The user
// becomes the `auth_id` of the jobs the request submits, and decides which
// jobs it sees and cancels (engine/jobs/tracker.h's MaySee).

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/jobs/limits.h"

namespace server {

struct Users {
  std::map<std::string, std::string> passwords;  // user → password
  std::map<std::string, std::string> tokens;     // bearer token → user
  // user → its limits; a field the file leaves out is -1 (the server's
  // default, --user-max-*).
  std::map<std::string, engine::UserLimits> limits;
  bool empty() const { return passwords.empty() && tokens.empty(); }
};

// Reads a users file: one `user:password` per line (the password is
// everything after the first ':'), `Bearer <token> <user>` for a token, or
// `Limits <user> jobs=N request=SIZE result=SIZE` (any of the three, sizes
// as 64K, 16M, 1G; 0 = none) for a user's limits (engine/jobs/limits.h);
// blank lines and lines starting with '#' are skipped. Errors name the file
// and line (a malformed line, a user, token or user's limits given twice,
// no user at all).
absl::StatusOr<Users> ReadUsersFile(const std::string& path);

// Each user's limits: `defaults` for users the file gives none, and for the
// fields a Limits line leaves out.
engine::LimitsByUser LimitsOf(const Users& users, const engine::UserLimits& defaults);

class Authenticator {
 public:
  // No users: no authentication (every request is from "").
  explicit Authenticator(Users users) : users_(std::move(users)) {}

  bool enabled() const { return !users_.empty(); }

  // The user of an `authorization` value, or Unauthenticated saying what is
  // wrong: none given, a wrong user or password, an unknown token, an
  // unknown scheme. Secrets are compared in constant time. "" when
  // authentication is off.
  absl::StatusOr<std::string> UserOf(absl::string_view authorization) const;

 private:
  const Users users_;
};

}  // namespace server
