#pragma once

// Names of tables and schemas, resolved as Kinetica resolves them: a table
// is named "schema.table", or by a bare "table", which lives in the default
// schema ki_home ("t" and "ki_home.t" are one table). Tables and views of one
// schema share one namespace; a schema may have the name of a table.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/jobs/access.h"

namespace engine {

// The schema of every table named without one; it always exists.
inline constexpr absl::string_view kDefaultSchema = "ki_home";

// Checks a table or view name: 1..256 characters of letters, digits, '_', '-'
// and '.', with at most one '.', which has the schema's name before it and
// the table's after it. The error names `field`.
absl::Status ValidateTableName(absl::string_view name, absl::string_view field);

// Checks a schema name: 1..256 characters of letters, digits, '_' and '-'.
// The error names `field`.
absl::Status ValidateSchemaName(absl::string_view name, absl::string_view field);

// A table name split at its first '.': {"s", "t"} for "s.t", {"ki_home", "t"}
// for "t".
struct TableName {
  std::string schema;
  std::string table;
};
TableName SplitTableName(absl::string_view name);

// "schema.table", the default schema written out: the one name of a table.
std::string QualifiedTableName(absl::string_view name);

// The name listings and responses show: the bare name in the default schema,
// "schema.table" in any other.
std::string DisplayTableName(absl::string_view name);

// The name the scheduler orders jobs on a schema itself by (jobs/access.h):
// "~schema". No table name has a '~', and it sorts after every table name,
// so that the scheduler, which looks at a job's names in order, finds a job
// that waits for its table before it scans the schema's queue.
std::string SchemaAccessName(absl::string_view schema);

// The names the scheduler orders a job by, from those its handler declares
// (tables as the request spells them, and SchemaAccessNames): each table by
// its QualifiedTableName, so that "t" and "ki_home.t" are one name; and for a
// table outside the default schema (which is never dropped) a read of its
// schema, so that /drop/schema runs after the jobs on the schema's tables
// submitted before it, and before those submitted after it.
std::vector<Access> SchedulerAccesses(const std::vector<Access>& accesses);

}  // namespace engine
