# The whole extension: included by _flow.pyx (baseline build) and _flow_avx2.pyx (AVX2 build of the same code).
#
# Coarse-to-fine variational optical flow (Brox et al. 2004 / C. Liu 2009), float32 core.
#
# Validation happens in `pyflow/__init__.py`; this module trusts its inputs (C-contiguous float64, finite, in range).
#
# Details calibrated against the classic pyflow's reference flows (../shared/data/flow_reference):
# levels = int(log(minWidth / W) / log(ratio)) (no +1; at least 1); level k <= n = int(log 0.25 / log ratio) is the
# original smoothed by a Gaussian of sigma (1/ratio - 1) k (radius int(3 sigma)), deeper levels smooth level k - n;
# resizing samples x = (j + 1) / scale - 1 (bilinear, replicate border), sizes truncated, also for the flow upsampling;
# features grey (0.299 R + 0.587 G + 0.114 B), its 5-tap x/y derivatives, G - R, G - B; before differentiation both
# images get the 5-tap blur [0.02 0.11 0.74 0.11 0.02]; the robust data terms are averaged over the feature channels;
# the out-of-image mask is not applied to the data term (the classic computes it but never uses it); in-iteration warps
# clamp-sample im2 at the borders (closer to the classic's accuracy on motion leaving the image than im1's value);
# the final warp is bicubic with central-difference derivatives, im1 outside the image, clamped to [0, 1].
# SOR uses red-black ordering so that the result is the same for any number of threads; it runs on a compact layout,
# one plane per colour and coefficient (_sor.pxi), so that every half-sweep is a unit-stride loop the compiler
# vectorises. Row kernels take restrict pointers (rfp, crfp) and have no branches; the compiler flags allow no FMA
# contraction and no reassociation, so the baseline and AVX2 builds give bit-identical flows.
# Files, top-down: _ops.pxi (filters, resize), _warp.pxi, _solver.pxi (options, pyramid, work buffers, flow_one),
# _system.pxi (the linearised system of a fixed-point iteration), _sor.pxi (SOR and a level's iterations).
# The `extra` dict of c2f/c2f_batch exposes these choices for calibration experiments (private, may change).


import numpy as np
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memcpy, memset
from libc.math cimport sqrt, sqrtf, exp, log, floor, pow
from cython.parallel cimport prange, parallel

ctypedef float real

cdef extern from *:
    # restrict-qualified pointers for the row kernels, so that the compiler vectorises them without aliasing checks
    ctypedef float* rfp "float * __restrict__"
    ctypedef const float* crfp "const float * __restrict__"

include "_ops.pxi"
include "_warp.pxi"
include "_solver.pxi"


cdef Opts make_opts(double alpha, double ratio, int min_width, int n_outer, int n_inner, int n_sor,
                    int col_type, int threads, dict extra):
    cdef Opts o
    o.alpha = alpha
    if ratio > 0.98:
        ratio = 0.98
    if ratio < 0.4:
        ratio = 0.4
    o.ratio = ratio
    o.min_width = min_width
    o.n_outer = n_outer
    o.n_inner = n_inner
    o.n_sor = n_sor
    o.col_type = col_type
    o.threads = threads if threads > 0 else 1
    o.omega = extra.get("omega", 1.8)
    o.diag = extra.get("diag", 0.05)
    o.collapse_mean = extra.get("collapse_mean", 1)
    o.redblack = extra.get("redblack", 1)
    o.resize_mode = extra.get("resize_mode", 0)
    o.flow_resize_mode = extra.get("flow_resize_mode", 0)
    o.extra_level = extra.get("extra_level", 0)
    o.bgr = extra.get("bgr", 0)
    o.use_mask = extra.get("use_mask", 0)
    o.warp_ref = extra.get("warp_ref", 0)
    o.par_min = extra.get("par_min", 8192)
    return o


def c2f(const double[:, :, ::1] im1, const double[:, :, ::1] im2, double alpha, double ratio, int min_width,
        int n_outer, int n_inner, int n_sor, int col_type, int threads=1, dict extra=None):
    """One pair: returns (u, v, im2 warped) as float64 arrays."""
    cdef int h = im1.shape[0], w = im1.shape[1], nc = im1.shape[2]
    cdef Opts o = make_opts(alpha, ratio, min_width, n_outer, n_inner, n_sor, col_type, threads, extra or {})
    u = np.zeros((h, w), np.float64)
    v = np.zeros((h, w), np.float64)
    warp = np.empty((h, w, nc), np.float64)
    cdef double[:, ::1] uv = u, vv = v
    cdef double[:, :, ::1] wv = warp
    cdef Pyr p1
    cdef int rc
    with nogil:
        rc = pyr_build(&p1, &im1[0, 0, 0], w, h, nc, &o)
        if rc == 0:
            rc = flow_one(&p1, &im1[0, 0, 0], &im2[0, 0, 0], &uv[0, 0], &vv[0, 0], &wv[0, 0, 0], &o, o.threads)
        pyr_free(&p1)
    if rc != 0:
        raise MemoryError("pyflow: out of memory")
    return u, v, warp


def c2f_batch(const double[:, :, ::1] target, const double[:, :, :, ::1] neighbours, double alpha, double ratio,
              int min_width, int n_outer, int n_inner, int n_sor, int col_type, int threads=1, int inner_threads=1,
              dict extra=None):
    """One target, n neighbours (n x H x W x C): shares the target pyramid, parallel over neighbours
    (min(threads, n) threads), each pair's SOR split over `inner_threads`."""
    cdef int n = neighbours.shape[0]
    cdef int h = target.shape[0], w = target.shape[1], nc = target.shape[2]
    cdef Opts o = make_opts(alpha, ratio, min_width, n_outer, n_inner, n_sor, col_type, threads, extra or {})
    u = np.zeros((n, h, w), np.float64)
    v = np.zeros((n, h, w), np.float64)
    warp = np.empty((n, h, w, nc), np.float64)
    if n == 0:
        return u, v, warp
    cdef double[:, :, ::1] uv = u, vv = v
    cdef double[:, :, :, ::1] wv = warp
    cdef Pyr p1
    cdef Pyr* pp = &p1
    cdef Opts* op = &o
    cdef int rc, k, bad = 0
    cdef int nt = o.threads if o.threads < n else n
    cdef int inner = inner_threads if inner_threads > 1 else 1
    with nogil:
        rc = pyr_build(&p1, &target[0, 0, 0], w, h, nc, &o)
        if rc == 0:
            for k in prange(n, num_threads=nt, schedule="dynamic", use_threads_if=nt > 1):
                if flow_one(pp, &target[0, 0, 0], &neighbours[k, 0, 0, 0], &uv[k, 0, 0], &vv[k, 0, 0],
                            &wv[k, 0, 0, 0], op, inner) != 0:
                    bad += 1
        pyr_free(&p1)
    if rc != 0 or bad:
        raise MemoryError("pyflow: out of memory")
    return u, v, warp


def n_levels_for(int width, double ratio, int min_width, int extra_level=0):
    """Number of pyramid levels used for an image of this width (for tests and documentation)."""
    cdef Opts o = make_opts(1.0, ratio, min_width, 1, 1, 1, 0, 1, {"extra_level": extra_level})
    return n_levels(width, &o)
