#include "server/auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"

namespace server {
namespace {

// A users file with `text`, removed at the end of the test.
class UsersFile {
 public:
  explicit UsersFile(const std::string& text) {
    char name[] = "/tmp/gpudb-users-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~UsersFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(UsersFileTest, ReadsPasswordsTokensAndLimits) {
  UsersFile file(
      "# the team\n"
      "ann:pw:with:colons\n"
      "\n"
      "Bearer tok-1 carol\n"
      "Limits ann jobs=4 request=16M result=1g\n"
      "Limits carol result=0\n");
  absl::StatusOr<Users> users = ReadUsersFile(file.path());
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(users->passwords.at("ann"), "pw:with:colons");
  EXPECT_EQ(users->tokens.at("tok-1"), "carol");

  const engine::LimitsByUser limits = LimitsOf(*users, engine::UserLimits{/*request=*/100, /*result=*/200, /*jobs=*/3});
  EXPECT_EQ(limits.For("ann").max_jobs, 4);
  EXPECT_EQ(limits.For("ann").max_request_bytes, int64_t{16} << 20);
  EXPECT_EQ(limits.For("ann").max_result_bytes, int64_t{1} << 30);
  // What a Limits line leaves out comes from the defaults; 0 is no limit.
  EXPECT_EQ(limits.For("carol").max_jobs, 3);
  EXPECT_EQ(limits.For("carol").max_request_bytes, 100);
  EXPECT_EQ(limits.For("carol").max_result_bytes, 0);
  // Users without a Limits line, and the anonymous user, have the defaults.
  EXPECT_EQ(limits.For("dave").max_jobs, 3);
  EXPECT_EQ(limits.For("").max_result_bytes, 200);

  Authenticator auth(*std::move(users));
  EXPECT_EQ(*auth.UserOf("Basic " + absl::Base64Escape("ann:pw:with:colons")), "ann");
  EXPECT_EQ(*auth.UserOf("Bearer tok-1"), "carol");
}

TEST(UsersFileTest, ErrorsNameTheFileLineAndProblem) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"ann:x\nLimits ann\n", "line 2: expected Limits <user> jobs=N request=SIZE result=SIZE"},
      {"ann:x\nLimits ann cpu=2\n", "line 2: 'cpu' is not a limit; the limits are jobs, request and result"},
      {"ann:x\nLimits ann jobs=many\n", "line 2: jobs: expected a count, got 'many'"},
      {"ann:x\nLimits ann request=lots\n", "line 2: request: expected a size such as 16M, got 'lots'"},
      {"ann:x\nLimits ann jobs=1\nLimits ann result=1M\n", "line 3: the limits of user 'ann' appear twice"},
      {"Limits ann jobs=1\n", "has no user:password or Bearer line"},
      {"ann:x\nann:y\n", "line 2: user 'ann' appears twice"},
      {"nobody\n", "line 1: expected user:password or Bearer <token> <user>"},
  };
  for (const auto& c : cases) {
    UsersFile file(c.text);
    absl::StatusOr<Users> users = ReadUsersFile(file.path());
    ASSERT_FALSE(users.ok()) << c.text;
    EXPECT_NE(users.status().message().find(c.error), std::string::npos) << users.status().message();
    EXPECT_NE(users.status().message().find(file.path()), std::string::npos) << users.status().message();
  }
  EXPECT_EQ(ReadUsersFile("/nonexistent/users").status().message(), "--auth-file: cannot read '/nonexistent/users'");
}

}  // namespace
}  // namespace server
