#pragma once

// What a job declares it touches: a table (or view, or type) name, read or
// written. The scheduler orders jobs per name by these (scheduler.h).

#include <string>

namespace engine {

struct Access {
  std::string name;
  bool write = false;
};

}  // namespace engine
