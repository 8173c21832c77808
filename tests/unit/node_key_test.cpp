// node_key: Ed25519 sign/verify, and the key file's creation (mode 0600
// whatever the umask) and the refusals on load.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "messages/errc.hpp"
#include "runtime/identity/node_key.hpp"

namespace colony::identity::node_key_test {
namespace {

/// A fresh directory under /tmp, removed with its contents at the end.
class scratch_dir {
public:
  scratch_dir() {
    char name[] = "/tmp/colony_node_key_XXXXXX";
    if (::mkdtemp(name) != nullptr)
      path_ = name;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream{path, std::ios::binary} << text;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

std::string flip_bit(std::string x, size_t bit) {
  x[bit / 8] = static_cast<char>(x[bit / 8] ^ (1 << (bit % 8)));
  return x;
}

std::string error_text(const caf::expected<node_key>& key) {
  return key ? std::string{} : describe(key.error());
}

TEST(NodeKeyTest, SignatureVerifiesUnderItsPublicKey) {
  auto key = node_key::generate();
  auto sig = key.sign("hello");
  EXPECT_EQ(key.public_key().size(), 32u);
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(node_key::verify(key.public_key(), "hello", sig));
  EXPECT_TRUE(node_key::verify(key.public_key(), "", key.sign("")));
  EXPECT_EQ(key.fingerprint().size(), 16u);
  EXPECT_EQ(key.fingerprint().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(NodeKeyTest, TwoGeneratedKeysDifferAndDoNotVerifyEachOther) {
  auto a = node_key::generate();
  auto b = node_key::generate();
  EXPECT_NE(a.public_key(), b.public_key());
  EXPECT_FALSE(node_key::verify(b.public_key(), "m", a.sign("m")));
}

TEST(NodeKeyTest, FlippedBitInMessageSignatureOrKeyFailsVerify) {
  auto key = node_key::generate();
  std::string msg = "a DHT record";
  auto sig = key.sign(msg);
  auto pub = key.public_key();
  for (size_t bit = 0; bit < msg.size() * 8; ++bit)
    EXPECT_FALSE(node_key::verify(pub, flip_bit(msg, bit), sig)) << "message bit " << bit;
  for (size_t bit = 0; bit < sig.size() * 8; ++bit)
    EXPECT_FALSE(node_key::verify(pub, msg, flip_bit(sig, bit))) << "signature bit " << bit;
  for (size_t bit = 0; bit < pub.size() * 8; ++bit)
    EXPECT_FALSE(node_key::verify(flip_bit(pub, bit), msg, sig)) << "key bit " << bit;
}

TEST(NodeKeyTest, WrongSizesFailVerify) {
  auto key = node_key::generate();
  auto sig = key.sign("m");
  auto pub = key.public_key();
  EXPECT_FALSE(node_key::verify(pub.substr(0, 31), "m", sig));
  EXPECT_FALSE(node_key::verify(pub + "x", "m", sig));
  EXPECT_FALSE(node_key::verify(pub, "m", sig.substr(0, 63)));
  EXPECT_FALSE(node_key::verify(pub, "m", sig + "x"));
  EXPECT_FALSE(node_key::verify("", "m", ""));
  EXPECT_FALSE(node_key::verify(std::string(32, '\0'), "m", std::string(64, '\0')));
}

TEST(NodeKeyTest, CreatesKeyFileOfMode0600EvenWithUmaskZero) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("node.key");
  auto old_mask = ::umask(0);
  auto key = node_key::load_or_create(path);
  ::umask(old_mask);
  ASSERT_TRUE(key) << describe(key.error());
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(NodeKeyTest, LoadingAgainGivesTheSameKey) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("node.key");
  auto created = node_key::load_or_create(path);
  ASSERT_TRUE(created) << describe(created.error());
  auto loaded = node_key::load_or_create(path);
  ASSERT_TRUE(loaded) << describe(loaded.error());
  EXPECT_EQ(loaded->public_key(), created->public_key());
  EXPECT_EQ(loaded->fingerprint(), created->fingerprint());
  EXPECT_TRUE(node_key::verify(created->public_key(), "m", loaded->sign("m")));
}

TEST(NodeKeyTest, KeyFileReadableByOthersIsRefusedNamingThePath) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("node.key");
  ASSERT_TRUE(node_key::load_or_create(path));
  ::chmod(path.c_str(), 0644);
  auto key = node_key::load_or_create(path);
  ASSERT_FALSE(key);
  EXPECT_EQ(code_of(key.error()), errc::bad_config);
  EXPECT_NE(error_text(key).find(path), std::string::npos) << error_text(key);
  EXPECT_NE(error_text(key).find("0644"), std::string::npos) << error_text(key);
  EXPECT_NE(error_text(key).find("chmod 600"), std::string::npos) << error_text(key);
}

TEST(NodeKeyTest, GarbageKeyFileIsRefused) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  for (std::string text : {std::string{}, std::string{"garbage\n"}, std::string(4096, '\xff'),
                           std::string{"-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                       "-----END PRIVATE KEY-----\n"}}) {
    auto path = dir.file("garbage.key");
    write_file(path, text, 0600);
    auto key = node_key::load_or_create(path);
    ASSERT_FALSE(key);
    EXPECT_EQ(code_of(key.error()), errc::bad_config) << error_text(key);
    EXPECT_NE(error_text(key).find(path), std::string::npos) << error_text(key);
  }
}

TEST(NodeKeyTest, KeyFileOver64KiBIsRefused) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("big.key");
  write_file(path, std::string(64 * 1024 + 1, 'a'), 0600);
  auto key = node_key::load_or_create(path);
  ASSERT_FALSE(key);
  EXPECT_EQ(code_of(key.error()), errc::bad_config) << error_text(key);
}

TEST(NodeKeyTest, NonEd25519KeyIsRefused) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("ec.key");
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  FILE* out = std::fopen(path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  PEM_write_PrivateKey(out, ec, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  EVP_PKEY_free(ec);
  ::chmod(path.c_str(), 0600);
  auto key = node_key::load_or_create(path);
  ASSERT_FALSE(key);
  EXPECT_EQ(code_of(key.error()), errc::bad_config) << error_text(key);
  EXPECT_NE(error_text(key).find("Ed25519"), std::string::npos) << error_text(key);
}

TEST(NodeKeyTest, PathInMissingDirectoryGivesIoFailed) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto path = dir.file("missing/node.key");
  auto key = node_key::load_or_create(path);
  ASSERT_FALSE(key);
  EXPECT_EQ(code_of(key.error()), errc::io_failed) << error_text(key);
  EXPECT_NE(error_text(key).find(path), std::string::npos) << error_text(key);
}

TEST(NodeKeyTest, DirectoryOrSymlinkPathIsRefused) {
  scratch_dir dir;
  ASSERT_TRUE(dir.ok());
  auto sub = dir.file("sub");
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  auto key = node_key::load_or_create(sub);
  ASSERT_FALSE(key);
  EXPECT_EQ(code_of(key.error()), errc::bad_config) << error_text(key);
  auto target = dir.file("node.key");
  ASSERT_TRUE(node_key::load_or_create(target));
  auto link = dir.file("link.key");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto via_link = node_key::load_or_create(link);
  ASSERT_FALSE(via_link);
  EXPECT_EQ(code_of(via_link.error()), errc::bad_config) << error_text(via_link);
}

} // namespace
} // namespace colony::identity::node_key_test
