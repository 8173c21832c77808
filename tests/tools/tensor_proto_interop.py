#!/usr/bin/python3
"""Reads and writes colony.v1.Tensor messages with Python's protobuf, for
tests/integration/tensor_proto_interop_test.cpp.

The module is generated at run time from the project's .proto:
  tensor_proto_interop.py PROTO_ROOT GEN_DIR decode FILE.bin
      prints "dtype NAME", "compression NAME", "quant_min X", "quant_max X",
      "shape D...", "values V..." (the logical values, decompressed as the
      .proto documents; floats as Python reprs, exact for float32)
  tensor_proto_interop.py PROTO_ROOT GEN_DIR encode FILE.bin DTYPE COMPRESSION SHAPE DATA [QMIN QMAX]
      writes a message built with the generated class; SHAPE and DATA are
      comma-separated; DATA are the element values on the wire (the codes
      for COMPRESSION_UINT8). Serialized by protobuf itself (canonical,
      so the data field is not aligned as Colony's encoder aligns it).
Exit 3 with a message when protoc or the protobuf module is missing.
"""
import os
import struct
import subprocess
import sys

# element format on the wire per dtype (bfloat16: the top half of a float32)
FORMATS = {
    "DTYPE_FLOAT32": "f", "DTYPE_FLOAT16": "e", "DTYPE_BFLOAT16": "bf16",
    "DTYPE_FLOAT64": "d", "DTYPE_INT64": "q", "DTYPE_INT32": "i",
    "DTYPE_UINT8": "B", "DTYPE_INT8": "b", "DTYPE_BOOL": "?",
}


def die(msg):
    print("tensor_proto_interop: " + msg, file=sys.stderr)
    sys.exit(3)


def load_module(proto_root, gen_dir):
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        die("python3 module google.protobuf is missing (%s): install the Debian package "
            "python3-protobuf (deploy/setup.sh does)" % sys.executable)
    try:
        subprocess.run(["protoc", "-I", proto_root, "--python_out", gen_dir,
                        os.path.join(proto_root, "colony/v1/tensor.proto")], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        die("protoc failed (%s): install protobuf-compiler (deploy/setup.sh does)" % e)
    sys.path.insert(0, gen_dir)
    from colony.v1 import tensor_pb2
    return tensor_pb2


def unpack(fmt, data):
    if fmt == "bf16":
        halves = struct.unpack("<%dH" % (len(data) // 2), data)
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in halves]
    size = struct.calcsize(fmt)
    return list(struct.unpack("<%d%s" % (len(data) // size, fmt), data))


def pack(fmt, values):
    if fmt == "bf16":
        bits = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in values]
        return struct.pack("<%dH" % len(bits), *bits)
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def decode(pb, path):
    msg = pb.Tensor()
    with open(path, "rb") as f:
        msg.ParseFromString(f.read())
    dtype = pb.DType.Name(msg.dtype)
    comp = pb.Compression.Name(msg.compression)
    if comp == "COMPRESSION_NONE":
        values = unpack(FORMATS[dtype], msg.data)
    elif comp == "COMPRESSION_FLOAT16":
        values = unpack("e", msg.data)
    else:
        step = (msg.quant_max - msg.quant_min) / 255.0
        # Colony's decoder rounds each value to float32, as the .proto's
        # float32 logical dtype implies
        values = [struct.unpack("<f", struct.pack("<f", msg.quant_min + c * step))[0]
                  for c in msg.data]
    print("dtype", dtype)
    print("compression", comp)
    print("quant_min", repr(msg.quant_min))
    print("quant_max", repr(msg.quant_max))
    print("shape", *msg.shape)
    print("values", *[repr(float(v)) for v in values])


def encode(pb, path, dtype, comp, shape, data, qmin=None, qmax=None):
    msg = pb.Tensor()
    msg.dtype = pb.DType.Value(dtype)
    msg.compression = pb.Compression.Value(comp)
    msg.shape.extend(int(d) for d in shape.split(",") if d)
    is_float = dtype in ("DTYPE_FLOAT32", "DTYPE_FLOAT16", "DTYPE_BFLOAT16", "DTYPE_FLOAT64")
    values = [float(v) if is_float and comp != "COMPRESSION_UINT8" else int(v)
              for v in data.split(",") if v]
    if comp == "COMPRESSION_NONE":
        msg.data = pack(FORMATS[dtype], values)
    elif comp == "COMPRESSION_FLOAT16":
        msg.data = pack("e", values)
    else:
        msg.data = bytes(values)
        msg.quant_min = float(qmin)
        msg.quant_max = float(qmax)
    with open(path, "wb") as f:
        f.write(msg.SerializeToString())


def main(argv):
    if len(argv) < 5:
        die("usage: PROTO_ROOT GEN_DIR decode|encode FILE ...")
    pb = load_module(argv[1], argv[2])
    if argv[3] == "decode":
        decode(pb, argv[4])
    else:
        encode(pb, argv[4], *argv[5:])


if __name__ == "__main__":
    main(sys.argv)
