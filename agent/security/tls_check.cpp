#include "agent/security/tls_check.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

#include "agent/security/grpc_util.h"

namespace egw {

namespace {

template <auto F>
struct Free {
  template <class T>
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;

std::string opensslError() {
  const auto e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "not PEM";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

BioPtr bioOf(const std::string& pem) { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

// The value of the first `nid` entry of the subject, or "".
std::string subjectEntry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return {};
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

std::vector<std::string> checkTlsFiles(const TlsConfig& tls, const std::string& nodeName, bool observer,
                                       std::string* orgUnit) {
  std::vector<std::string> problems;
  auto bad = [&](const char* key, const std::string& path, const std::string& what) {
    problems.push_back(std::string("tls.") + key + ": " + path + ": " + what);
  };
  auto pem = readTlsPem(tls);
  problems = std::move(pem.problems);
  const std::string &caPem = pem.ca, &certPem = pem.cert, &keyPem = pem.key;
  const bool haveCa = !caPem.empty(), haveCert = !certPem.empty(), haveKey = !keyPem.empty();

  StorePtr store(X509_STORE_new());
  int cas = 0;
  if (haveCa) {
    auto bio = bioOf(caPem);
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store.get(), c);
      X509_free(c);
      ++cas;
    }
    ERR_clear_error();  // the end of the file reads as an error
    if (cas == 0) bad("ca", tls.ca, "no PEM certificate in it");
  }
  X509Ptr cert;
  if (haveCert) {
    auto bio = bioOf(certPem);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) bad("cert", tls.cert, "not a PEM certificate (" + opensslError() + ")");
  }
  KeyPtr key;
  if (haveKey) {
    auto bio = bioOf(keyPem);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) bad("key", tls.key, "not an unencrypted PEM private key (" + opensslError() + ")");
  }
  if (!cert) return problems;

  if (key && X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    bad("key", tls.key, "does not belong to the certificate " + tls.cert);
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) bad("cert", tls.cert, "not valid yet (check the clock)");
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) bad("cert", tls.cert, "expired");
  if (cas > 0) {
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    if (X509_verify_cert(ctx.get()) != 1) {
      const int err = X509_STORE_CTX_get_error(ctx.get());
      // Expiry is reported above; anything else means this CA did not sign it.
      if (err != X509_V_ERR_CERT_HAS_EXPIRED && err != X509_V_ERR_CERT_NOT_YET_VALID)
        bad("cert", tls.cert, std::string("not signed by the CA in ") + tls.ca + " (" + X509_verify_cert_error_string(err) + ")");
    }
    ERR_clear_error();
  }
  const auto cn = subjectEntry(cert.get(), NID_commonName);
  const auto ou = subjectEntry(cert.get(), NID_organizationalUnitName);
  if (orgUnit) *orgUnit = ou;
  if (ou == "observer") {
    // The workers' shared certificate: any CN, but only for a node that neither votes nor stands.
    if (!observer)
      bad("cert", tls.cert, "its subject OU is 'observer', but " + nodeName +
                                " is a voter or a candidate, which needs a node certificate of its own "
                                "(scripts/make-certs.sh node " + nodeName + ")");
    return problems;
  }
  if (cn != nodeName)
    bad("cert", tls.cert, "its subject CN is '" + cn + "', but node.name is '" + nodeName +
                              "': peers refuse messages whose sender is not the certificate's CN");
  if (ou != "node")
    bad("cert", tls.cert, "its subject OU is '" + ou + "', not 'node': an agent needs a node certificate "
                          "(scripts/make-certs.sh node " + nodeName + ")" +
                          (observer ? " or the workers' observer certificate (scripts/make-certs.sh observer)" : ""));
  return problems;
}

}  // namespace egw
