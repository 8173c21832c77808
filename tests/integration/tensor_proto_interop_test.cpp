// Colony's wire bytes against an independent protobuf implementation:
// Python's (Debian python3-protobuf), with a module that protoc generates at
// test time from messages/colony/v1/tensor.proto. Colony encodes (via
// `colony tensor encode`) and Python decodes, and the other way round
// (Python builds the message, `colony tensor decode` reads it). Covers
// float32, float16, bfloat16, int64, bool and both compressions.
// Needs /usr/bin/python3 with google.protobuf and protoc: deploy/setup.sh
// installs them; without them the tests fail (they do not skip).
#include <filesystem>
#include <sstream>

#include <torch/csrc/jit/serialization/pickle.h>

#include "tests/integration/integration_support.hpp"

namespace colony::it {
namespace {

namespace fs = std::filesystem;

/// The repository root, from this file's path (tests/integration/...).
const fs::path source_root = fs::path{__FILE__}.parent_path().parent_path().parent_path();
const std::string python = "/usr/bin/python3"; ///< Debian's, where python3-protobuf lives

/// What the Python side decoded.
struct py_tensor {
  std::string dtype;
  std::string compression;
  std::vector<int64_t> shape;
  std::vector<double> values;
};

class TensorProtoInteropTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(python))
      << python << " is missing; run deploy/setup.sh (it installs python3-protobuf)";
    ASSERT_TRUE(fs::exists(script())) << script();
    fs::create_directories(gen_dir());
  }

  static std::string script() {
    return (source_root / "tests/tools/tensor_proto_interop.py").string();
  }
  std::string gen_dir() const { return dir_.file("gen"); }

  command_result run_py(std::vector<std::string> args) {
    args.insert(args.begin(), {python, script(), (source_root / "messages").string(), gen_dir()});
    return run_command(args, dir_, 60s);
  }

  command_result run_cli(std::vector<std::string> args) {
    args.insert(args.begin(), COLONY_CLI_BIN);
    return run_command(args, dir_);
  }

  /// `colony tensor encode` of `t`, then the Python decoder's reading.
  py_tensor colony_to_python(const torch::Tensor& t, const std::string& compression) {
    auto bytes = torch::pickle_save(t);
    write_file(dir_.file("in.pt"), std::string{bytes.begin(), bytes.end()});
    auto enc = run_cli({"tensor", "encode", "--input", dir_.file("in.pt"), "--output",
                        dir_.file("in.bin"), "--compression", compression});
    EXPECT_EQ(enc.exit_code, 0) << enc.err;
    auto r = run_py({"decode", dir_.file("in.bin")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse(r.out);
  }

  /// Python writes the message, `colony tensor decode` turns it into a tensor.
  torch::Tensor python_to_colony(std::vector<std::string> spec) {
    spec.insert(spec.begin(), {"encode", dir_.file("py.bin")});
    auto r = run_py(spec);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto dec = run_cli({"tensor", "decode", "--input", dir_.file("py.bin"), "--output",
                        dir_.file("py.pt")});
    EXPECT_EQ(dec.exit_code, 0) << dec.err;
    auto text = read_file(dir_.file("py.pt"));
    return torch::pickle_load(std::vector<char>{text.begin(), text.end()}).toTensor();
  }

  /// The bytes Colony wrote in the last colony_to_python, decoded by Colony.
  torch::Tensor colony_decoded() {
    auto t = wire::decode_tensor(read_file(dir_.file("in.bin")));
    if (!t)
      throw std::runtime_error(describe(t.error()));
    return t->clone();
  }

  static py_tensor parse(const std::string& out) {
    py_tensor p;
    for (auto& line : lines_of(out)) {
      std::istringstream in{line};
      std::string key;
      in >> key;
      if (key == "dtype")
        in >> p.dtype;
      else if (key == "compression")
        in >> p.compression;
      else if (key == "shape")
        for (int64_t d; in >> d;)
          p.shape.push_back(d);
      else if (key == "values")
        for (std::string v; in >> v;)
          p.values.push_back(std::stod(v));
    }
    return p;
  }

  /// The values of `t` as doubles (row-major).
  static std::vector<double> values_of(const torch::Tensor& t) {
    auto d = t.to(torch::kDouble).contiguous().flatten();
    return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
  }

  temp_dir dir_;
};

TEST_F(TensorProtoInteropTest, PythonProtobufIsInstalled) {
  auto r = run_command({python, "-c", "import google.protobuf"}, dir_);
  EXPECT_EQ(r.exit_code, 0) << "python3-protobuf missing for " << python
                            << " (deploy/setup.sh installs it): " << r.err;
}

TEST_F(TensorProtoInteropTest, PythonDecodesColonyFloat32ExactlyWithShape) {
  auto t = seeded_randn({2, 3, 4}, 81);
  auto p = colony_to_python(t, "none");
  EXPECT_EQ(p.dtype, "DTYPE_FLOAT32");
  EXPECT_EQ(p.compression, "COMPRESSION_NONE");
  EXPECT_EQ(p.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(p.values, values_of(t));
}

TEST_F(TensorProtoInteropTest, PythonDecodesColonyFloat16Int64AndBool) {
  auto h = seeded_randn({3, 2}, 82).to(torch::kHalf);
  auto p = colony_to_python(h, "none");
  EXPECT_EQ(p.dtype, "DTYPE_FLOAT16");
  EXPECT_EQ(p.values, values_of(h));
  auto i = torch::tensor(std::vector<int64_t>{-3, 0, int64_t{1} << 40, 7});
  p = colony_to_python(i, "none");
  EXPECT_EQ(p.dtype, "DTYPE_INT64");
  EXPECT_EQ(p.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(p.values, values_of(i));
  auto b = torch::tensor({true, false, true});
  p = colony_to_python(b, "none");
  EXPECT_EQ(p.dtype, "DTYPE_BOOL");
  EXPECT_EQ(p.values, values_of(b));
}

TEST_F(TensorProtoInteropTest, PythonDecodesColonyFloat16CompressionLikeColony) {
  auto t = seeded_randn({4, 5}, 83);
  auto p = colony_to_python(t, "float16");
  EXPECT_EQ(p.dtype, "DTYPE_FLOAT32");
  EXPECT_EQ(p.compression, "COMPRESSION_FLOAT16");
  EXPECT_EQ(p.values, values_of(t.to(torch::kHalf)));
  EXPECT_EQ(p.values, values_of(colony_decoded()));
}

TEST_F(TensorProtoInteropTest, PythonDecodesColonyUint8CompressionLikeColony) {
  auto t = seeded_randn({6, 7}, 84);
  auto p = colony_to_python(t, "uint8");
  EXPECT_EQ(p.compression, "COMPRESSION_UINT8");
  EXPECT_EQ(p.shape, (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(p.values, values_of(colony_decoded()));
  auto range = (t.max() - t.min()).item<double>();
  auto v = values_of(t);
  ASSERT_EQ(p.values.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i)
    EXPECT_NEAR(p.values[i], v[i], range / 255 / 2 + 1e-6) << i;
}

TEST_F(TensorProtoInteropTest, ColonyDecodesPythonFloat32AndFloat64) {
  auto t = python_to_colony({"DTYPE_FLOAT32", "COMPRESSION_NONE", "2,3",
                             "1.5,-2.25,0,3.0e10,-1e-20,7"});
  EXPECT_EQ(t.dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(
    t, torch::tensor({1.5f, -2.25f, 0.0f, 3.0e10f, -1e-20f, 7.0f}).reshape({2, 3})));
  auto d = python_to_colony({"DTYPE_FLOAT64", "COMPRESSION_NONE", "3", "0.1,-1e300,2"});
  EXPECT_EQ(d.dtype(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(d, torch::tensor({0.1, -1e300, 2.0}, torch::kFloat64)));
}

TEST_F(TensorProtoInteropTest, ColonyDecodesPythonFloat16Bfloat16AndInt64) {
  auto h = python_to_colony({"DTYPE_FLOAT16", "COMPRESSION_NONE", "4", "0.5,-2,65504,0.1"});
  EXPECT_EQ(h.dtype(), torch::kHalf);
  EXPECT_TRUE(torch::equal(h, torch::tensor({0.5f, -2.0f, 65504.0f, 0.1f}).to(torch::kHalf)));
  auto b = python_to_colony({"DTYPE_BFLOAT16", "COMPRESSION_NONE", "1,3", "1,-0.5,256"});
  EXPECT_EQ(b.dtype(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(b.to(torch::kFloat), torch::tensor({{1.0f, -0.5f, 256.0f}})));
  auto i = python_to_colony({"DTYPE_INT64", "COMPRESSION_NONE", "2,2", "-5,0,1099511627776,9"});
  EXPECT_EQ(i.dtype(), torch::kInt64);
  EXPECT_TRUE(torch::equal(
    i, torch::tensor(std::vector<int64_t>{-5, 0, int64_t{1} << 40, 9}).reshape({2, 2})));
}

TEST_F(TensorProtoInteropTest, ColonyDecodesPythonCompressedFloat32) {
  auto h = python_to_colony({"DTYPE_FLOAT32", "COMPRESSION_FLOAT16", "3", "0.5,-1.25,1000"});
  EXPECT_EQ(h.dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(h, torch::tensor({0.5f, -1.25f, 1000.0f})));
  auto q = python_to_colony({"DTYPE_FLOAT32", "COMPRESSION_UINT8", "2,2", "0,255,51,102", "-1",
                             "4"});
  EXPECT_EQ(q.dtype(), torch::kFloat32);
  EXPECT_TRUE(near(q, torch::tensor({{-1.0f, 4.0f}, {0.0f, 1.0f}}), 1e-6));
}

} // namespace
} // namespace colony::it
