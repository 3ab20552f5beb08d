#pragma once

// Segment files: one table's rows at a checkpoint, written once and never
// changed. Layout: the file header ("GPUDBSEG", format.h); the chunks, each
// up to 4 MiB of one blob of the rows (format.h's AddRows) compressed with
// snappy; then the footer: the description (CBOR: the rows' layout, each
// blob's size and its chunks' places, lengths and XXH3 checksums), its
// length (uint64) and its checksum (uint64). Chunks are compressed and
// decompressed on every core.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/api/json.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"
#include "kernels/column.h"

namespace engine::storage {

// Writes the rows of `views` (a table of `type`, on exec's device) to a new
// file at `path` and syncs it. Returns the bytes written. Errors name the
// file and the problem.
absl::StatusOr<uint64_t> WriteSegment(const std::string& path, const TableType& type,
                                      const std::vector<kernels::ColumnView>& views, const kernels::Exec& exec);

// Reads a segment of a table of `type` into `columns` (MakeHostColumns(type),
// empty). DataLoss naming the file for a torn or damaged file; its header's
// errors (CheckFileHeader).
absl::Status ReadSegment(const std::string& path, const TableType& type, std::vector<HostColumn>* columns);

// Runs fn(0..n-1) on every core.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

}  // namespace engine::storage
