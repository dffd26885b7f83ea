# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, nonecheck=False
"""The same extension as `pyflow._flow`, compiled for x86-64 CPUs with AVX2 (8-wide float vectors; no FMA
contraction, so its results are bit-identical to the baseline build's). `pyflow` picks it when the CPU has AVX2."""

include "_core.pxi"
