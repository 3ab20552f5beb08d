#pragma once

// The endpoints of the API (api/schema.h), each with the handler that runs
// it as a job. Looked up once per call: a transport finds the endpoint, reads
// the request with its schema and submits it with its handler.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/api/schema.h"
#include "engine/handlers/handler.h"

namespace engine {

struct Endpoint {
  std::string name;            // "/filter"
  const TypeSchema* request;   // its request record
  const TypeSchema* response;  // its response record
  // Null when the engine does not run it as a job: /create/job and /get/job
  // (the job API answers them) and endpoints of the API not served here.
  const Handler* handler;
};

// The endpoint named `name` ("/filter"), or null when the API has none.
const Endpoint* FindEndpoint(absl::string_view name);
// Every endpoint of the API, in the spec's order.
const std::vector<Endpoint>& AllEndpoints();

// The handlers of each family, by endpoint name (one file each).
using HandlerMap = std::map<std::string, Handler, std::less<>>;
void AddAdminHandlers(HandlerMap* handlers);
void AddTableHandlers(HandlerMap* handlers);
void AddRecordHandlers(HandlerMap* handlers);
void AddChangeHandlers(HandlerMap* handlers);
void AddDerivedHandlers(HandlerMap* handlers);
void AddAlterHandlers(HandlerMap* handlers);
void AddSqlHandlers(HandlerMap* handlers);  // in builds with SQL (GPUDB_SQL)
void AddFilterHandlers(HandlerMap* handlers);
void AddStatisticsHandlers(HandlerMap* handlers);
void AddAggregateHandlers(HandlerMap* handlers);
void AddSchemaHandlers(HandlerMap* handlers);
void AddLoadingHandlers(HandlerMap* handlers);

}  // namespace engine
