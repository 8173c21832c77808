#include "nodes/cli/tensor_files.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/torch.h>

#include "messages/errc.hpp"
#include "messages/wire/torch_tensor.hpp"
#include "nodes/cli/pickle_appends.hpp"

namespace colony::cli {

namespace {

/// The first line of a torch exception (the rest is a C++ backtrace).
std::string first_line(const std::string& what) {
  return what.substr(0, what.find('\n'));
}

caf::expected<std::vector<char>> read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::io_failed, "cannot read '" + path + "'");
  std::vector<char> bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (in.bad())
    return make_error(errc::io_failed, "cannot read '" + path + "'");
  return bytes;
}

/// The tensors of `v`: a tensor, or a list/tuple of tensors.
caf::expected<std::vector<torch::Tensor>> tensors_of(const c10::IValue& v,
                                                     const std::string& path) {
  auto not_tensors = [&] {
    return make_error(errc::malformed_payload, "'" + path + "' holds a " + v.tagKind()
                                                 + ", want a tensor or a list of tensors");
  };
  if (v.isTensor())
    return std::vector<torch::Tensor>{v.toTensor()};
  std::vector<c10::IValue> items;
  if (v.isTensorList() || v.isList())
    items = v.toListRef().vec();
  else if (v.isTuple())
    items = v.toTupleRef().elements().vec();
  else
    return not_tensors();
  std::vector<torch::Tensor> out;
  for (auto& x : items) {
    if (!x.isTensor())
      return not_tensors();
    out.push_back(x.toTensor());
  }
  if (out.empty())
    return make_error(errc::malformed_payload, "'" + path + "' holds an empty list");
  return out;
}

bool is_zip(const std::vector<char>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == '\x03'
         && bytes[3] == '\x04';
}

/// What torch::pickle_load does for a zip archive (torch.save's format
/// since PyTorch 1.6), with the pickle program passed through
/// rewrite_single_appends first: LibTorch 1.13 cannot read the APPEND
/// opcode that Python writes for a one-item list (pickle_appends.hpp).
c10::IValue load_zip(const std::vector<char>& bytes) {
  caffe2::serialize::PyTorchStreamReader archive(
    std::make_unique<caffe2::serialize::MemoryReadAdapter>(bytes.data(),
                                                           static_cast<off_t>(bytes.size())));
  auto [data, size] = archive.getRecord("data.pkl");
  std::string program{static_cast<const char*>(data.get()), size};
  if (auto fixed = rewrite_single_appends(program))
    program = std::move(*fixed);
  size_t read = 0;
  auto reader = [&](char* buf, size_t n) -> size_t {
    n = std::min(n, program.size() - read);
    std::memcpy(buf, program.data() + read, n);
    read += n;
    return n;
  };
  auto record = [&](const std::string& name) {
    return std::get<0>(archive.getRecord("data/" + name));
  };
  torch::jit::Unpickler unpickler(reader, nullptr, nullptr, record, c10::nullopt);
  unpickler.set_version(archive.version());
  return unpickler.parse_ivalue();
}

} // namespace

caf::expected<std::vector<std::string>> read_tensor_file(const std::string& path,
                                                         wire::compression mode) {
  auto bytes = read_bytes(path);
  if (!bytes)
    return bytes.error();
  c10::IValue value;
  try {
    value = is_zip(*bytes) ? load_zip(*bytes) : torch::pickle_load(*bytes);
  } catch (const std::exception& e) {
    return make_error(errc::malformed_payload, "'" + path + "' is not a torch.save file ("
                                                 + first_line(e.what()) + ")");
  }
  auto tensors = tensors_of(value, path);
  if (!tensors)
    return tensors.error();
  std::vector<std::string> out;
  for (size_t i = 0; i < tensors->size(); ++i) {
    auto enc = wire::encode_tensor((*tensors)[i], mode);
    if (!enc)
      return make_error(code_of(enc.error()),
                        "'" + path + "' tensor " + std::to_string(i) + ": "
                          + context_of(enc.error()));
    out.push_back(std::move(*enc));
  }
  return out;
}

caf::error write_tensor_file(const std::string& path, const std::vector<std::string>& tensors) {
  std::vector<torch::Tensor> ts;
  for (auto& bytes : tensors) {
    auto t = wire::decode_tensor(bytes);
    if (!t)
      return t.error();
    ts.push_back(t->clone());
  }
  std::vector<char> data;
  try {
    data = ts.size() == 1 ? torch::pickle_save(ts[0]) : torch::pickle_save(c10::IValue(ts));
  } catch (const std::exception& e) {
    return make_error(errc::io_failed, "cannot pickle for '" + path + "' ("
                                         + first_line(e.what()) + ")");
  }
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out)
    return make_error(errc::io_failed, "cannot write '" + path + "'");
  return {};
}

} // namespace colony::cli
