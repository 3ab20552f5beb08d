// /insert/records/frompayload, /insert/records/fromfiles, /export/records/tofiles.

#include "engine/handlers/registry.h"

namespace engine {

void AddLoadingHandlers(HandlerMap*) {}

}  // namespace engine
