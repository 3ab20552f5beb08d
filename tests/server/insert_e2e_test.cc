// Binary /insert/records end to end, on every way in: HTTP (Avro, snappy,
// JSON), gRPC (protobuf, snappy) and gRPC jobs, through a real server. The
// transports decode `list` as a packed byte list and the handler decodes
// its records in chunks (engine/table/record_codec.h); these tests check
// what a client sees: every row back exactly as sent, in order; a bad record
// deep in a long list named by its index and column, with nothing inserted;
// JSON records through the binary transports; charN truncation; and an insert
// over the device's memory limit failing alone.

#include <httplib.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/api/json.h"
#include "engine/api/schema.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/avro_codec.h"
#include "server/server.h"
#include "tests/common/avro.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;
using engine::Json;
using gpudb_test::Contains;
using gpudb_test::Long;
using gpudb_test::PutBytes;
using gpudb_test::PutDouble;
using gpudb_test::PutLong;
using gpudb_test::Snappy;
using gpudb_test::Str;

// id long, x double (nullable), n int8, s string (nullable), c char8, b bytes.
constexpr char kType[] =
    R"([["id","long"],["x","double","nullable"],["n","int8"],["s","string","nullable"],["c","char8"],["b","bytes"]])";

// `rows` random records of kType in Avro; row r has id r.
std::vector<std::string> RandomRecords(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (int r = 0; r < rows; ++r) {
    std::string rec;
    PutLong(&rec, r);
    if (rng() % 5 == 0) {
      PutLong(&rec, 1);
    } else {
      PutLong(&rec, 0);
      PutDouble(&rec, static_cast<double>(rng() % 100000) / 7.0);
    }
    PutLong(&rec, static_cast<int64_t>(rng() % 256) - 128);
    if (rng() % 4 == 0) {
      PutLong(&rec, 1);
    } else {
      PutLong(&rec, 0);
      PutBytes(&rec, std::string(rng() % 90, static_cast<char>('a' + rng() % 26)));
    }
    PutBytes(&rec, std::string(rng() % 9, static_cast<char>('A' + rng() % 26)));
    std::string bytes(rng() % 5, '\0');
    for (char& ch : bytes) ch = static_cast<char>(rng());
    PutBytes(&rec, bytes);
    out.push_back(rec);
  }
  return out;
}

// The Avro insert_records_request of `records` into `table`.
std::string AvroInsert(const std::string& table, const std::vector<std::string>& records,
                       const std::string& options_block = Long(0)) {
  std::string body = Str(table);
  if (!records.empty()) body += Long(static_cast<int64_t>(records.size()));
  for (const std::string& r : records) body += Str(r);
  return body + Long(0) + Long(0) + Str("binary") + options_block;
}

pb::InsertRecordsRequest ProtoInsert(const std::string& table, const std::vector<std::string>& records) {
  pb::InsertRecordsRequest insert;
  insert.set_table_name(table);
  for (const std::string& r : records) insert.add_list(r);
  return insert;
}

class InsertTest : public gpudb_test::ServerTest {
 protected:
  void Start(size_t memory_limit = 0) {
    server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
    options.http_port = 0;
    options.engine.devices.memory_limit = memory_limit;
    StartServer(options);
  }

  // A POST of an insert_records_request; its HTTP status and the wrapper's
  // status, message and data (the response record: Avro, or JSON text).
  enum class Body { kAvro, kSnappy, kJson };
  struct Answer {
    int http = 0;
    std::string status, message, data;
  };
  Answer Post(const std::string& body, Body kind) {
    httplib::Client c("127.0.0.1", server_->http_port());
    c.set_read_timeout(120, 0);
    const char* type = kind == Body::kAvro     ? "application/octet-stream"
                       : kind == Body::kSnappy ? "application/x-snappy"
                                               : "application/json";
    const httplib::Result res = c.Post("/insert/records", body, type);
    Answer a;
    if (!res) {
      ADD_FAILURE() << "no answer";
      return a;
    }
    a.http = res->status;
    Json wrapper;
    if (kind == Body::kJson) {
      wrapper = Json::parse(res->body);
      engine::FromCodePoints(wrapper.value("data", ""), &a.data);
      if (wrapper.value("status", "") == "OK") a.data = wrapper.value("data_str", "");
    } else {
      auto decoded = server::AvroCodec().Decode(*engine::FindRecord("gpudb_response"), res->body);
      EXPECT_TRUE(decoded.ok()) << decoded.status();
      wrapper = *decoded;
      const auto& data = wrapper["data"].get_binary();
      a.data.assign(data.begin(), data.end());
    }
    a.status = wrapper.value("status", "");
    a.message = wrapper.value("message", "");
    return a;
  }

  void CreateTable(const std::string& table, const char* type = kType) {
    client_->Json("/create/table", {{"table_name", table}, {"type_id", type}}, "create_table_response");
  }

