#pragma once

// The command line of this project's binaries (gpudb-engine, gpudb-bench).

#include <cstddef>

#include "absl/strings/string_view.h"

namespace server {

// Parses argv into the binary's absl flags. Flags may be written with dashes
// or underscores (--grpc-port or --grpc_port); --help lists the flags that
// `main_file` (the binary's main source, e.g. "server/main.cc") defines,
// after `usage`. Also turns off absl::Mutex deadlock detection, which
// Debian's Abseil leaves on: a lock-graph update on every Lock, gRPC's locks
// included (about a third of the server's instructions per RPC); tests keep
// it.
void ParseCommandLine(int argc, char** argv, absl::string_view main_file, const char* usage);

// Parses a size: "1024", "64K", "512M", "8G", "1T" (a trailing B allowed,
// any case) into bytes. False when `text` is not one.
bool ParseBytes(absl::string_view text, size_t* bytes);

}  // namespace server
