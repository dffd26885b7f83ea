# One pyramid level: outer fixed-point iterations (linearised data term), inner iterations (robust weights),
# SOR on the 2 x 2 block system for the increment (du, dv). Included by _solver.pxi.

cdef double EPS2 = 1e-6   # Charbonnier epsilon^2 (epsilon = 1e-3)
cdef Py_ssize_t PAR_MIN_PIXELS = 16384   # smaller levels: thread start/barrier costs exceed the work


cdef void sor_row(int i, int j0, int step, int w, real* du, real* dv, const real* wx, const real* wy,
                  const real* a12, const real* b1, const real* b2, const real* inv1, const real* inv2,
                  real om1) noexcept nogil:
    """Update du, dv on row i at columns j0, j0 + step, ... (du, dv, wx, wy are padded pointers)."""
    cdef Py_ssize_t o, j
    cdef real s1, s2, wl, wr, wu, wd, nu
    j = j0
    while j < w:
        o = <Py_ssize_t>i * w + j
        wl = wx[o - 1]
        wr = wx[o]
        wu = wy[o - w]
        wd = wy[o]
        s1 = wl * du[o - 1] + wr * du[o + 1] + wu * du[o - w] + wd * du[o + w]
        s2 = wl * dv[o - 1] + wr * dv[o + 1] + wu * dv[o - w] + wd * dv[o + w]
        nu = om1 * du[o] + inv1[o] * (b1[o] + s1 - a12[o] * dv[o])
        du[o] = nu
        dv[o] = om1 * dv[o] + inv2[o] * (b2[o] + s2 - a12[o] * nu)
        j += step


cdef void data_terms(Work* wk, const real* s1, int w, int h, int nf, int use_mask, const real* u,
                     const real* v) noexcept nogil:
    """Derivatives of the blend 0.4 * im1 + 0.6 * warped im2 (both pre-smoothed) and the temporal difference."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, q, c
    cdef int i, j
    cdef real* sp
    cdef const real* s1c
    cdef real* itc
    cdef real x, y
    for c in range(nf):
        sp = wk.s2 + c * n
        s1c = s1 + c * n
        itc = wk.it + c * n
        smooth_g5(wk.w2 + c * n, sp, wk.tmp, w, h)
        for q in range(n):
            wk.tmp2[q] = <real>0.4 * s1c[q] + <real>0.6 * sp[q]
            itc[q] = sp[q] - s1c[q]
        filt5_h(wk.tmp2, wk.ix + c * n, w, h, D5)
        filt5_v(wk.tmp2, wk.iy + c * n, w, h, D5)
    if use_mask:  # off by default: the classic computes this mask but never applies it
        for i in range(h):
            for j in range(w):
                q = <Py_ssize_t>i * w + j
                x = j + u[q]
                y = i + v[q]
                if x < 0 or x > w - 1 or y < 0 or y > h - 1:
                    for c in range(nf):
                        wk.ix[c * n + q] = 0
                        wk.iy[c * n + q] = 0
                        wk.it[c * n + q] = 0


cdef void robust_system(Work* wk, const real* u, const real* v, const real* du, const real* dv, int w, int h,
                        int nf, Opts* o) noexcept nogil:
    """Smoothness weights phi (alpha folded in), data weights psi per channel, and the SOR coefficients."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, q, c
    cdef int i, j
    cdef real* wx = wk.wxb + (w + 1)
    cdef real* wy = wk.wyb + (w + 1)
    cdef real* a11 = wk.inv1
    cdef real* a22 = wk.inv2
    cdef real* a12 = wk.a12
    cdef real* b1 = wk.b1
    cdef real* b2 = wk.b2
    cdef const real* ix
    cdef const real* iy
    cdef const real* it
    cdef real t, psi, ux, uy, vx, vy, phi, lu, lv, coeff, diag
    cdef real alpha = <real>o.alpha, eps = <real>EPS2, scale = <real>(1.0 / nf if o.collapse_mean else 1.0)
    cdef real omega = <real>o.omega
    for i in range(h):
        for j in range(w):
            q = <Py_ssize_t>i * w + j
            ux = 0
            uy = 0
            vx = 0
            vy = 0
            if j < w - 1:
                ux = (u[q + 1] + du[q + 1]) - (u[q] + du[q])
                vx = (v[q + 1] + dv[q + 1]) - (v[q] + dv[q])
            if i < h - 1:
                uy = (u[q + w] + du[q + w]) - (u[q] + du[q])
                vy = (v[q + w] + dv[q + w]) - (v[q] + dv[q])
            phi = alpha * <real>0.5 / sqrtf(ux * ux + uy * uy + vx * vx + vy * vy + eps)
            wx[q] = phi if j < w - 1 else 0
            wy[q] = phi if i < h - 1 else 0
    memset(a11, 0, n * sizeof(real))
    memset(a12, 0, n * sizeof(real))
    memset(a22, 0, n * sizeof(real))
    memset(b1, 0, n * sizeof(real))
    memset(b2, 0, n * sizeof(real))
    for c in range(nf):
        ix = wk.ix + c * n
        iy = wk.iy + c * n
        it = wk.it + c * n
        for q in range(n):
            t = it[q] + ix[q] * du[q] + iy[q] * dv[q]
            psi = <real>0.5 / sqrtf(t * t + eps)
            a11[q] += psi * ix[q] * ix[q]
            a12[q] += psi * ix[q] * iy[q]
            a22[q] += psi * iy[q] * iy[q]
            b1[q] += psi * ix[q] * it[q]
            b2[q] += psi * iy[q] * it[q]
    diag = <real>(o.diag * o.alpha)
    for i in range(h):
        for j in range(w):
            q = <Py_ssize_t>i * w + j
            lu = 0
            lv = 0
            if j < w - 1:
                lu = lu + wx[q] * (u[q + 1] - u[q])
                lv = lv + wx[q] * (v[q + 1] - v[q])
            if j > 0:
                lu = lu - wx[q - 1] * (u[q] - u[q - 1])
                lv = lv - wx[q - 1] * (v[q] - v[q - 1])
            if i < h - 1:
                lu = lu + wy[q] * (u[q + w] - u[q])
                lv = lv + wy[q] * (v[q + w] - v[q])
            if i > 0:
                lu = lu - wy[q - w] * (u[q] - u[q - w])
                lv = lv - wy[q - w] * (v[q] - v[q - w])
            coeff = wx[q] + wx[q - 1] + wy[q] + wy[q - w]
            a12[q] = a12[q] * scale
            b1[q] = -b1[q] * scale + lu
            b2[q] = -b2[q] * scale + lv
            a11[q] = omega / (a11[q] * scale + diag + coeff)   # stored as the SOR step 1 / diagonal
            a22[q] = omega / (a22[q] * scale + diag + coeff)


