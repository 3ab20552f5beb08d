// /insert/records/frompayload, /insert/records/fromfiles,
// /export/records/tofiles in a build without Apache Arrow (GPUDB_ARROW=OFF):
// each answers that this build cannot load or export (loading.cc is the
// real one).

#include "absl/strings/str_cat.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"

namespace engine {
namespace {

absl::StatusOr<Json> Unavailable(JobContext&, const Json& request) {
  return absl::FailedPreconditionError(absl::StrCat(
      "table_name: '", StringField(request, "table_name"),
      "': this server was built without Apache Arrow (GPUDB_ARROW=OFF), so it cannot load or export files"));
}

}  // namespace

void AddLoadingHandlers(HandlerMap* handlers) {
  for (const char* endpoint : {"/insert/records/frompayload", "/insert/records/fromfiles", "/export/records/tofiles"}) {
    (*handlers)[endpoint] = Handler{false, WriteTableAccess, Unavailable};
  }
}

}  // namespace engine
