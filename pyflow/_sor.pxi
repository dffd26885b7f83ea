# SOR on the 2 x 2 block system for the increment (du, dv), and one pyramid level's fixed-point loop (outer
# iterations relinearise the data term, inner ones recompute the robust weights). Included by _solver.pxi.

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


# Red-black SOR on a compact layout: colour c (0 red, 1 black) of row i holds the pixels j = 2k + ((i + c) & 1),
# k = 0 .. wc - 1, in a plane of (h + 2) x (wc + 2) slots (zero pad row/column on each side). A pixel's left and
# right neighbours are the other colour's slots k - 1 + p and k + p of the same row (p = (i + c) & 1), its upper and
# lower ones slot k of rows i - 1 and i + 1: every half-sweep is a unit-stride loop the compiler vectorises.
cdef enum:
    P_DU, P_DV, P_WL, P_WR, P_WU, P_WD, P_A12, P_B1, P_B2, P_I1, P_I2, NPL   # planes per colour


cdef inline Py_ssize_t compact_plane_size(int w, int h) noexcept nogil:
    return <Py_ssize_t>((w + 1) // 2 + 2) * (h + 2)


cdef void sor_crow(int n, rfp du, rfp dv, crfp ul, crfp ur, crfp uu, crfp ud, crfp vl, crfp vr, crfp vu,
                   crfp vd, crfp wl, crfp wr, crfp wu, crfp wd, crfp a12, crfp b1, crfp b2, crfp i1, crfp i2,
                   real om1) noexcept nogil:
    """One row of one colour: the same arithmetic, in the same order, as `sor_row`."""
    cdef int k
    cdef real s1, s2, nu
    for k in range(n):
        s1 = wl[k] * ul[k] + wr[k] * ur[k] + wu[k] * uu[k] + wd[k] * ud[k]
        s2 = wl[k] * vl[k] + wr[k] * vr[k] + wu[k] * vu[k] + wd[k] * vd[k]
        nu = om1 * du[k] + i1[k] * (b1[k] + s1 - a12[k] * dv[k])
        du[k] = nu
        dv[k] = om1 * dv[k] + i2[k] * (b2[k] + s2 - a12[k] * nu)


cdef void compact_pack(Work* wk, real* cb, int c, int w, int h) noexcept nogil:
    """Copy colour c's SOR coefficients into its compact planes and zero its du, dv there."""
    cdef int wc = (w + 1) // 2, rs = wc + 2, i, k, j, p
    cdef Py_ssize_t P = compact_plane_size(w, h), q, s
    cdef real* wx = wk.wxb + (w + 1)
    cdef real* wy = wk.wyb + (w + 1)
    cdef real* pl = cb + c * NPL * P
    memset(pl, 0, NPL * P * sizeof(real))
    for i in range(h):
        p = (i + c) & 1
        for k in range(wc):
            j = 2 * k + p
            if j >= w:
                break
            q = <Py_ssize_t>i * w + j
            s = <Py_ssize_t>(i + 1) * rs + k + 1
            pl[P_WL * P + s] = wx[q - 1]
            pl[P_WR * P + s] = wx[q]
            pl[P_WU * P + s] = wy[q - w]
            pl[P_WD * P + s] = wy[q]
            pl[P_A12 * P + s] = wk.a12[q]
            pl[P_B1 * P + s] = wk.b1[q]
            pl[P_B2 * P + s] = wk.b2[q]
            pl[P_I1 * P + s] = wk.inv1[q]
            pl[P_I2 * P + s] = wk.inv2[q]


cdef void compact_unpack(real* cb, real* du, real* dv, int c, int w, int h) noexcept nogil:
    """Copy colour c's du, dv back to the image layout."""
    cdef int wc = (w + 1) // 2, rs = wc + 2, i, k, j, p
    cdef Py_ssize_t P = compact_plane_size(w, h), q, s
    cdef real* pl = cb + c * NPL * P
    for i in range(h):
        p = (i + c) & 1
        for k in range(wc):
            j = 2 * k + p
            if j >= w:
                break
            q = <Py_ssize_t>i * w + j
            s = <Py_ssize_t>(i + 1) * rs + k + 1
            du[q] = pl[P_DU * P + s]
            dv[q] = pl[P_DV * P + s]


cdef inline void sor_compact_row(real* cb, Py_ssize_t P, int rs, int wc, int i, int c, real om1) noexcept nogil:
    cdef real* me = cb + c * NPL * P
    cdef real* ot = cb + (1 - c) * NPL * P
    cdef Py_ssize_t s = <Py_ssize_t>(i + 1) * rs + 1
    cdef Py_ssize_t sl = s - 1 + ((i + c) & 1)
    sor_crow(wc, me + P_DU * P + s, me + P_DV * P + s,
             ot + P_DU * P + sl, ot + P_DU * P + sl + 1, ot + P_DU * P + s - rs, ot + P_DU * P + s + rs,
             ot + P_DV * P + sl, ot + P_DV * P + sl + 1, ot + P_DV * P + s - rs, ot + P_DV * P + s + rs,
             me + P_WL * P + s, me + P_WR * P + s, me + P_WU * P + s, me + P_WD * P + s,
             me + P_A12 * P + s, me + P_B1 * P + s, me + P_B2 * P + s, me + P_I1 * P + s, me + P_I2 * P + s,
             om1)


cdef void sor(Work* wk, int w, int h, int n_sor, int redblack, real om1, int nt) noexcept nogil:
    """n_sor sweeps from du = dv = 0; red-black ordering gives the same result for any thread count."""
    cdef Py_ssize_t pad = w + 1, P = compact_plane_size(w, h)
    cdef real* du = wk.dub + pad
    cdef real* dv = wk.dvb + pad
    cdef real* wx = wk.wxb + pad
    cdef real* wy = wk.wyb + pad
    cdef int wc = (w + 1) // 2, rs = wc + 2
    cdef int it_s, colour, i
    if not redblack:  # lexicographic Gauss-Seidel (calibration experiments only)
        for it_s in range(n_sor):
            for i in range(h):
                sor_row(i, 0, 1, w, du, dv, wx, wy, wk.a12, wk.b1, wk.b2, wk.inv1, wk.inv2, om1)
        return
    if nt <= 1:
        compact_pack(wk, wk.cb, 0, w, h)
        compact_pack(wk, wk.cb, 1, w, h)
        for it_s in range(n_sor):  # black row i - 1 right after red row i: the dependencies of a whole red
            sor_compact_row(wk.cb, P, rs, wc, 0, 0, om1)  # half-sweep then a black one, rows still in cache
            for i in range(1, h):
                sor_compact_row(wk.cb, P, rs, wc, i, 0, om1)
                sor_compact_row(wk.cb, P, rs, wc, i - 1, 1, om1)
            sor_compact_row(wk.cb, P, rs, wc, h - 1, 1, om1)
        compact_unpack(wk.cb, du, dv, 0, w, h)
        compact_unpack(wk.cb, du, dv, 1, w, h)
    else:
        for colour in prange(2, num_threads=nt, schedule="static"):
            compact_pack(wk, wk.cb, colour, w, h)
        with parallel(num_threads=nt):
            for it_s in range(n_sor):
                for colour in range(2):
                    for i in prange(h, schedule="static"):
                        sor_compact_row(wk.cb, P, rs, wc, i, colour, om1)
        for colour in prange(2, num_threads=nt, schedule="static"):
            compact_unpack(wk.cb, du, dv, colour, w, h)


cdef void solve_level(const real* f1, const real* s1, const real* f2, Work* wk, int w, int h, int nf,
                      int n_outer, int n_inner, int n_sor, Opts* o, int nthreads) noexcept nogil:
    cdef Py_ssize_t n = <Py_ssize_t>w * h, pad = w + 1, q
    cdef int it_o, it_i
    cdef real* du = wk.dub + pad
    cdef real* dv = wk.dvb + pad
    cdef real om1 = <real>(1.0 - o.omega)
    cdef int nt = level_threads(nthreads, w, h, o)
    for it_o in range(n_outer):
        data_terms(wk, s1, w, h, nf, o.use_mask, wk.u, wk.v, nt)
        memset(du, 0, n * sizeof(real))
        memset(dv, 0, n * sizeof(real))
        for it_i in range(n_inner):
            robust_system(wk, wk.u, wk.v, du, dv, w, h, nf, o, nt)
            memset(du, 0, n * sizeof(real))
            memset(dv, 0, n * sizeof(real))
            sor(wk, w, h, n_sor, o.redblack, om1, nt)
        for q in range(n):
            wk.u[q] = wk.u[q] + du[q]
            wk.v[q] = wk.v[q] + dv[q]
        warp_bilinear_par(f2, f1, wk.u, wk.v, wk.w2, w, h, nf, o.warp_ref, nt)
