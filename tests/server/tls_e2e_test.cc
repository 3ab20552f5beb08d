// TLS on both transports (server/tls.h): a real server::Server with the test
// certificates of tests/data/tls, reached over HTTPS (httplib's SSLClient)
// and gRPC with SSL credentials; plain clients refused; with a client CA,
// only clients presenting a certificate it signed; bad certificate files
// refused at start with their flag's name.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "proto/gpudb.grpc.pb.h"
#include "server/server.h"
#include "server/tls.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;

std::string Data(const std::string& name) { return std::string(GPUDB_SOURCE_DIR) + "/tests/data/tls/" + name; }

std::string Read(const std::string& name) {
  std::ifstream in(Data(name));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<server::Server> StartTls(bool client_certificates) {
  server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
  options.grpc_port = 0;
  options.http_port = 0;
  auto tls = server::ReadTlsFiles(Data("server.pem"), Data("server.key"), client_certificates ? Data("ca.pem") : "");
  EXPECT_TRUE(tls.ok()) << tls.status();
  if (!tls.ok()) return nullptr;
  options.tls = *std::move(tls);
  auto server = server::Server::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// /has/table over gRPC on `credentials`: the gRPC status.
grpc::Status HasTable(const server::Server& server, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  auto stub = pb::Gpudb::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server.grpc_port()), credentials));
  pb::ExecuteRequest request;
  request.set_endpoint("/has/table");
  request.set_request_encoding("json");
  request.set_data_str(R"({"table_name":"t"})");
  pb::GpudbResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = stub->Execute(&context, request, &response);
  if (status.ok()) EXPECT_EQ(response.status(), "OK") << response.message();
  return status;
}

std::shared_ptr<grpc::ChannelCredentials> Ssl(bool with_client_certificate) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Read("ca.pem");
  if (with_client_certificate) {
    ssl.pem_private_key = Read("client.key");
    ssl.pem_cert_chain = Read("client.pem");
  }
  return grpc::SslCredentials(ssl);
}

// POST /has/table over HTTPS: the HTTP status, or -1 when no answer came.
int HttpsHasTable(const server::Server& server, bool with_client_certificate) {
  std::unique_ptr<httplib::SSLClient> c =
      with_client_certificate ? std::make_unique<httplib::SSLClient>("127.0.0.1", server.http_port(),
                                                                     Data("client.pem"), Data("client.key"))
                              : std::make_unique<httplib::SSLClient>("127.0.0.1", server.http_port());
  c->set_ca_cert_path(Data("ca.pem").c_str());
  c->enable_server_certificate_verification(true);
  c->set_connection_timeout(10, 0);
  auto r = c->Post("/has/table", R"({"table_name":"t"})", "application/json");
  return r ? r->status : -1;
}

TEST(TlsTest, BothTransportsSpeakTlsAndRefusePlainClients) {
  std::unique_ptr<server::Server> server = StartTls(/*client_certificates=*/false);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(HasTable(*server, Ssl(false)).ok());
  EXPECT_EQ(HttpsHasTable(*server, false), 200);
  // Many requests on one connection (keep-alive through TLS).
  httplib::SSLClient c("127.0.0.1", server->http_port());
  c.set_ca_cert_path(Data("ca.pem").c_str());
  c.enable_server_certificate_verification(true);
  c.set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    auto r = c.Post("/has/table", R"({"table_name":"t"})", "application/json");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("\"table_exists\\\":false"), std::string::npos) << r->body;
  }
  // Plain clients get nothing.
  EXPECT_FALSE(HasTable(*server, grpc::InsecureChannelCredentials()).ok());
  httplib::Client plain("127.0.0.1", server->http_port());
  plain.set_connection_timeout(10, 0);
  plain.set_read_timeout(10, 0);
  auto r = plain.Post("/has/table", R"({"table_name":"t"})", "application/json");
  EXPECT_TRUE(!r || r->status != 200);
  // Still serving.
  EXPECT_EQ(HttpsHasTable(*server, false), 200);
}

TEST(TlsTest, WithAClientCaOnlyClientsItSignedAreServed) {
  std::unique_ptr<server::Server> server = StartTls(/*client_certificates=*/true);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(HasTable(*server, Ssl(true)).ok());
  EXPECT_FALSE(HasTable(*server, Ssl(false)).ok());
  EXPECT_EQ(HttpsHasTable(*server, true), 200);
  EXPECT_EQ(HttpsHasTable(*server, false), -1);
}

TEST(TlsTest, BadFilesAreRefusedWithTheirFlag) {
  EXPECT_EQ(server::ReadTlsFiles(Data("server.pem"), "", "").status().message(), "--tls-cert and --tls-key: give both");
  EXPECT_EQ(server::ReadTlsFiles(Data("server.pem"), Data("nope.key"), "").status().message(),
            "--tls-key: cannot read '" + Data("nope.key") + "'");
  EXPECT_EQ(server::ReadTlsFiles(Data("server.pem"), Data("client.key"), "").status().message(),
            "--tls-key: does not match the certificate of --tls-cert");
  EXPECT_EQ(server::ReadTlsFiles(Data("server.key"), Data("server.key"), "").status().message(),
            "--tls-cert: not a PEM certificate");
  EXPECT_EQ(server::ReadTlsFiles(Data("server.pem"), Data("server.key"), Data("server.key")).status().message(),
            "--tls-client-ca: no PEM certificate in it");
  EXPECT_TRUE(server::ReadTlsFiles("", "", "").ok());
}

}  // namespace
