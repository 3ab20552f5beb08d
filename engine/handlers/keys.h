#pragma once

// Primary keys: rows of a table never share a primary key (its primary_key
// columns, compared as group-by keys compare; nulls are equal values here).
// Inserts and updates check it with hash joins on each part's device.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/handlers/handler.h"
#include "engine/table/table.h"
#include "kernels/column.h"

namespace engine {

// The columns of `type` with the primary_key property, in type order; empty
// when it has none.
std::vector<int> PrimaryKey(const TableType& type);

// What an insert does with a record whose primary key the table holds
// already (or an earlier record of the same insert holds): fail naming it
// (the default), skip it (ignore_existing_pk: the table's row, or the first
// such record, stays), or replace the table's row with it
// (update_on_existing_pk: the last such record wins).
enum class ExistingKey { kError, kIgnore, kUpdate };

// Inserts `rows` (one column per field of table's type, on ctx's device)
// into `table`, its primary key enforced as `policy` says; a table without
// one takes every row. Sets the rows appended and the rows updated. Errors
// name the record ("list[3]: primary key (id=5) already exists in table
// 't'"); nothing changes then. With kUpdate the updated rows and the
// appended ones are two changes in the journal.
// REQUIRES: the caller holds the table's write turn.
absl::Status InsertWithKey(JobContext& ctx, Table& table, const std::vector<kernels::ColumnView>& rows,
                           ExistingKey policy, int64_t* inserted, int64_t* updated);

// Checks that updating rows `updated` (ascending; values[i] their new
// values of column columns[i], which include every key column; on
// part_ctx's device) of `part` keeps its primary key `key` unique. Two
// updated rows given one key fail (InvalidArgument naming new_values_maps
// and the key); so does an updated row given the key of a row not updated,
// unless `replace`: the rows of `part` that then go (ascending).
absl::StatusOr<std::vector<int64_t>> CheckUpdatedKeys(JobContext& part_ctx, const Table& part,
                                                      const std::vector<int>& key, const kernels::Buffer& updated,
                                                      const std::vector<int>& columns,
                                                      const std::vector<kernels::Column>& values, bool replace);

}  // namespace engine
