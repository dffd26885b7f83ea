"""Build the Cython optical-flow extension `pyflow._flow` (setuptools + Cython, OpenMP, -O3).

Metadata lives in pyproject.toml; this file only declares the extension module.
"""

import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":
    compile_args, link_args = ["/O2", "/openmp"], []
elif sys.platform == "darwin":  # Apple clang needs libomp (brew install libomp)
    compile_args, link_args = ["-O3", "-Xpreprocessor", "-fopenmp"], ["-lomp"]
else:
    compile_args, link_args = ["-O3", "-funroll-loops", "-fno-math-errno", "-fopenmp"], ["-fopenmp"]

extensions = [
    Extension(
        "pyflow._flow",
        ["pyflow/_flow.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
]

setup(ext_modules=cythonize(extensions, language_level=3, compiler_directives={"embedsignature": True}))
