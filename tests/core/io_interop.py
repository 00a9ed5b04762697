#!/usr/bin/env python3
"""Interop checks for core/io (called by tests/core/test_io.cpp): writes or checks .npy and safetensors files
with numpy / safetensors.numpy, using the same value pattern as the C++ test.

usage: io_interop.py {write,check} {npy,st} PATH [--order C|F] [--byteorder <|>] [--meta k=v ...] SPEC...
SPEC is name=code:dims, e.g. w=f4:7x33, s=i8: (0-d), z=f8:0. For npy, PATH is a directory holding one file
<name>.npy per SPEC; for st (safetensors), PATH is the file holding all of them.
Exits 0 when the check passes, 1 with a message on stderr otherwise."""
import argparse
import os
import sys

import numpy as np


def pattern(code, shape):
    """Element i: f = (i - 10) / 7 (computed in double), i4 = 7 i - 100, i8 = 1000003 i - 2^40."""
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    values = {"f4": lambda: ((i - 10) / 7.0).astype(np.float32), "f8": lambda: (i - 10) / 7.0,
              "i4": lambda: (i * 7 - 100).astype(np.int32), "i8": lambda: i * 1000003 - 2**40}[code]()
    return values.reshape(shape)


def parse_spec(spec):
    name, rest = spec.split("=")
    code, dims = rest.split(":")
    return name, code, tuple(int(d) for d in dims.split("x")) if dims else ()


def check_array(name, arr, code, shape):
    want = pattern(code, shape)
    if arr.dtype != np.dtype("<" + code) or arr.shape != shape or not np.array_equal(arr, want):
        sys.exit(f"{name}: got dtype {arr.dtype} shape {arr.shape} values {arr.ravel()[:8]}, "
                 f"want <{code} {shape} {want.ravel()[:8]}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("action", choices=["write", "check"])
    p.add_argument("format", choices=["npy", "st"])
    p.add_argument("path")
    p.add_argument("--order", default="C")
    p.add_argument("--byteorder", default="<")
    p.add_argument("--meta", nargs="*", default=[])
    p.add_argument("specs", nargs="+")
    a = p.parse_args()
    specs = [parse_spec(s) for s in a.specs]
    metadata = dict(m.split("=", 1) for m in a.meta) or None
    if a.format == "npy":
        for name, code, shape in specs:
            path = os.path.join(a.path, name + ".npy")
            if a.action == "write":
                arr = pattern(code, shape).astype(a.byteorder + code)
                np.save(path, np.asfortranarray(arr) if a.order == "F" else arr)
            else:
                check_array(name, np.load(path), code, shape)
        return
    import safetensors.numpy
    if a.action == "write":
        safetensors.numpy.save_file({n: pattern(c, s) for n, c, s in specs}, a.path, metadata=metadata)
        return
    tensors = safetensors.numpy.load_file(a.path)
    if sorted(tensors) != sorted(n for n, _, _ in specs):
        sys.exit(f"names {sorted(tensors)}, want {sorted(n for n, _, _ in specs)}")
    for n, c, s in specs:
        check_array(n, tensors[n], c, s)
    with safetensors.safe_open(a.path, framework="np") as f:
        if f.metadata() != metadata:
            sys.exit(f"metadata {f.metadata()}, want {metadata}")


if __name__ == "__main__":
    main()
