#include "runtime/identity/node_key.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "messages/errc.hpp"

namespace colony::identity {

namespace {

using node_key_md_ctx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using node_key_bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using node_key_public = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

/// `s` as OpenSSL input; never null, even for an empty view.
const unsigned char* node_key_bytes(std::string_view s) {
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

std::shared_ptr<EVP_PKEY> node_key_own(EVP_PKEY* pkey) {
  return std::shared_ptr<EVP_PKEY>{pkey, EVP_PKEY_free};
}

caf::error key_file_io_error(const char* what, const std::string& path) {
  return make_error(errc::io_failed,
                    std::string{what} + " key file " + path + ": " + std::strerror(errno));
}

caf::error key_file_config_error(const std::string& path, const std::string& why) {
  return make_error(errc::bad_config, "key file " + path + " " + why);
}

/// Refuses anything but a small regular file that only its owner may access.
caf::error key_file_check(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode))
    return key_file_config_error(path, "is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    auto how = (st.st_mode & 044) != 0 ? "readable" : "accessible";
    return key_file_config_error(path, std::string{"is "} + how + " by others (mode " + mode
                                         + "): chmod 600 " + path);
  }
  if (static_cast<unsigned long long>(st.st_size) > node_key::max_file_size)
    return key_file_config_error(path, "is larger than 64 KiB (" + std::to_string(st.st_size)
                                         + " bytes)");
  return {};
}

/// Reads the file at `path`, re-checking the opened file (no symlink, no
/// FIFO, no growth past the limit between lstat and open).
caf::expected<std::string> key_file_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return key_file_io_error("cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    auto err = key_file_io_error("cannot stat", path);
    ::close(fd);
    return err;
  }
  if (auto err = key_file_check(st, path)) {
    ::close(fd);
    return err;
  }
  std::string text(node_key::max_file_size + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    auto n = ::read(fd, &text[got], text.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      auto err = key_file_io_error("cannot read", path);
      ::close(fd);
      return err;
    }
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > node_key::max_file_size)
    return key_file_config_error(path, "is larger than 64 KiB");
  text.resize(got);
  return text;
}

/// Refuses encrypted PEM instead of prompting on the terminal.
int key_file_no_password(char*, int, int, void*) {
  return -1;
}

caf::expected<std::shared_ptr<EVP_PKEY>> key_file_parse(const std::string& pem,
                                                         const std::string& path) {
  node_key_bio bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, key_file_no_password, nullptr)
                      : nullptr;
  ERR_clear_error();
  if (raw == nullptr)
    return key_file_config_error(path, "does not hold an unencrypted PEM private key");
  auto pkey = node_key_own(raw);
  if (EVP_PKEY_get_id(raw) != EVP_PKEY_ED25519)
    return key_file_config_error(path, "does not hold an Ed25519 key");
  return pkey;
}

std::string key_file_pem(EVP_PKEY* pkey) {
  node_key_bio bio{BIO_new(BIO_s_mem()), BIO_free};
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("node_key: cannot encode a private key as PEM");
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(size));
  OPENSSL_cleanse(data, static_cast<size_t>(size));
  return pem;
}

bool key_file_write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

/// Creates `path` with mode 0600 (never wider, whatever the umask), writes
/// `pem` and fsyncs; a half-written file is removed.
caf::error key_file_create(const std::string& path, const std::string& pem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return key_file_io_error("cannot create", path);
  bool ok = ::fchmod(fd, 0600) == 0 && key_file_write_all(fd, pem) && ::fsync(fd) == 0;
  auto err = ok ? caf::error{} : key_file_io_error("cannot write", path);
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = key_file_io_error("cannot write", path);
  }
  if (!ok)
    ::unlink(path.c_str());
  return err;
}

} // namespace

node_key::node_key(std::shared_ptr<evp_pkey_st> pkey) : pkey_(std::move(pkey)) {
  public_key_.resize(public_key_size);
  size_t size = public_key_size;
  auto* out = reinterpret_cast<unsigned char*>(&public_key_[0]);
  if (EVP_PKEY_get_raw_public_key(pkey_.get(), out, &size) != 1 || size != public_key_size)
    throw std::runtime_error("node_key: cannot read the raw public key");
}

node_key node_key::generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr)
    throw std::runtime_error("node_key: cannot generate an Ed25519 key");
  return node_key{node_key_own(raw)};
}

caf::expected<node_key> node_key::load_or_create(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return key_file_io_error("cannot stat", path);
    auto key = generate();
    auto pem = key_file_pem(key.pkey_.get());
    auto err = key_file_create(path, pem);
    OPENSSL_cleanse(&pem[0], pem.size());
    if (err)
      return err;
    return key;
  }
  if (auto err = key_file_check(st, path))
    return err;
  auto pem = key_file_read(path);
  if (!pem)
    return pem.error();
  auto pkey = key_file_parse(*pem, path);
  OPENSSL_cleanse(&(*pem)[0], pem->size());
  if (!pkey)
    return pkey.error();
  return node_key{std::move(*pkey)};
}

std::string node_key::sign(std::string_view message) const {
  node_key_md_ctx ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  std::string signature(signature_size, '\0');
  size_t size = signature_size;
  auto* out = reinterpret_cast<unsigned char*>(&signature[0]);
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1
      || EVP_DigestSign(ctx.get(), out, &size, node_key_bytes(message), message.size()) != 1
      || size != signature_size)
    throw std::runtime_error("node_key: Ed25519 signing failed");
  return signature;
}

bool node_key::verify(std::string_view public_key, std::string_view message,
                      std::string_view signature) noexcept {
  if (public_key.size() != public_key_size || signature.size() != signature_size)
    return false;
  node_key_public pkey{EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                   node_key_bytes(public_key), public_key.size()),
                       EVP_PKEY_free};
  node_key_md_ctx ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  bool ok = pkey && ctx
            && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1
            && EVP_DigestVerify(ctx.get(), node_key_bytes(signature), signature.size(),
                                node_key_bytes(message), message.size())
                 == 1;
  if (!ok)
    ERR_clear_error();
  return ok;
}

std::string node_key::fingerprint() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < 8; ++i) {
    auto byte = static_cast<unsigned char>(public_key_[i]);
    hex += digits[byte >> 4];
    hex += digits[byte & 0xf];
  }
  return hex;
}

} // namespace colony::identity
