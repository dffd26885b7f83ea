# Pyramid, features and the fixed-point / SOR solver. Included by _flow.pyx.

cdef struct Opts:
    double alpha
    double ratio
    int min_width
    int n_outer
    int n_inner
    int n_sor
    int col_type
    int threads
    double omega
    double diag
    int collapse_mean
    int redblack
    int resize_mode
    int flow_resize_mode
    int extra_level
    int bgr
    int use_mask      # zero the data term where the match leaves the image (the classic computes, never applies)
    int warp_ref      # in-iteration warp: out-of-image pixels take im1's value (1) or clamp-sample im2 (0)
    int par_min       # levels with fewer pixels run on one thread


cdef struct Pyr:
    int nlev
    int nc
    int nf
    int* w
    int* h
    real** img     # nc planes per level
    real** feat    # nf planes per level
    real** sfeat   # nf planes per level, feat pre-smoothed with G5 (NULL entries when not built)


cdef int n_levels(int width, Opts* o) noexcept nogil:
    cdef int n = <int>(log(<double>o.min_width / width) / log(o.ratio)) + o.extra_level
    if n < 1:
        n = 1
    if n > 200:
        n = 200
    return n


cdef void pyr_free(Pyr* p) noexcept nogil:
    cdef int k
    for k in range(p.nlev):
        if p.img != NULL:
            free(p.img[k])
        if p.feat != NULL:
            free(p.feat[k])
        if p.sfeat != NULL:
            free(p.sfeat[k])
    free(p.img); free(p.feat); free(p.sfeat); free(p.w); free(p.h)
    p.img = NULL; p.feat = NULL; p.sfeat = NULL; p.w = NULL; p.h = NULL
    p.nlev = 0


cdef void smooth_g5(const real* src, real* dst, real* tmp, int w, int h) noexcept nogil:
    filt5_h(src, tmp, w, h, G5)
    filt5_v(tmp, dst, w, h, G5)


