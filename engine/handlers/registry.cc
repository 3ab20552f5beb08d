#include "engine/handlers/registry.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/container/flat_hash_map.h"

namespace engine {
namespace {

struct Registry {
  HandlerMap handlers;
  std::vector<Endpoint> endpoints;
  absl::flat_hash_map<absl::string_view, const Endpoint*> by_name;  // into `endpoints`
};

const Registry& GetRegistry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    AddAdminHandlers(&r->handlers);
    AddTableHandlers(&r->handlers);
    AddRecordHandlers(&r->handlers);
    AddChangeHandlers(&r->handlers);
    AddDerivedHandlers(&r->handlers);
    AddAlterHandlers(&r->handlers);
#if GPUDB_SQL
    AddSqlHandlers(&r->handlers);
#endif
    AddFilterHandlers(&r->handlers);
    AddStatisticsHandlers(&r->handlers);
    AddAggregateHandlers(&r->handlers);
    AddSchemaHandlers(&r->handlers);
    AddLoadingHandlers(&r->handlers);
    for (const EndpointSchema& schema : AllEndpointSchemas()) {
      auto it = r->handlers.find(schema.endpoint);
      r->endpoints.push_back(
          Endpoint{schema.endpoint, schema.request, schema.response, it == r->handlers.end() ? nullptr : &it->second});
    }
    for (const Endpoint& e : r->endpoints) r->by_name.emplace(e.name, &e);
    // A handler for an endpoint the API does not define is a bug.
    for (const auto& [name, handler] : r->handlers) {
      if (FindEndpointSchema(name) == nullptr) {
        std::fprintf(stderr, "engine/handlers: a handler for '%s', which the API does not define\n", name.c_str());
        std::abort();
      }
    }
    return r;
  }();
  return *registry;
}

}  // namespace

const Endpoint* FindEndpoint(absl::string_view name) {
  const auto& by_name = GetRegistry().by_name;
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

const std::vector<Endpoint>& AllEndpoints() { return GetRegistry().endpoints; }

}  // namespace engine