cdef void sor(Work* wk, int w, int h, int n_sor, int redblack, real om1, int nt) noexcept nogil:
    """n_sor sweeps; red-black ordering gives the same result for any thread count."""
    cdef Py_ssize_t pad = w + 1
    cdef real* du = wk.dub + pad
    cdef real* dv = wk.dvb + pad
    cdef real* wx = wk.wxb + pad
    cdef real* wy = wk.wyb + pad
    cdef int it_s, colour, i
    if not redblack:
        for it_s in range(n_sor):
            for i in range(h):
                sor_row(i, 0, 1, w, du, dv, wx, wy, wk.a12, wk.b1, wk.b2, wk.inv1, wk.inv2, om1)
    elif nt <= 1:
        for it_s in range(n_sor):
            for colour in range(2):
                for i in range(h):
                    sor_row(i, (i + colour) & 1, 2, w, du, dv, wx, wy, wk.a12, wk.b1, wk.b2, wk.inv1, wk.inv2, om1)
    else:
        with parallel(num_threads=nt):
            for it_s in range(n_sor):
                for colour in range(2):
                    for i in prange(h, schedule="static"):
                        sor_row(i, (i + colour) & 1, 2, w, du, dv, wx, wy, wk.a12, wk.b1, wk.b2, wk.inv1,
                                wk.inv2, om1)


cdef void solve_level(const real* f1, const real* s1, const real* f2, Work* wk, int w, int h, int nf,
                      int n_outer, int n_inner, int n_sor, Opts* o, int nthreads) noexcept nogil:
    cdef Py_ssize_t n = <Py_ssize_t>w * h, pad = w + 1, q
    cdef int it_o, it_i
    cdef real* du = wk.dub + pad
    cdef real* dv = wk.dvb + pad
    cdef real om1 = <real>(1.0 - o.omega)
    cdef int nt = nthreads if (nthreads > 1 and n >= PAR_MIN_PIXELS) else 1
    for it_o in range(n_outer):
        data_terms(wk, s1, w, h, nf, o.use_mask, wk.u, wk.v)
        memset(du, 0, n * sizeof(real))
        memset(dv, 0, n * sizeof(real))
        for it_i in range(n_inner):
            robust_system(wk, wk.u, wk.v, du, dv, w, h, nf, o)
            memset(du, 0, n * sizeof(real))
            memset(dv, 0, n * sizeof(real))
            sor(wk, w, h, n_sor, o.redblack, om1, nt)
        for q in range(n):
            wk.u[q] = wk.u[q] + du[q]
            wk.v[q] = wk.v[q] + dv[q]
        warp_bilinear(f2, f1, wk.u, wk.v, wk.w2, w, h, nf, o.warp_ref)