  int64_t Rows(const std::string& table) {
    return client_->Json("/show/table", {{"table_name", table}}, "show_table_response")["sizes"][0].get<int64_t>();
  }

  // Every record of `table`, in order, as Avro (paged /get/records).
  std::vector<std::string> ReadBack(const std::string& table) {
    std::vector<std::string> out;
    for (int64_t offset = 0;; offset += 20000) {
      pb::GetRecordsRequest get;
      get.set_table_name(table);
      get.set_offset(offset);
      get.set_limit(20000);
      get.set_encoding("binary");
      const auto page = client_->Binary<pb::GetRecordsResponse>("/get/records", get, "get_records_response");
      for (const std::string& r : page.records_binary()) out.push_back(r);
      if (!page.has_more_records()) return out;
    }
  }

  // Inserts `records` into a new table `table` one way ("http", "http-snappy",
  // "grpc", "grpc-snappy", "grpc-job"); the error message, or "" when the
  // insert succeeded with every row counted.
  std::string Insert(const std::string& way, const std::string& table, const std::vector<std::string>& records) {
    if (way == "http" || way == "http-snappy") {
      const std::string body = AvroInsert(table, records);
      const Answer a = way == "http" ? Post(body, Body::kAvro) : Post(Snappy(body), Body::kSnappy);
      if (a.status != "OK") {
        EXPECT_EQ(a.http, 400);
        return a.message;
      }
      auto response = server::AvroCodec().Decode(*engine::FindRecord("insert_records_response"), a.data);
      EXPECT_EQ((*response)["count_inserted"], static_cast<int64_t>(records.size()));
      return "";
    }
    const pb::InsertRecordsRequest insert = ProtoInsert(table, records);
    if (way == "grpc-job") {
      const auto [id, tag] = client_->SubmitBinary("/insert/records", insert);
      const pb::GetJobResponse job = client_->Wait(id);
      if (job.job_status() != "DONE") return gpudb_test::At(job.status_map(), "error_message");
      pb::InsertRecordsResponse response;
      EXPECT_TRUE(response.ParseFromString(job.job_response()));
      EXPECT_EQ(response.count_inserted(), static_cast<int64_t>(records.size()));
      return "";
    }
    const pb::GpudbResponse r =
        way == "grpc" ? client_->ExecuteBinary("/insert/records", insert) : client_->ExecuteSnappy("/insert/records", insert);
    if (r.status() != "OK") return r.message();
    pb::InsertRecordsResponse response;
    EXPECT_TRUE(response.ParseFromString(r.data()));
    EXPECT_EQ(response.count_inserted(), static_cast<int64_t>(records.size()));
    return "";
  }
};

const std::vector<std::string> kWays = {"http", "http-snappy", "grpc", "grpc-snappy", "grpc-job"};

TEST_F(InsertTest, EveryWayInsertsEveryRowAsSentInOrder) {
  Start();
  const std::vector<std::string> records = RandomRecords(45000, 7);  // three decoding chunks and a bit
  for (const std::string& way : kWays) {
    SCOPED_TRACE(way);
    const std::string table = "t_" + std::to_string(&way - kWays.data());
    CreateTable(table);
    ASSERT_EQ(Insert(way, table, records), "");
    const std::vector<std::string> back = ReadBack(table);
    ASSERT_EQ(back.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) ASSERT_EQ(back[i], records[i]) << "row " << i;
    // A second insert appends after the first.
    ASSERT_EQ(Insert(way, table, {records[5], records[6]}), "");
    EXPECT_EQ(Rows(table), 45002);
  }
}

TEST_F(InsertTest, EmptyAndOneRecordLists) {
  Start();
  const std::vector<std::string> one = RandomRecords(1, 3);
  for (const std::string& way : kWays) {
    SCOPED_TRACE(way);
    const std::string table = "e_" + std::to_string(&way - kWays.data());
    CreateTable(table);
    ASSERT_EQ(Insert(way, table, {}), "");
    EXPECT_EQ(Rows(table), 0);
    ASSERT_EQ(Insert(way, table, one), "");
    EXPECT_EQ(ReadBack(table), one);
  }
}

TEST_F(InsertTest, ABadRecordDeepInTheListIsNamedAndNothingIsInserted) {
  Start();
  std::vector<std::string> records = RandomRecords(40000, 9);
  struct Case {
    std::string record;
    std::string message;
  };
  std::string branch;  // id, then union branch 3 for x
  PutLong(&branch, 1), PutLong(&branch, 3);
  const std::vector<Case> cases = {
      {branch, "list[33333]: column 'x': union branch 3 is not 0..1"},
      {records[1].substr(0, 3), "list[33333]: column"},
      {records[1] + "zz", "list[33333]: 2 bytes left after the last column"},
      {Long(5) + Long(1) + Long(200), "list[33333]: column 'n': value 200 is out of range for int8 [-128, 127]"},
      {Long(5) + Long(1) + Long(0) + Long(1) + Str("123456789"),
       "list[33333]: column 'c': string of 9 bytes is longer than char8 allows"},
  };
  for (const Case& k : cases) {
    records[33333] = k.record;
    for (const std::string& way : kWays) {
      SCOPED_TRACE(way + ": " + k.message);
      const std::string table = "bad";
      CreateTable(table);
      EXPECT_TRUE(Contains(Insert(way, table, records), k.message)) << Insert(way, table, records);
      EXPECT_EQ(Rows(table), 0);  // all or nothing
      client_->Json("/clear/table", {{"table_name", table}}, "clear_table_response");
    }
  }
}

