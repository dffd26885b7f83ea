# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, nonecheck=False
"""Coarse-to-fine variational optical flow (Brox et al. 2004 / C. Liu 2009), float32 core: baseline x86-64 /
portable build. See _core.pxi."""

include "_core.pxi"
