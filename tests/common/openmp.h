#pragma once

// OpenMP's threads as tests see them: the members of the calling thread's
// team (the threads a host device's kernels run on), and whether one has
// ended. Include from targets built with OpenMP (the kernels library's
// users are).

#include <omp.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "tests/common/sync.h"

namespace gpudb_test {

// ThreadSanitizer does not see libgomp's barriers and critical sections
// (libgomp is not instrumented), so tests of OpenMP teams skip under it
// (scripts/sanitize.sh thread runs every kernel on one thread).
#if defined(__SANITIZE_THREAD__) || defined(GPUDB_TSAN)
inline constexpr bool kUnderThreadSanitizer = true;
#else
inline constexpr bool kUnderThreadSanitizer = false;
#endif

// The thread ids of the calling thread's OpenMP team but its own, from a
// parallel region of omp_get_max_threads() threads.
inline std::set<pid_t> OpenMpTeamThreads() {
  std::set<pid_t> ids;
#pragma omp parallel
  {
    const pid_t id = static_cast<pid_t>(syscall(SYS_gettid));
#pragma omp critical
    if (omp_get_thread_num() != 0) ids.insert(id);
  }
  return ids;
}

// Whether thread `id` of this process ends (waits for it: a thread let go
// leaves on its own after the call that let it go returns).
inline bool ThreadEnds(pid_t id) {
  const std::string path = "/proc/self/task/" + std::to_string(id);
  return PollUntil([&] { return !std::filesystem::exists(path); });
}

}  // namespace gpudb_test
