"""Build the Cython optical-flow extension (setuptools + Cython, OpenMP, -O3).

The same code (pyflow/_core.pxi) is compiled twice: `pyflow._flow`, the portable baseline, and on x86-64 also
`pyflow._flow_avx2` with 8-wide AVX2 vectors, which `pyflow` picks at import when the CPU has AVX2. Neither build
contracts multiply-adds into FMA, so both give bit-identical flows. Metadata lives in pyproject.toml.
"""

import platform
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":
    compile_args, link_args, avx2_args = ["/O2", "/openmp"], [], ["/arch:AVX2", "/fp:precise"]
elif sys.platform == "darwin":  # Apple clang needs libomp (brew install libomp)
    compile_args, link_args = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Xpreprocessor", "-fopenmp"], ["-lomp"]
    avx2_args = ["-mavx2", "-ffp-contract=off"]
else:
    # no errno or FP-exception semantics to keep: lets the compiler vectorise branches; the results are unchanged
    compile_args = ["-O3", "-funroll-loops", "-fno-math-errno", "-fno-trapping-math", "-fopenmp"]
    link_args = ["-fopenmp"]
    avx2_args = ["-mavx2", "-ffp-contract=off"]
X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def flow_extension(name: str, extra: list[str]) -> Extension:
    return Extension(
        f"pyflow.{name}",
        [f"pyflow/{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args + extra,
        extra_link_args=link_args,
        depends=[f"pyflow/{part}.pxi" for part in ("_core", "_ops", "_warp", "_solver", "_system", "_sor")],
    )


extensions = [flow_extension("_flow", [])]
if X86_64:
    extensions.append(flow_extension("_flow_avx2", avx2_args))

# both extensions are translated and compiled side by side (same flags: the same binaries, built sooner)
setup(ext_modules=cythonize(extensions, language_level=3, compiler_directives={"embedsignature": True},
                            nthreads=len(extensions)),
      options={"build_ext": {"parallel": True}})