cdef void make_features(const real* img, int w, int h, int nc, int bgr, real* feat) noexcept nogil:
    """grey, d/dx grey, d/dy grey (5-tap), and for colour G-R, G-B."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, o
    cdef const real* r = img
    cdef const real* g = img + n
    cdef const real* b = img + 2 * n
    if nc == 3:
        if bgr:
            r = img + 2 * n
            b = img
        for o in range(n):
            feat[o] = <real>(0.299 * r[o] + 0.587 * g[o] + 0.114 * b[o])
            feat[3 * n + o] = g[o] - r[o]
            feat[4 * n + o] = g[o] - b[o]
    else:
        memcpy(feat, img, n * sizeof(real))
    filt5_h(feat, feat + n, w, h, D5)
    filt5_v(feat, feat + 2 * n, w, h, D5)


cdef int pyr_build(Pyr* p, const double* im, int W, int H, int C, Opts* o, bint with_sfeat=True) noexcept nogil:
    """Gaussian pyramid (smooth then bilinear resize by ratio^k) and per-level features."""
    cdef int L = n_levels(W, o)
    cdef int k, c, src, r, i
    cdef Py_ssize_t n0 = <Py_ssize_t>W * H, q, nk
    cdef double base = 1.0 / o.ratio - 1.0, sigma, rate
    cdef int nsub = <int>(log(0.25) / log(o.ratio))
    cdef double f[31]
    cdef real* tmp
    cdef real* tmp2
    p.nlev = L
    p.nc = C
    p.nf = 5 if C == 3 else 3
    p.w = <int*>calloc(L, sizeof(int))
    p.h = <int*>calloc(L, sizeof(int))
    p.img = <real**>calloc(L, sizeof(real*))
    p.feat = <real**>calloc(L, sizeof(real*))
    p.sfeat = <real**>calloc(L, sizeof(real*))
    tmp = <real*>malloc(n0 * sizeof(real))
    tmp2 = <real*>malloc(n0 * sizeof(real))
    if p.w == NULL or p.h == NULL or p.img == NULL or p.feat == NULL or p.sfeat == NULL or tmp == NULL or tmp2 == NULL:
        free(tmp); free(tmp2)
        return -1
    p.w[0] = W
    p.h[0] = H
    p.img[0] = <real*>malloc(n0 * C * sizeof(real))
    if p.img[0] == NULL:
        free(tmp); free(tmp2)
        return -1
    for q in range(n0):
        for c in range(C):
            p.img[0][c * n0 + q] = <real>im[q * C + c]
    for k in range(1, L):
        if k <= nsub:
            src = 0
            sigma = base * k
            rate = pow(o.ratio, k)
        else:
            src = k - nsub
            sigma = base * nsub
            rate = pow(o.ratio, k) * W / p.w[src]
        p.w[k] = <int>(p.w[src] * rate)
        p.h[k] = <int>(p.h[src] * rate)
        if p.w[k] < 1:
            p.w[k] = 1
        if p.h[k] < 1:
            p.h[k] = 1
        nk = <Py_ssize_t>p.w[k] * p.h[k]
        p.img[k] = <real*>malloc(nk * C * sizeof(real))
        if p.img[k] == NULL:
            free(tmp); free(tmp2)
            return -1
        r = gauss_filter(sigma, f)
        q = <Py_ssize_t>p.w[src] * p.h[src]
        for c in range(C):
            filt_h(p.img[src] + c * q, tmp, p.w[src], p.h[src], f, r)
            filt_v(tmp, tmp2, p.w[src], p.h[src], f, r)
            resize_plane(tmp2, p.w[src], p.h[src], p.img[k] + c * nk, p.w[k], p.h[k], rate, rate, o.resize_mode)
    for k in range(L):
        nk = <Py_ssize_t>p.w[k] * p.h[k]
        p.feat[k] = <real*>malloc(nk * p.nf * sizeof(real))
        if p.feat[k] == NULL:
            free(tmp); free(tmp2)
            return -1
        make_features(p.img[k], p.w[k], p.h[k], C, (o.bgr >> k) & 1, p.feat[k])
        if with_sfeat:
            p.sfeat[k] = <real*>malloc(nk * p.nf * sizeof(real))
            if p.sfeat[k] == NULL:
                free(tmp); free(tmp2)
                return -1
            for i in range(p.nf):
                smooth_g5(p.feat[k] + i * nk, p.sfeat[k] + i * nk, tmp, p.w[k], p.h[k])
    free(tmp); free(tmp2)
    return 0


cdef struct Work:
    real* u
    real* v
    real* u2
    real* v2
    real* w2     # warped im2 features
    real* s2     # smoothed warped features
    real* ix
    real* iy
    real* it
    real* tmp    # nf scratch planes (one per feature channel, so that channels can run in parallel)
    real* tmp2
    real* dub    # padded du / dv / weights (pad = w + 1 each side)
    real* dvb
    real* wxb
    real* wyb
    real* a11
    real* a12
    real* a22
    real* b1
    real* b2
    real* inv1
    real* inv2
    real* mask
    real* cb     # compact red-black planes for SOR (see _sor.pxi)


include "_system.pxi"
include "_sor.pxi"


cdef int flow_one(Pyr* p1, const double* im1, const double* im2, double* uo, double* vo, double* wo,
                  Opts* o, int nthreads) noexcept nogil:
    """Flow from im1 (whose pyramid is p1) to im2; writes u, v (H x W) and warped im2 (H x W x C)."""
    cdef Pyr p2
    cdef Work wk
    cdef int k, W = p1.w[0], H = p1.h[0], nf = p1.nf, w, h, pw = 0, ph = 0, rc = 0
    cdef Py_ssize_t n0 = <Py_ssize_t>W * H, pad = W + 1, q, nk
    cdef real** bufs = <real**>&wk
    cdef int nb = sizeof(Work) // sizeof(real*), i
    memset(&wk, 0, sizeof(Work))
    if pyr_build(&p2, im2, W, H, p1.nc, o, False) != 0:
        pyr_free(&p2)
        return -1
    for i in range(nb):
        if i >= 4 and i <= 10:         # w2, s2, ix, iy, it, tmp, tmp2: nf planes
            bufs[i] = <real*>calloc(n0 * nf, sizeof(real))
        elif i >= 11 and i <= 14:      # padded planes
            bufs[i] = <real*>calloc(n0 + 2 * pad, sizeof(real))
        elif i == nb - 1:              # compact SOR planes
            bufs[i] = <real*>calloc(2 * NPL * compact_plane_size(W, H), sizeof(real))
        else:
            bufs[i] = <real*>calloc(n0, sizeof(real))
        if bufs[i] == NULL:
            rc = -1
    if rc == 0:
        for k in range(p1.nlev - 1, -1, -1):
            w = p1.w[k]
            h = p1.h[k]
            nk = <Py_ssize_t>w * h
            if k == p1.nlev - 1:
                memset(wk.u, 0, nk * sizeof(real))
                memset(wk.v, 0, nk * sizeof(real))
                memcpy(wk.w2, p2.feat[k], nk * nf * sizeof(real))
            else:
                resize_plane(wk.u, pw, ph, wk.u2, w, h, <double>w / pw, <double>h / ph, o.flow_resize_mode)
                resize_plane(wk.v, pw, ph, wk.v2, w, h, <double>w / pw, <double>h / ph, o.flow_resize_mode)
                for q in range(nk):
                    wk.u[q] = <real>(wk.u2[q] / o.ratio)
                    wk.v[q] = <real>(wk.v2[q] / o.ratio)
                warp_bilinear_par(p2.feat[k], p1.feat[k], wk.u, wk.v, wk.w2, w, h, nf, o.warp_ref,
                                  level_threads(nthreads, w, h, o))
            solve_level(p1.feat[k], p1.sfeat[k], p2.feat[k], &wk, w, h, nf, o.n_outer + k,
                        o.n_inner, o.n_sor + 3 * k, o, nthreads)
            pw = w
            ph = h
        for q in range(n0):
            uo[q] = wk.u[q]
            vo[q] = wk.v[q]
        warp_bicubic_ref(im2, im1, wk.u, wk.v, wo, W, H, p1.nc)
    for i in range(nb):
        free(bufs[i])
    pyr_free(&p2)
    return rc
