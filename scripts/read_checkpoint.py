#!/usr/bin/env python3
"""@file Opens a bnlab checkpoint outside bnlab, to show it is a plain safetensors file.

Reads the header with nothing but `json` and `struct` (the `safetensors` package is not in
Debian), and the tensors either with `struct` or, with --reader torch, with `torch.frombuffer`.
Prints one line per tensor (name, dtype, shape, sum), or with --json one JSON object holding
the metadata and every tensor, its values included with --values.

    python3 scripts/read_checkpoint.py model.safetensors
    python3 scripts/read_checkpoint.py model.safetensors --reader torch

Weights are stored [in, out] (the article's TensorFlow layout); PyTorch's nn.Linear wants
[out, in], so load them with `linear.weight.data = tensors["dense.0.weight"].T`.
"""
import argparse
import json
import math
import struct
import sys

# dtype -> (bytes per element, struct format character); the dtypes bnlab writes and a few more.
STRUCT_FORMATS = {
    "F64": (8, "d"), "F32": (4, "f"), "F16": (2, "e"),
    "I64": (8, "q"), "I32": (4, "i"), "I16": (2, "h"), "I8": (1, "b"),
    "U64": (8, "Q"), "U32": (4, "I"), "U16": (2, "H"), "U8": (1, "B"), "BOOL": (1, "?"),
}


def read_header(data):
    """The header dict and the offset where the tensor data starts; exits with a message if malformed."""
    if len(data) < 8:
        sys.exit(f"not a safetensors file: {len(data)} bytes, fewer than the 8-byte header length")
    (header_length,) = struct.unpack("<Q", data[:8])
    if 8 + header_length > len(data):
        sys.exit(f"not a safetensors file: the header claims {header_length} bytes, the file has {len(data) - 8}")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    return header, 8 + header_length


def read_with_struct(data, start, info):
    size, code = STRUCT_FORMATS[info["dtype"]]
    begin, end = info["data_offsets"]
    count = (end - begin) // size
    return list(struct.unpack_from(f"<{count}{code}", data, start + begin))


def read_with_torch(data, start, info):
    import torch  # only here: the struct reader must work where torch is missing

    dtypes = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    begin, end = info["data_offsets"]
    if sys.byteorder != "little":
        sys.exit("torch.frombuffer reads native byte order; use --reader struct on this big-endian machine")
    if end == begin:
        flat = torch.empty(0, dtype=dtypes[info["dtype"]])
    else:
        flat = torch.frombuffer(data, dtype=dtypes[info["dtype"]], offset=start + begin, count=(end - begin) // STRUCT_FORMATS[info["dtype"]][0])
    tensor = flat.reshape(info["shape"])
    return tensor.flatten().tolist()


def main():
    parser = argparse.ArgumentParser(description="List the tensors of a bnlab checkpoint (a safetensors file).")
    parser.add_argument("path")
    parser.add_argument("--reader", choices=["struct", "torch"], default="struct")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--values", action="store_true", help="with --json: include every tensor's values")
    args = parser.parse_args()

    with open(args.path, "rb") as handle:
        data = bytearray(handle.read())  # writable, so torch.frombuffer does not warn
    header, start = read_header(data)
    metadata = header.pop("__metadata__", {})
    read = read_with_torch if args.reader == "torch" else read_with_struct

    tensors = {}
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        values = read(data, start, info)
        tensors[name] = {"dtype": info["dtype"], "shape": info["shape"], "sum": math.fsum(values)}
        if args.values:
            tensors[name]["values"] = values

    if args.json:
        print(json.dumps({"reader": args.reader, "metadata": metadata, "tensors": tensors}))
        return
    spec = json.loads(metadata["bnlab.spec"]) if "bnlab.spec" in metadata else None
    if spec:
        sizes = [spec["inputSize"], *spec["hiddenSizes"], spec["outputSize"]]
        print(f"{args.path}: bnlab format {metadata.get('bnlab.format')}, network {'-'.join(map(str, sizes))}"
              f" {spec['activation']}{' with BN' if spec['batchNorm'] else ''} (read with {args.reader})")
    for key, value in metadata.items():
        if key != "bnlab.spec":
            print(f"  metadata {key} = {value if len(value) < 80 else value[:77] + '...'}")
    for name, tensor in tensors.items():
        shape = "[" + ", ".join(map(str, tensor["shape"])) + "]"
        print(f"  {name:<32} {tensor['dtype']:<4} {shape:<12} sum {tensor['sum']:.6g}")


if __name__ == "__main__":
    main()
