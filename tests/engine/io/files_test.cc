// engine/io/files.h: what the files directory serves and what it refuses.

#include "engine/io/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace engine::io {
namespace {

class FilesDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char outside[] = "/tmp/gpudb_files_outsideXXXXXX";
    char root[] = "/tmp/gpudb_filesXXXXXX";
    ASSERT_NE(::mkdtemp(outside), nullptr);
    ASSERT_NE(::mkdtemp(root), nullptr);
    outside_ = outside;
    root_ = root;
    Write(outside_ + "/secret.csv", "s\n1\n");
    ASSERT_EQ(::mkdir((root_ + "/data").c_str(), 0755), 0);
    Write(root_ + "/data/a.csv", "x\n1\n");
    Write(root_ + "/data/b.csv", "x\n2\n");
    Write(root_ + "/data/c.json", "{}");
    Write(root_ + "/top.csv", "x\n3\n");
    ASSERT_EQ(::symlink((outside_ + "/secret.csv").c_str(), (root_ + "/link.csv").c_str()), 0);
    ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/out").c_str()), 0);
    ASSERT_EQ(::symlink((root_ + "/top.csv").c_str(), (root_ + "/data/inner.csv").c_str()), 0);
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf '", root_, "' '", outside_, "'").c_str()); }
  static void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  std::vector<std::string> Names(const FilesDir& dir, const std::string& path) {
    auto found = dir.Match(path, "filepaths[0]");
    EXPECT_TRUE(found.ok()) << path << ": " << found.status();
    std::vector<std::string> names;
    if (found.ok()) {
      for (const FoundFile& f : *found) names.push_back(f.name);
    }
    return names;
  }
  std::string Refused(const FilesDir& dir, const std::string& path) {
    auto found = dir.Match(path, "filepaths[0]");
    EXPECT_FALSE(found.ok()) << path << " was served";
    return std::string(found.status().message());
  }

  std::string root_, outside_;
};

TEST_F(FilesDirTest, MatchesFilesDirectoriesAndPatterns) {
  const FilesDir dir(root_);
  EXPECT_EQ(Names(dir, "top.csv"), (std::vector<std::string>{"top.csv"}));
  EXPECT_EQ(Names(dir, "data/a.csv"), (std::vector<std::string>{"data/a.csv"}));
  EXPECT_EQ(Names(dir, "data"),
            (std::vector<std::string>{"data/a.csv", "data/b.csv", "data/c.json", "data/inner.csv"}));
  EXPECT_EQ(Names(dir, "data/*.csv"), (std::vector<std::string>{"data/a.csv", "data/b.csv", "data/inner.csv"}));
  EXPECT_EQ(Names(dir, root_ + "/data/b.csv"), (std::vector<std::string>{"data/b.csv"}));
  auto found = dir.Match("data/a.csv", "f");
  ASSERT_TRUE(found.ok());
  auto input = dir.Map(found->front());
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ(std::string(input->bytes), "x\n1\n");
  EXPECT_TRUE(dir.IsDirectory("data"));
  EXPECT_FALSE(dir.IsDirectory("top.csv"));
  EXPECT_FALSE(dir.IsDirectory("out"));
}

TEST_F(FilesDirTest, RefusesPathsOutsideTheDirectory) {
  const FilesDir dir(root_);
  EXPECT_EQ(Refused(dir, "../x.csv"), "filepaths[0]: '../x.csv': '..' is not allowed in a path");
  EXPECT_EQ(Refused(dir, "data/../../etc/passwd"),
            "filepaths[0]: 'data/../../etc/passwd': '..' is not allowed in a path");
  EXPECT_EQ(Refused(dir, "/etc/passwd"), "filepaths[0]: '/etc/passwd' is outside the server's files directory");
  EXPECT_EQ(Refused(dir, outside_ + "/secret.csv"),
            absl::StrCat("filepaths[0]: '", outside_, "/secret.csv' is outside the server's files directory"));
  EXPECT_EQ(Refused(dir, "link.csv"), "filepaths[0]: 'link.csv' leads outside the server's files directory");
  EXPECT_EQ(Refused(dir, "out/secret.csv"),
            "filepaths[0]: 'out/secret.csv' leads outside the server's files directory");
  EXPECT_EQ(Refused(dir, "out"), "filepaths[0]: 'out' leads outside the server's files directory");
  EXPECT_EQ(Refused(dir, "kifs://data/a.csv"),
            "filepaths[0]: 'kifs://data/a.csv': only paths under the server's --files-dir are served (no KiFS, no data "
            "sources)");
  EXPECT_EQ(Refused(dir, "nope.csv"), "filepaths[0]: 'nope.csv' does not exist");
  EXPECT_EQ(Refused(dir, "data/*.parquet"), "filepaths[0]: no files match 'data/*.parquet'");
  EXPECT_EQ(Refused(dir, ""), "filepaths[0]: the path is empty");
  EXPECT_EQ(dir.Match("nope.csv", "f").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dir.Match("../x", "f").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FilesDirTest, WithoutADirectoryNothingIsServed) {
  const FilesDir none("");
  EXPECT_FALSE(none.enabled());
  auto found = none.Match("top.csv", "filepaths[0]");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(found.status().message(),
            "filepaths[0]: this server reads and writes no files: start it with --files-dir=DIR to serve the files "
            "under DIR");
  EXPECT_EQ(none.Create("x.csv", false, "filepath").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FilesDirTest, CreatesFilesInside) {
  const FilesDir dir(root_);
  auto created = dir.Create("data/new.csv", false, "filepath");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->name, "data/new.csv");
  ASSERT_EQ(::write(created->fd, "hi", 2), 2);
  ::close(created->fd);
  auto again = dir.Create("data/new.csv", false, "filepath");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "filepath: 'data/new.csv' exists (options.single_file=overwrite replaces it)");
  auto replaced = dir.Create("data/new.csv", true, "filepath");
  ASSERT_TRUE(replaced.ok());
  ::close(replaced->fd);
  EXPECT_EQ(dir.Create("link.csv", true, "filepath").status().message(),
            "filepath: 'link.csv' is a symbolic link; not written");
  EXPECT_EQ(dir.Create("out/x.csv", false, "filepath").status().message(),
            "filepath: 'out/x.csv' leads outside the server's files directory");
  EXPECT_EQ(dir.Create("nodir/x.csv", false, "filepath").status().message(),
            "filepath: the directory of 'nodir/x.csv' does not exist");
  EXPECT_EQ(dir.Create("../x.csv", false, "filepath").status().message(),
            "filepath: '../x.csv': '..' is not allowed in a path");
}

}  // namespace
}  // namespace engine::io
