#include "engine/storage/segment.h"

#include <fcntl.h>
#include <snappy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/storage/format.h"
#include "engine/storage/file.h"
#include "kernels/memory.h"

namespace engine::storage {
namespace {

constexpr absl::string_view kSegmentMagic = "GPUDBSEG";
constexpr size_t kChunkBytes = size_t{4} << 20;
constexpr size_t kFooterBytes = 16;

absl::Status Damaged(absl::string_view path, absl::string_view problem) {
  return absl::DataLossError(absl::StrCat("segment file ", path, " is damaged: ", problem));
}

// One chunk of a blob: blob index, its offset in the blob and its length.
struct Chunk {
  size_t blob;
  size_t at, bytes;
};

std::vector<Chunk> Chunks(const std::vector<absl::string_view>& blobs) {
  std::vector<Chunk> out;
  for (size_t b = 0; b < blobs.size(); ++b) {
    for (size_t at = 0; at < blobs[b].size(); at += kChunkBytes) {
      out.push_back(Chunk{b, at, std::min(kChunkBytes, blobs[b].size() - at)});
    }
  }
  return out;
}

}  // namespace

void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& t : pool) t.join();
}

absl::StatusOr<uint64_t> WriteSegment(const std::string& path, const TableType& type,
                                      const std::vector<kernels::ColumnView>& views, const kernels::Exec& exec) {
  Pieces rows;
  const Json columns = AddRows(type, views, exec, &rows);
  const std::vector<absl::string_view>& blobs = rows.parts();
  const std::vector<Chunk> chunks = Chunks(blobs);

  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(errno, "create", path);
  auto fail = [&](int err, absl::string_view what) {
    ::close(fd);
    ::unlink(path.c_str());
    return IoError(err, what, path);
  };
  uint64_t offset = 0;
  const std::string header = FileHeader(kSegmentMagic);
  if (int err = WriteAt(fd, {header}, 0); err != 0) return fail(err, "write");
  offset = header.size();

  Json blob_meta = Json::array();
  for (absl::string_view b : blobs) blob_meta.push_back(Json{{"bytes", b.size()}, {"chunks", Json::array()}});
  // Compress a wave of chunks on every core, then write it in order.
  const size_t wave = 8 * std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> compressed(wave);
  for (size_t first = 0; first < chunks.size(); first += wave) {
    const size_t n = std::min(wave, chunks.size() - first);
    ParallelFor(n, [&](size_t i) {
      const Chunk& c = chunks[first + i];
      compressed[i].clear();
      snappy::Compress(blobs[c.blob].data() + c.at, c.bytes, &compressed[i]);
    });
    std::vector<absl::string_view> parts;
    for (size_t i = 0; i < n; ++i) {
      const Chunk& c = chunks[first + i];
      blob_meta[c.blob]["chunks"].push_back(
          Json::array({offset, compressed[i].size(), c.bytes, Checksum(compressed[i])}));
      offset += compressed[i].size();
      parts.push_back(compressed[i]);
    }
    if (int err = WriteAt(fd, parts, offset - [&] {
          size_t t = 0;
          for (absl::string_view p : parts) t += p.size();
          return t;
        }());
        err != 0) {
      return fail(err, "write");
    }
  }
  const std::vector<uint8_t> meta = Json::to_cbor(Json{{"columns", columns}, {"blobs", blob_meta}});
  std::string footer(meta.begin(), meta.end());
  footer.resize(meta.size() + kFooterBytes);
  PutU64(meta.size(), footer.data() + meta.size());
  PutU64(Checksum(absl::string_view(reinterpret_cast<const char*>(meta.data()), meta.size())),
         footer.data() + meta.size() + 8);
  if (int err = WriteAt(fd, {footer}, offset); err != 0) return fail(err, "write");
  offset += footer.size();
  if (::fsync(fd) != 0) return fail(errno, "sync");
  ::close(fd);
  return offset;
}

