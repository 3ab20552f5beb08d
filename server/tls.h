#pragma once

// TLS for both transports. gRPC takes the PEM text as its own credentials;
// HTTP connections are wrapped here with OpenSSL (Debian's libssl), which
// httplib's own TLS server would do too, but the HTTP listener reads and
// writes its connections itself (http_server.cc).

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace server {

struct TlsOptions {
  std::string cert_pem;       // the server's certificate chain; empty: no TLS
  std::string key_pem;        // its private key
  std::string client_ca_pem;  // set: clients must present a certificate this CA signed
  bool enabled() const { return !cert_pem.empty(); }
};

// Reads --tls-cert, --tls-key and --tls-client-ca (may be empty). Errors
// name the flag and the file.
absl::StatusOr<TlsOptions> ReadTlsFiles(const std::string& cert, const std::string& key, const std::string& client_ca);

// An OpenSSL server context for HTTP connections.
class TlsContext {
 public:
  // InvalidArgument when the certificate, key or CA does not load (or the
  // key does not match the certificate).
  static absl::StatusOr<std::unique_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();

  // The TLS session of an accepted socket after its handshake, or null when
  // the handshake fails (the caller closes the socket). Blocking: the
  // socket's receive timeout bounds each wait.
  SSL* Accept(int fd) const;

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* const ctx_;
};

}  // namespace server
