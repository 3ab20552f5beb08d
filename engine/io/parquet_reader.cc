// Parquet, read by Arrow's Parquet reader in record batches (columns decoded
// in parallel), only the columns the table takes. A new table takes the
// file's types as they are (int64 stays long, strings stay string); a column
// is nullable when the file's statistics count nulls in it (or do not say).

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "arrow/io/memory.h"
#include "engine/io/arrow_columns.h"
#include "engine/io/cells.h"
#include "engine/io/formats.h"
#include "parquet/arrow/reader.h"
#include "parquet/exception.h"
#include "parquet/file_reader.h"
#include "parquet/metadata.h"
#include "parquet/statistics.h"

namespace engine::io::detail {
namespace {

constexpr int64_t kPermille = 1000;

// Whether column `leaf` may hold nulls, by the row groups' statistics.
bool MayHaveNulls(const parquet::FileMetaData& metadata, int leaf, bool field_nullable) {
  if (!field_nullable) return false;
  for (int g = 0; g < metadata.num_row_groups(); ++g) {
    auto chunk = metadata.RowGroup(g)->ColumnChunk(leaf);
    auto stats = chunk->statistics();
    if (stats == nullptr || !stats->HasNullCount()) return true;
    if (stats->null_count() > 0) return true;
  }
  return false;
}

// Row `row` of a batch's columns, as text: what a bad record shows.
std::string RowText(const std::vector<std::shared_ptr<arrow::Array>>& columns, int64_t row) {
  std::vector<std::string> fields;
  for (const auto& column : columns) {
    auto scalar = column->GetScalar(row);
    fields.push_back(!scalar.ok() || !(*scalar)->is_valid ? "null" : (*scalar)->ToString());
  }
  return absl::StrJoin(fields, ",");
}

absl::Status ReadParquetOrThrow(const Input& input, const ReadOptions& options, const Progress& progress,
                                Records* out) {
  auto fail = [&](const arrow::Status& st) { return FromArrow(st, options.source_name); };
  auto file = std::make_shared<arrow::io::BufferReader>(std::make_shared<arrow::Buffer>(
      reinterpret_cast<const uint8_t*>(input.bytes.data()), static_cast<int64_t>(input.bytes.size())));
  auto opened = parquet::arrow::OpenFile(file, arrow::default_memory_pool());
  if (!opened.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.source_name, ": not a Parquet file: ", opened.status().message()));
  }
  std::unique_ptr<parquet::arrow::FileReader> reader = *std::move(opened);
  reader->set_use_threads(true);
  // Decoded a million rows at a time (columns in parallel): batch_size is
  // the grain of Kinetica's inserts, too fine for decoding.
  reader->set_batch_size(std::max<int64_t>(options.batch_size, int64_t{1} << 20));
  std::shared_ptr<arrow::Schema> schema;
  if (arrow::Status st = reader->GetSchema(&schema); !st.ok()) return fail(st);
  SourceColumns source;
  for (const auto& field : schema->fields()) source.names.push_back(field->name());
  const auto metadata = reader->parquet_reader()->metadata();

  std::vector<int> map;
  if (!out->has_type) {
    auto chosen = NewTableColumns(source, options);
    if (!chosen.ok()) return chosen.status();
    Json compact = Json::array();
    for (int i : *chosen) {
      const auto& field = schema->field(i);
      auto empty = arrow::MakeEmptyArray(field->type());
      if (!empty.ok()) return fail(empty.status());
      auto entry = InferColumn(field->name(), arrow::ChunkedArray(*empty), /*size_strings=*/false,
                               /*narrow_integers=*/false);
      if (!entry.ok())
        return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": ", entry.status().message()));
      if (MayHaveNulls(*metadata, i, field->nullable()) && entry->size() == 2) entry->push_back("nullable");
      compact.push_back(*entry);
    }
    if (absl::Status s = SetType(compact, options, out); !s.ok()) return s;
    map = *chosen;
  } else {
    auto mapped = MapColumns(source, out->type, options);
    if (!mapped.ok()) return mapped.status();
    map = *mapped;
  }

  // Read only the columns that feed the table, each once.
  std::vector<int> read;
  for (int s : map) {
    if (s >= 0 && std::find(read.begin(), read.end(), s) == read.end()) read.push_back(s);
  }
  if (read.empty()) return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": no columns to load"));
  std::vector<int> groups(reader->num_row_groups());
  for (int g = 0; g < reader->num_row_groups(); ++g) groups[g] = g;
  auto batches = reader->GetRecordBatchReader(groups, read);
  if (!batches.ok()) return fail(batches.status());
  // The footer's row count is the file's claim, not a fact (a corrupt one
  // may be negative, or billions in a few bytes): room for at most
  // kClaimedRowsReserved rows up front; columns grow past them as rows come.
  constexpr int64_t kClaimedRowsReserved = int64_t{1} << 20;
  const int64_t total = metadata->num_rows();
  const int64_t base = out->rows;
  ReserveRows(std::min(RowsToTake(total, options.max_records, 0), kClaimedRowsReserved), {}, &out->columns);
  Rejects rejects(options, out);
  int64_t first_row = 0;  // of the batch, in the file
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    if (arrow::Status st = (*batches)->ReadNext(&batch); !st.ok()) return fail(st);
    if (batch == nullptr) break;
    const int64_t rows = RowsToTake(batch->num_rows(), options.max_records, out->rows - base);
    if (rows <= 0) break;
    const auto sources = BatchSources(
        *batch, map, [&](int s) { return static_cast<int>(std::find(read.begin(), read.end(), s) - read.begin()); },
        rows);
    const int64_t before = out->columns[0].size;
    auto problems = AppendBatch(sources, rows, out->type, options.truncate_strings, &out->columns);
    if (!problems.ok())
      return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": ", problems.status().message()));
    for (const RowProblem& p : *problems) {
      if (absl::Status s = rejects.Reject("record", first_row + p.row + 1, RowText(batch->columns(), p.row), p.error);
          !s.ok()) {
        return s;
      }
    }
    out->rows += out->columns[0].size - before;
    first_row += batch->num_rows();
    if (absl::Status s = progress(first_row * kPermille / std::max<int64_t>(total, 1), kPermille); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadParquet(const Input& input, const ReadOptions& options, const Progress& progress, Records* out) {
  // Parts of the Parquet API (the metadata's accessors) throw on a corrupt
  // file rather than return a status.
  try {
    return ReadParquetOrThrow(input, options, progress, out);
  } catch (const parquet::ParquetException& e) {
    return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": not a valid Parquet file: ", e.what()));
  }
}

}  // namespace engine::io::detail
