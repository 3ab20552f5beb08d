#include "engine/handlers.h"

namespace engine {
namespace {

const std::map<std::string, Handler, std::less<>>& Handlers() {
  static const auto* handlers = [] {
    auto* map = new std::map<std::string, Handler, std::less<>>();
    AddTableHandlers(map);
    AddRecordHandlers(map);
    AddQueryHandlers(map);
    AddAggregateHandlers(map);
    return map;
  }();
  return *handlers;
}

}  // namespace

const Handler* FindHandler(absl::string_view endpoint) {
  auto it = Handlers().find(endpoint);
  return it == Handlers().end() ? nullptr : &it->second;
}

std::vector<std::string> ServedEndpoints() {
  std::vector<std::string> out;
  for (const auto& [name, handler] : Handlers()) out.push_back(name);
  return out;
}

}  // namespace engine
