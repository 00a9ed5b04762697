"""The BLAS behind a torch build's CPU matrix products, for the context line of every PyTorch peer (bench/torch_gemm.py,
bench/torch_moe_baseline.py, bench/torch_twin.py). The PyPI wheels link MKL into libtorch_cpu, so it never shows among
the mapped libraries (what does show there is numpy's OpenBLAS and cuBLAS, which torch's CPU products do not call);
Debian's build ('generic') calls whatever libblas.so.3 points to, which /proc/self/maps shows once a product has run.
"""
import os
import re


def mapped_blas():
    """The BLAS libraries mapped into this process, resolved through their links."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none mapped"


def describe(torch):
    """E.g. 'MKL 2024.2 (linked into torch)', 'MKL ... limited to AVX2' (MKL_ENABLE_INSTRUCTIONS, bench/peer_isa.sh),
    or 'libblas.so.3 = /usr/lib/.../libopenblas...' for a generic build. Runs a small product first (loads the BLAS)."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    config = torch.__config__.show()
    info = re.search(r"BLAS_INFO=(\w+)", config)
    info = info.group(1) if info else "unknown"
    if info == "mkl":
        version = re.search(r"Math Kernel Library Version ([\w.]+)", config)
        text = f"MKL {version.group(1) if version else '(version unknown)'} (linked into torch)"
        limit = os.environ.get("MKL_ENABLE_INSTRUCTIONS")
        return f"{text}, limited to {limit}" if limit else text
    if info == "generic":
        return f"libblas.so.3 = {mapped_blas()}"
    return f"{info} (mapped: {mapped_blas()})"
