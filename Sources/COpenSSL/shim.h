#ifndef HERD_COPENSSL_SHIM_H
#define HERD_COPENSSL_SHIM_H

// The system OpenSSL (libssl-dev), for TLSTransport. Only what Swift cannot call directly is wrapped here:
// OpenSSL's function-like macros (and the one variadic key generator) become small static inline functions.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/bn.h>

// MARK: SSL_CTX and SSL settings (macros over SSL_CTX_ctrl / SSL_ctrl)

static inline int herd_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int herd_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long herd_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long herd_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

/// No renegotiation, no compression, the server's cipher order: the options every herd context wants.
/// (The SSL_OP_ constants are built with a function-like macro, which Swift does not import.)
static inline void herd_SSL_CTX_set_herd_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

static inline int herd_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

// MARK: Memory BIOs

static inline long herd_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

static inline int herd_BIO_pending(BIO *bio) {
    return BIO_pending(bio);
}

// MARK: Certificates

/// A fresh EC key on the named curve (EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen).
static inline EVP_PKEY *herd_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}

static inline int herd_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}

static inline const GENERAL_NAME *herd_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}

/// The dNSName of a subjectAltName entry, or NULL when the entry is of another kind (the union in between is
/// awkward from Swift).
static inline const ASN1_IA5STRING *herd_GENERAL_NAME_get0_dns(const GENERAL_NAME *name) {
    return name->type == GEN_DNS ? name->d.dNSName : NULL;
}

static inline void herd_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}

#endif
