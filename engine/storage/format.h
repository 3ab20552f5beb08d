#pragma once

// The byte formats of a data directory (store.h): file headers, checksummed
// records, and rows of columns as a description plus raw byte blobs.
//
// Every file starts with 16 bytes: an 8-byte magic ("GPUDBLOG", "GPUDBSEG"),
// the format version (uint32, little-endian) and 4 zero bytes. A record is a
// 16-byte frame header (body length uint32, kind uint32, checksum uint64)
// and its body; the checksum is XXH3-64 (xxHash, seeded with the length)
// of the kind and the body, so a torn or damaged record is recognized. A body
// is a uint32 length, that many bytes of CBOR (the record's description,
// "blobs" listing the byte length of each blob), then the blobs.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"
#include "kernels/column.h"

namespace engine::storage {

// The version this server writes; it reads it and older ones.
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderBytes = 16;
inline constexpr size_t kFrameHeaderBytes = 16;

// Little-endian integers, as every file here stores them.
inline void PutU32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void PutU64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

std::string FileHeader(absl::string_view magic);
// OK when `bytes` starts with a header of `magic` of a version this server
// reads. FailedPrecondition naming `path` otherwise: another kind of file, a
// truncated header, or a newer format ("written by a newer server").
absl::Status CheckFileHeader(absl::string_view bytes, absl::string_view magic, absl::string_view path);

// Bytes to write in order, not joined: views into memory that must outlive
// the write, and copies this object owns.
class Pieces {
 public:
  void Add(absl::string_view bytes) { parts_.push_back(bytes); }
  // Keeps `bytes` and adds them.
  void AddCopy(std::string bytes);
  // Keeps `owner` alive as long as these pieces.
  void Keep(std::shared_ptr<void> owner) { owners_.push_back(std::move(owner)); }

  const std::vector<absl::string_view>& parts() const { return parts_; }
  size_t bytes() const;

 private:
  std::vector<absl::string_view> parts_;
  std::deque<std::string> copies_;
  std::vector<std::shared_ptr<void>> owners_;
};

// The body of a record: `meta` with "blobs" set to their lengths, then the
// blobs of `data` (whose own parts become the record's).
Pieces Body(Json meta, Pieces data);

// A parsed body: its description and its blobs (views into the body).
struct ParsedBody {
  Json meta;
  std::vector<absl::string_view> blobs;
};
absl::StatusOr<ParsedBody> ParseBody(absl::string_view body);

// The frame header of a record of `kind` with `body`.
std::string FrameHeader(uint32_t kind, const Pieces& body);

// Reads the record at the front of `*bytes`: OK with its kind and body
// (advancing `*bytes`), or DataLoss when what is there is torn (shorter than
// its frame says) or damaged (checksum mismatch).
struct Frame {
  uint32_t kind;
  absl::string_view body;
};
absl::StatusOr<Frame> NextFrame(absl::string_view* bytes);

// XXH3-64 of `bytes`.
uint64_t Checksum(absl::string_view bytes);

// The rows of `views` (one per column of `type`, on exec's device) as a
// description (one entry per column) and their bytes: host memory as is,
// device memory copied to the host first.
Json AddRows(const TableType& type, const std::vector<kernels::ColumnView>& views, const kernels::Exec& exec,
             Pieces* out);
// Appends rows described by `columns` (from AddRows) with bytes from
// blobs[*next..] to `out` (one per column of its type). InvalidArgument when
// they do not match the type or the blobs.
absl::Status AppendRows(const Json& columns, const std::vector<absl::string_view>& blobs, size_t* next,
                        std::vector<HostColumn>* out);

// A type as JSON (its Avro record schema, properties and label) and back.
Json TypeToJson(const TableType& type);
absl::StatusOr<TableType> TypeFromJson(const Json& json);

}  // namespace engine::storage