TEST_F(InsertTest, AnItemCutShortInTheBodyIsNamed) {
  Start();
  CreateTable("t");
  // Two records, the second's length running past the body's end.
  const std::string body = Str("t") + Long(2) + Str(RandomRecords(1, 1)[0]) + Long(1000) + "abc";
  const Answer a = Post(body, Body::kAvro);
  EXPECT_EQ(a.http, 400);
  EXPECT_TRUE(Contains(a.message, "field 'list[1]': length 1000 exceeds the 3 bytes left")) << a.message;
  EXPECT_EQ(Rows("t"), 0);
}

TEST_F(InsertTest, JsonRecordsThroughTheBinaryTransports) {
  Start();
  CreateTable("j", R"([["id","long"],["s","string","nullable"]])");
  // Avro: an empty list, the records in list_str.
  const std::string avro = Str("j") + Long(0) + Long(2) + Str(R"({"id":1,"s":"a"})") + Str(R"({"id":2})") + Long(0) +
                           Str("json") + Long(0);
  Answer a = Post(avro, Body::kAvro);
  ASSERT_EQ(a.status, "OK") << a.message;
  pb::InsertRecordsRequest insert;
  insert.set_table_name("j");
  insert.set_list_encoding("json");
  insert.add_list_str(R"({"id":3,"s":"c"})");
  const pb::GpudbResponse r = client_->ExecuteBinary("/insert/records", insert);
  ASSERT_EQ(r.status(), "OK") << r.message();
  EXPECT_EQ(Rows("j"), 3);
  // Binary records with list_encoding json are refused, on both.
  const std::string mixed =
      Str("j") + Long(1) + Str(Long(4) + Long(1)) + Long(0) + Long(0) + Str("json") + Long(0);
  a = Post(mixed, Body::kAvro);
  EXPECT_TRUE(Contains(a.message, "list: binary records given with list_encoding 'json'")) << a.message;
  insert.add_list(Long(4) + Long(1));
  EXPECT_TRUE(Contains(client_->ExecuteBinary("/insert/records", insert).message(), "list: binary records"));
  // And binary records as code-point strings in an HTTP JSON body.
  const std::string record = Long(5) + Long(0) + Str("\xff");
  const Json body = {{"table_name", "j"}, {"list", Json::array({engine::ToCodePoints(record)})}};
  a = Post(body.dump(), Body::kJson);
  ASSERT_EQ(a.status, "OK") << a.message;
  EXPECT_EQ(Rows("j"), 4);
}

TEST_F(InsertTest, TruncateStringsCutsCharNAtACharacterBoundary) {
  Start();
  CreateTable("c", R"([["c","char4"]])");
  const std::vector<std::string> records = {Str("ab\xc3\xa9x"), Str("wxyz")};
  EXPECT_TRUE(Contains(Insert("http", "c", records), "list[0]: column 'c': string of 5 bytes is longer than char4"));
  const std::string body = AvroInsert("c", records, Long(1) + Str("truncate_strings") + Str("true") + Long(0));
  const Answer a = Post(body, Body::kAvro);
  ASSERT_EQ(a.status, "OK") << a.message;
  const std::vector<std::string> back = ReadBack("c");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], Str("ab\xc3\xa9"));
  EXPECT_EQ(back[1], Str("wxyz"));
}

TEST_F(InsertTest, AnInsertOverTheMemoryLimitFailsAlone) {
  Start(size_t{8} << 20);
  CreateTable("m", R"([["id","long"]])");
  std::vector<std::string> records;
  for (int i = 0; i < 1200000; ++i) records.push_back(Long(i));  // 9.6 MB of longs do not fit in 8 MiB
  engine::Device& device = *server_->engine().devices().at(0);
  const size_t in_use = device.memory().in_use();
  for (const std::string& way : {"http", "grpc"}) {
    const std::string message = Insert(way, "m", records);
    EXPECT_TRUE(Contains(message, "memory")) << way << ": " << message;
    EXPECT_EQ(Rows("m"), 0);
    EXPECT_EQ(device.memory().in_use(), in_use);
  }
  records.resize(1000);
  ASSERT_EQ(Insert("http", "m", records), "");
  EXPECT_EQ(Rows("m"), 1000);
}

}  // namespace
