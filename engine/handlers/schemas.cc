// /create/schema, /show/schema, /has/schema, /drop/schema.

#include "engine/handlers/registry.h"

namespace engine {

void AddSchemaHandlers(HandlerMap*) {}

}  // namespace engine