absl::Status ReadSegment(const std::string& path, const TableType& type, std::vector<HostColumn>* columns) {
  auto read = ReadWholeFile(path);
  if (!read.ok()) return read.status();
  const std::string& file = *read;
  if (absl::Status s = CheckFileHeader(file, kSegmentMagic, path); !s.ok()) return s;
  if (file.size() < kFileHeaderBytes + kFooterBytes) return Damaged(path, "shorter than its footer");
  const uint64_t meta_bytes = GetU64(file.data() + file.size() - kFooterBytes);
  if (meta_bytes > file.size() - kFileHeaderBytes - kFooterBytes) return Damaged(path, "footer length out of range");
  const absl::string_view meta_view(file.data() + file.size() - kFooterBytes - meta_bytes, meta_bytes);
  if (Checksum(meta_view) != GetU64(file.data() + file.size() - 8)) return Damaged(path, "footer checksum mismatch");
  const Json meta = Json::from_cbor(meta_view, true, false);
  if (meta.is_discarded() || !meta.contains("columns") || !meta.contains("blobs")) {
    return Damaged(path, "footer is not valid");
  }
  const uint64_t chunk_end = file.size() - kFooterBytes - meta_bytes;

  // Each blob's place: the column buffer it fills (its layout as AddRows
  // wrote it: values or characters, then offsets, then validity).
  std::vector<char*> targets;
  std::vector<uint64_t> target_bytes;
  std::vector<std::vector<uint8_t>> discarded;  // validity of a column without nulls
  const Json& layout = meta["columns"];
  if (!layout.is_array() || layout.size() != columns->size()) return Damaged(path, "columns do not match the table");
  try {
    for (size_t c = 0; c < columns->size(); ++c) {
      HostColumn& col = (*columns)[c];
      const int64_t n = layout[c].at("rows").get<int64_t>();
      const bool validity = layout[c].value("validity", false);
      const size_t b = targets.size();
      const size_t blobs = 1 + (col.type == kernels::PhysType::kVarChars) + validity;
      if (n < 0 || b + blobs > meta["blobs"].size()) return Damaged(path, "a column's blobs are missing");
      auto size_of = [&](size_t i) { return meta["blobs"][b + i].at("bytes").get<uint64_t>(); };
      const uint64_t values = size_of(0);
      if (col.type != kernels::PhysType::kVarChars &&
          values != static_cast<uint64_t>(n) * kernels::ValueWidth(col.type, col.width)) {
        return Damaged(path, "a column's values do not match its rows");
      }
      col.data.resize(values);
      targets.push_back(col.data.data());
      target_bytes.push_back(values);
      if (col.type == kernels::PhysType::kVarChars) {
        if (size_of(1) != static_cast<uint64_t>(n + 1) * sizeof(int64_t)) return Damaged(path, "offsets of the wrong size");
        col.offsets.resize(n + 1);
        targets.push_back(reinterpret_cast<char*>(col.offsets.data()));
        target_bytes.push_back(size_of(1));
      }
      if (validity) {
        if (size_of(blobs - 1) != static_cast<uint64_t>(n)) return Damaged(path, "validity of the wrong size");
        std::vector<uint8_t>* v = &col.validity;
        if (!col.nullable) v = &discarded.emplace_back();
        v->resize(n);
        targets.push_back(reinterpret_cast<char*>(v->data()));
        target_bytes.push_back(n);
      } else if (col.nullable) {
        col.validity.assign(n, 1);
      }
      col.size = n;
    }
  } catch (const std::exception& e) {
    return Damaged(path, "footer is not valid");
  }
  if (targets.size() != meta["blobs"].size()) return Damaged(path, "blobs left over");

  // Every chunk decompressed straight into its place, on every core.
  struct Job {
    char* out;
    uint64_t offset, bytes, raw, sum;
  };
  std::vector<Job> jobs;
  try {
    for (size_t b = 0; b < targets.size(); ++b) {
      uint64_t at = 0;
      for (const Json& c : meta["blobs"][b].at("chunks")) {
        Job j{targets[b] + at, c.at(0).get<uint64_t>(), c.at(1).get<uint64_t>(), c.at(2).get<uint64_t>(),
              c.at(3).get<uint64_t>()};
        if (j.offset < kFileHeaderBytes || j.offset > chunk_end || j.bytes > chunk_end - j.offset ||
            j.raw > kChunkBytes || at + j.raw > target_bytes[b]) {
          return Damaged(path, "a chunk out of range");
        }
        at += j.raw;
        jobs.push_back(j);
      }
      if (at != target_bytes[b]) return Damaged(path, "a blob's chunks do not add up to its size");
    }
  } catch (const std::exception& e) {
    return Damaged(path, "footer is not valid");
  }
  std::atomic<bool> bad{false};
  ParallelFor(jobs.size(), [&](size_t i) {
    const Job& j = jobs[i];
    const char* src = file.data() + j.offset;
    size_t length = 0;
    if (Checksum(absl::string_view(src, j.bytes)) != j.sum || !snappy::GetUncompressedLength(src, j.bytes, &length) ||
        length != j.raw || !snappy::RawUncompress(src, j.bytes, j.out)) {
      bad = true;
    }
  });
  if (bad) return Damaged(path, "a chunk checksum mismatch");
  for (const HostColumn& col : *columns) {
    if (col.type != kernels::PhysType::kVarChars) continue;
    const std::vector<int64_t>& o = col.offsets;
    if (o.empty() || o[0] != 0 || o.back() != static_cast<int64_t>(col.data.size())) {
      return Damaged(path, "string offsets do not match the characters");
    }
    for (size_t i = 1; i < o.size(); ++i) {
      if (o[i] < o[i - 1]) return Damaged(path, "string offsets decrease");
    }
  }
  return absl::OkStatus();
}

}  // namespace engine::storage
