// Delimited text. Two ways through the data, both with Arrow's CSV parser:
//
// - fast: Arrow's multithreaded table reader converts every column at once
//   (into the table's types, or inferring them), then the columns are copied
//   into host columns batch by batch. Taken when the data has no comment
//   lines; any record that cannot be stored (a malformed row, a value that
//   does not convert) abandons it.
// - record by record: Arrow's block parser reads one record at a time, so
//   that each bad record is known with its physical line; the values are
//   converted by the same value parsers. Taken after the fast way gave up, or
//   for data with comment lines.

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arrow/csv/api.h"
#include "arrow/csv/parser.h"
#include "arrow/io/memory.h"
#include "arrow/table.h"
#include "engine/io/arrow_columns.h"
#include "engine/io/cells.h"
#include "engine/io/formats.h"

namespace engine::io::detail {
namespace {

constexpr int64_t kPermille = 1000;

int64_t Newlines(absl::string_view text) { return std::count(text.begin(), text.end(), '\n'); }

// The first line of `text`, without its line break.
absl::string_view FirstLine(absl::string_view text) {
  absl::string_view line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// `text` after its first line.
absl::string_view AfterFirstLine(absl::string_view text) {
  const size_t nl = text.find('\n');
  return nl == absl::string_view::npos ? absl::string_view() : text.substr(nl + 1);
}

bool IsBlank(absl::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

bool IsComment(absl::string_view line, const TextFormat& f) {
  return !f.comment.empty() && absl::StartsWith(line, f.comment);
}

// Whether a line after the first starts with the comment string.
bool HasCommentLines(absl::string_view body, const TextFormat& f) {
  if (f.comment.empty()) return false;
  return absl::StartsWith(body, f.comment) || body.find("\n" + f.comment) != absl::string_view::npos;
}

// `body` without its comment lines (for inferring types only: a quoted value
// spanning lines is not told apart here).
std::string WithoutCommentLines(absl::string_view body, const TextFormat& f) {
  std::string out;
  out.reserve(body.size());
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const absl::string_view line = body.substr(0, nl == absl::string_view::npos ? body.size() : nl + 1);
    if (!IsComment(line, f)) out.append(line.data(), line.size());
    body.remove_prefix(line.size());
  }
  return out;
}

arrow::csv::ParseOptions ParseOptionsOf(const TextFormat& f) {
  auto po = arrow::csv::ParseOptions::Defaults();
  po.delimiter = f.delimiter;
  po.quoting = f.quoting;
  po.quote_char = f.quote;
  po.double_quote = true;
  po.escaping = f.escaping;
  po.escape_char = f.escape;
  po.newlines_in_values = false;  // a value with a line break at a block edge fails the fast way
  po.ignore_empty_lines = true;
  return po;
}

// One record's fields, as Arrow's block parser reads them.
struct Record {
  std::vector<absl::string_view> values;  // valid while the parser lives
  std::vector<bool> quoted;
  absl::string_view raw;  // the record's text, line breaks trimmed
  int64_t line = 0;       // its first physical line
};

// Reads the first record of `*text` (skipping blank lines before it),
// advancing `*text` and `*line` past it. False at the end of the text.
absl::StatusOr<bool> NextRecord(std::optional<arrow::csv::BlockParser>* parser, const arrow::csv::ParseOptions& po,
                                absl::string_view* text, int64_t* line, Record* record) {
  parser->emplace(arrow::default_memory_pool(), po, /*num_cols=*/-1, /*first_row=*/-1, /*max_num_rows=*/1);
  const absl::string_view window = text->substr(0, std::min<size_t>(text->size(), uint32_t{1} << 31));
  uint32_t consumed = 0;
  const std::string_view arrow_window(window.data(), window.size());
  arrow::Status st = (*parser)->Parse(arrow_window, &consumed);
  if (st.ok() && (*parser)->num_rows() == 0) st = (*parser)->ParseFinal(arrow_window, &consumed);
  if (!st.ok()) return FromArrow(st, "");
  if (consumed == 0) return false;
  absl::string_view chunk = window.substr(0, consumed);
  size_t lead = 0;
  while (lead < chunk.size() && (chunk[lead] == '\n' || chunk[lead] == '\r')) ++lead;
  record->line = *line + Newlines(chunk.substr(0, lead));
  *line += Newlines(chunk);
  text->remove_prefix(consumed);
  record->raw = chunk.substr(lead);
  while (!record->raw.empty() && (record->raw.back() == '\n' || record->raw.back() == '\r')) {
    record->raw.remove_suffix(1);
  }
  record->values.clear();
  record->quoted.clear();
  if ((*parser)->num_rows() == 0) return true;  // blank lines only
  st = (*parser)->VisitLastRow([&](const uint8_t* data, uint32_t size, bool quoted, bool /*missing*/) {
    record->values.emplace_back(reinterpret_cast<const char*>(data), size);
    record->quoted.push_back(quoted);
    return arrow::Status::OK();
  });
  if (!st.ok()) return FromArrow(st, "");
  return true;
}

// The value of one field for column `def`: an unquoted null string is null;
// an unquoted empty field is null, but "" in a non-nullable string column.
absl::StatusOr<Cell> FieldCell(const ColumnDef& def, absl::string_view value, bool quoted, const ReadOptions& options) {
  if (!quoted && value == options.text.null_string) return NullCell(def);
  if (!quoted && value.empty() && !(def.is_string() && !def.nullable)) return NullCell(def);
  return ParseCell(def, value, options.truncate_strings);
}

// An input stream over the bytes that reports how far Arrow has read; a
// progress error stops the read.
class ProgressStream final : public arrow::io::InputStream {
 public:
  ProgressStream(absl::string_view bytes, std::function<absl::Status(int64_t, int64_t)> report)
      : reader_(std::make_shared<arrow::io::BufferReader>(std::make_shared<arrow::Buffer>(
            reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int64_t>(bytes.size())))),
        total_(static_cast<int64_t>(bytes.size())),
        report_(std::move(report)) {}

  arrow::Status Close() override { return reader_->Close(); }
  bool closed() const override { return reader_->closed(); }
  arrow::Result<int64_t> Tell() const override { return reader_->Tell(); }
  bool supports_zero_copy() const override { return true; }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    ARROW_ASSIGN_OR_RAISE(int64_t n, reader_->Read(nbytes, out));
    ARROW_RETURN_NOT_OK(Note(n));
    return n;
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    ARROW_ASSIGN_OR_RAISE(auto buffer, reader_->Read(nbytes));
    ARROW_RETURN_NOT_OK(Note(buffer->size()));
    return buffer;
  }
  // The progress error that stopped the read, if one did.
  absl::Status stopped() const { return stopped_; }

 private:
  arrow::Status Note(int64_t n) {
    done_ += n;
    constexpr int64_t kEvery = int64_t{8} << 20;
    if (done_ - reported_ < kEvery && done_ < total_) return arrow::Status::OK();
    reported_ = done_;
    stopped_ = report_(done_, total_);
    if (!stopped_.ok()) return arrow::Status::Cancelled(std::string(stopped_.message()));
    return arrow::Status::OK();
  }

  std::shared_ptr<arrow::io::BufferReader> reader_;
  const int64_t total_;
  std::function<absl::Status(int64_t, int64_t)> report_;
  int64_t done_ = 0;
  int64_t reported_ = 0;
  absl::Status stopped_;
};

// The Arrow type the text of a column is converted to on the fast way (text
// for timestamps, which take epoch milliseconds too, read by ParseCell).
std::shared_ptr<arrow::DataType> FastType(const ColumnDef& def) {
  if (def.kind == ColumnKind::kTimestamp || def.kind == ColumnKind::kCharN) return arrow::utf8();
  return ArrowTypeOf(def);
}

// What reading the whole text at once gave.
struct FastRead {
  std::shared_ptr<arrow::Table> table;  // columns named by source index
  int64_t invalid_rows = 0;             // rows skipped for their number of fields
};

// Reads `body` (no header; `columns` fields per row) with Arrow's threaded
// CSV reader, converting the source columns of `types` (null: inferred).
// Rows with another number of fields fail the read, unless `skip_invalid`
// (counted) or padded with nulls (`pad_short`).
absl::StatusOr<FastRead> ReadAll(absl::string_view body, size_t columns,
                                 const std::map<int, std::shared_ptr<arrow::DataType>>& types,
                                 const ReadOptions& options, bool skip_invalid, bool pad_short,
                                 const std::function<absl::Status(int64_t, int64_t)>& report) {
  auto ro = arrow::csv::ReadOptions::Defaults();
  ro.use_threads = true;
  ro.block_size = 4 << 20;
  for (size_t i = 0; i < columns; ++i) ro.column_names.push_back(absl::StrCat(i));
  auto po = ParseOptionsOf(options.text);
  po.pad_short_rows = pad_short;
  auto invalid = std::make_shared<std::atomic<int64_t>>(0);
  po.invalid_row_handler = [skip_invalid, invalid](const arrow::csv::InvalidRow&) {
    if (!skip_invalid) return arrow::csv::InvalidRowResult::Error;
    invalid->fetch_add(1);
    return arrow::csv::InvalidRowResult::Skip;
  };
  if (IsBlank(body)) {  // no rows: columns of nothing
    std::vector<std::shared_ptr<arrow::Field>> fields;
    std::vector<std::shared_ptr<arrow::Array>> arrays;
    for (const auto& [source, type] : types) {
      fields.push_back(arrow::field(absl::StrCat(source), type != nullptr ? type : arrow::null()));
      auto empty = arrow::MakeEmptyArray(fields.back()->type());
      if (!empty.ok()) return FromArrow(empty.status(), "");
      arrays.push_back(*empty);
    }
    return FastRead{arrow::Table::Make(arrow::schema(fields), arrays, 0), 0};
  }
  auto co = arrow::csv::ConvertOptions::Defaults();
  co.null_values = {options.text.null_string, ""};
  co.strings_can_be_null = true;
  co.quoted_strings_can_be_null = false;
  co.true_values = {"1", "true", "True", "TRUE"};
  co.false_values = {"0", "false", "False", "FALSE"};
  for (const auto& [source, type] : types) {
    co.include_columns.push_back(absl::StrCat(source));
    if (type != nullptr) co.column_types[absl::StrCat(source)] = type;
  }
  auto stream = std::make_shared<ProgressStream>(body, report);
  auto reader = arrow::csv::TableReader::Make(arrow::io::default_io_context(), stream, ro, po, co);
  if (!reader.ok()) return FromArrow(reader.status(), "");
  auto table = (*reader)->Read();
  if (!stream->stopped().ok()) return stream->stopped();
  if (!table.ok()) return FromArrow(table.status(), "");
  return FastRead{*std::move(table), invalid->load()};
}

// Copies the rows of a fast read into out's columns. False (and out as it
// was) when a row cannot be stored.
absl::StatusOr<bool> CopyRows(const arrow::Table& table, const std::vector<int>& map, const ReadOptions& options,
                              const Progress& progress, Records* out) {
  const int64_t base = out->rows;
  std::vector<int64_t> text_bytes;
  for (int source : map) {
    text_bytes.push_back(source < 0 ? 0 : TextBytes(*table.GetColumnByName(absl::StrCat(source))));
  }
  ReserveRows(RowsToTake(table.num_rows(), options.max_records, 0), text_bytes, &out->columns);
  arrow::TableBatchReader reader(table);
  reader.set_chunksize(std::max<int64_t>(options.batch_size, 1));
  int64_t done = 0;
  std::shared_ptr<arrow::RecordBatch> batch;
  while (true) {
    if (arrow::Status st = reader.ReadNext(&batch); !st.ok()) return FromArrow(st, options.source_name);
    if (batch == nullptr) break;
    const int64_t rows = RowsToTake(batch->num_rows(), options.max_records, out->rows - base);
    if (rows <= 0) break;
    const auto sources = BatchSources(
        *batch, map, [&](int source) { return batch->schema()->GetFieldIndex(absl::StrCat(source)); }, rows);
    auto problems = AppendBatch(sources, rows, out->type, options.truncate_strings, &out->columns);
    if (!problems.ok()) return problems.status();
    if (!problems->empty()) {
      TruncateRows(&out->columns, base);
      out->rows = base;
      return false;
    }
    out->rows += rows;
    done += batch->num_rows();
    if (absl::Status s = progress(800 + 200 * done / std::max<int64_t>(table.num_rows(), 1), kPermille); !s.ok()) {
      return s;
    }
  }
  return true;
}

// Reads `body` record by record into out's columns.
absl::Status ReadByRecord(absl::string_view body, int64_t line, size_t columns, const std::vector<int>& map,
                          const ReadOptions& options, const Progress& progress, Records* out) {
  const auto po = ParseOptionsOf(options.text);
  const TableType& type = out->type;
  Rejects rejects(options, out);
  std::optional<arrow::csv::BlockParser> parser;
  Record record;
  std::vector<Cell> cells(type.size());
  const int64_t total = static_cast<int64_t>(body.size());
  const int64_t base = out->rows;
  int64_t since_report = 0;
  absl::string_view rest = body;
  while (!rest.empty()) {
    if (options.max_records >= 0 && out->rows - base >= options.max_records) break;
    auto more = NextRecord(&parser, po, &rest, &line, &record);
    if (!more.ok()) {
      // What is left does not parse as a record (an unclosed quote).
      const absl::string_view left = rest.substr(0, std::min<size_t>(rest.size(), 200));
      return rejects.Reject("line", line, std::string(FirstLine(left)), std::string(more.status().message()));
    }
    if (!*more) break;
    if (record.values.empty() || IsComment(record.raw, options.text)) continue;
    std::string error;
    const size_t fields = record.values.size();
    if (fields != columns && !(fields < columns && options.on_error == OnError::kPermissive)) {
      error = absl::StrCat("has ", fields, " fields, expected ", columns);
    }
    for (size_t c = 0; c < type.size() && error.empty(); ++c) {
      const ColumnDef& def = type.column(c);
      const int source = map[c];
      absl::StatusOr<Cell> cell = source < 0 || static_cast<size_t>(source) >= fields
                                      ? NullCell(def)
                                      : FieldCell(def, record.values[source], record.quoted[source], options);
      if (cell.ok())
        cells[c] = *cell;
      else
        error = absl::StrCat("column '", def.name, "': ", cell.status().message());
    }
    if (!error.empty()) {
      if (absl::Status s = rejects.Reject("line", record.line, std::string(record.raw), error); !s.ok()) return s;
      continue;
    }
    for (size_t c = 0; c < type.size(); ++c) AppendCell(type.column(c), cells[c], &out->columns[c]);
    ++out->rows;
    if (++since_report >= options.batch_size) {
      since_report = 0;
      const int64_t done = total - static_cast<int64_t>(rest.size());
      if (absl::Status s = progress(done * kPermille / std::max<int64_t>(total, 1), kPermille); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// A header field: its name, and the column it declares ("name|type|prop")
// when it has the property delimiter.
struct HeaderField {
  std::string name;
  Json declared;  // null when the field declares no type
};

HeaderField ParseHeaderField(absl::string_view field, char delimiter) {
  HeaderField out;
  std::vector<std::string> parts = absl::StrSplit(field, delimiter);
  for (std::string& p : parts) p = std::string(absl::StripAsciiWhitespace(p));
  out.name = parts[0];
  if (parts.size() >= 2) out.declared = Json(parts);
  return out;
}

}  // namespace

absl::Status ReadDelimited(const Input& input, const ReadOptions& options, const Progress& progress, Records* out) {
  const TextFormat& f = options.text;
  absl::string_view data = input.bytes;
  if (absl::StartsWith(data, "\xEF\xBB\xBF")) data.remove_prefix(3);  // a UTF-8 byte order mark
  int64_t line = 1;                                                   // the physical line data starts at
  for (int64_t i = 0; i < f.skip_lines && !data.empty(); ++i, ++line) data = AfterFirstLine(data);
  while (!data.empty() && (IsBlank(FirstLine(data)) || IsComment(FirstLine(data), f))) {
    data = AfterFirstLine(data);
    ++line;
  }
  if (data.empty()) {
    if (!out->has_type) return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": no data"));
    return absl::OkStatus();
  }

  // The first record: the header, or the first row (for the number of fields).
  const auto po = ParseOptionsOf(f);
  std::optional<arrow::csv::BlockParser> parser;
  Record first;
  absl::string_view body = data;
  int64_t body_line = line;
  auto parsed = NextRecord(&parser, po, &body, &body_line, &first);
  if (!parsed.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(options.source_name, ": line ", line, ": ", parsed.status().message()));
  SourceColumns source;
  std::vector<HeaderField> header;
  if (f.has_header) {
    for (absl::string_view v : first.values) header.push_back(ParseHeaderField(v, f.header_property_delimiter));
    for (const HeaderField& h : header) source.names.push_back(h.name);
  } else {
    source.named = false;
    source.names.assign(first.values.size(), "");
    body = data;  // the first record is data
    body_line = line;
  }
  const size_t columns = source.count();
  const bool comments = HasCommentLines(body, f);
  auto report_read = [&](int64_t done, int64_t total) {
    return progress(800 * done / std::max<int64_t>(total, 1), kPermille);
  };

  // The table's type: given, declared by the header, or inferred.
  std::shared_ptr<arrow::Table> inferred;  // the data, read to infer the type
  std::vector<int> chosen;
  if (!out->has_type) {
    auto selected = NewTableColumns(source, options);
    if (!selected.ok()) return selected.status();
    chosen = *selected;
    Json declared = Json::array();
    for (int i : chosen) {
      if (!header.empty() && !header[i].declared.is_null()) declared.push_back(header[i].declared);
    }
    if (!declared.empty() && declared.size() == chosen.size()) {
      if (absl::Status s = SetType(declared, options, out); !s.ok()) return s;
    } else {
      std::map<int, std::shared_ptr<arrow::DataType>> types;
      for (int i : chosen) types[i] = nullptr;
      const std::string filtered = comments ? WithoutCommentLines(body, f) : std::string();
      auto read = ReadAll(comments ? absl::string_view(filtered) : body, columns, types, options,
                          /*skip_invalid=*/true, options.on_error == OnError::kPermissive, report_read);
      if (!read.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": ", read.status().message()));
      }
      Json compact = Json::array();
      for (int i : chosen) {
        auto entry = InferColumn(NewColumnName(source, i), *read->table->GetColumnByName(absl::StrCat(i)),
                                 /*size_strings=*/true, /*narrow_integers=*/true);
        if (!entry.ok())
          return absl::InvalidArgumentError(absl::StrCat(options.source_name, ": ", entry.status().message()));
        compact.push_back(*entry);
      }
      if (absl::Status s = SetType(compact, options, out); !s.ok()) return s;
      if (read->invalid_rows == 0 && !comments) inferred = read->table;
    }
  }
  std::vector<int> map;
  if (!chosen.empty()) {
    map = chosen;  // a new table: its columns are the chosen ones, in order
  } else {
    auto mapped = MapColumns(source, out->type, options);
    if (!mapped.ok()) return mapped.status();
    map = *mapped;
  }

  if (!comments) {
    std::shared_ptr<arrow::Table> table = inferred;
    if (table == nullptr) {
      std::map<int, std::shared_ptr<arrow::DataType>> types;
      for (size_t c = 0; c < map.size(); ++c) {
        if (map[c] < 0) continue;
        auto type = FastType(out->type.column(c));
        auto [it, added] = types.emplace(map[c], type);
        if (!added && !it->second->Equals(*type)) it->second = arrow::utf8();  // one source, two types
      }
      auto read = ReadAll(body, columns, types, options, /*skip_invalid=*/false,
                          options.on_error == OnError::kPermissive, report_read);
      if (!read.ok() && !absl::IsInvalidArgument(read.status())) return read.status();
      if (read.ok()) table = read->table;
    }
    if (table != nullptr) {
      auto copied = CopyRows(*table, map, options, progress, out);
      if (!copied.ok() || *copied) return copied.status();
    }
  }
  return ReadByRecord(body, body_line, columns, map, options, progress, out);
}

}  // namespace engine::io::detail
