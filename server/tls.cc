#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace server {
namespace {

absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// OpenSSL's last error, as text.
std::string SslError() {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace

absl::StatusOr<TlsOptions> ReadTlsFiles(const std::string& cert, const std::string& key, const std::string& client_ca) {
  TlsOptions out;
  if (cert.empty() && key.empty() && client_ca.empty()) return out;
  if (cert.empty() || key.empty()) return absl::InvalidArgumentError("--tls-cert and --tls-key: give both");
  auto c = ReadFile("--tls-cert", cert);
  if (!c.ok()) return c.status();
  auto k = ReadFile("--tls-key", key);
  if (!k.ok()) return k.status();
  out.cert_pem = *std::move(c);
  out.key_pem = *std::move(k);
  if (!client_ca.empty()) {
    auto ca = ReadFile("--tls-client-ca", client_ca);
    if (!ca.ok()) return ca.status();
    out.client_ca_pem = *std::move(ca);
  }
  // Checked here, so that a bad file fails at start with its flag's name.
  auto context = TlsContext::Create(out);
  if (!context.ok()) return context.status();
  return out;
}

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("TLS: ", SslError()));
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // The chain: the certificate, then any intermediates after it.
  BIO* bio = BIO_new_mem_buf(options.cert_pem.data(), static_cast<int>(options.cert_pem.size()));
  X509* leaf = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  while (ok) {
    X509* more = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (more == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, more) != 1) {
      X509_free(more);
      ok = false;
    }
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the chain reads as an error
  if (!ok) return absl::InvalidArgumentError("--tls-cert: not a PEM certificate");
  bio = BIO_new_mem_buf(options.key_pem.data(), static_cast<int>(options.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("--tls-key: not a PEM private key (", SslError(), ")"));
  ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (!ok) return absl::InvalidArgumentError("--tls-key: does not match the certificate of --tls-cert");
  if (!options.client_ca_pem.empty()) {
    bio = BIO_new_mem_buf(options.client_ca_pem.data(), static_cast<int>(options.client_ca_pem.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int loaded = 0;
    while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      loaded += X509_STORE_add_cert(store, ca) == 1;
      X509_free(ca);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (loaded == 0) return absl::InvalidArgumentError("--tls-client-ca: no PEM certificate in it");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::Accept(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return nullptr;
  }
  return ssl;
}

}  // namespace server
