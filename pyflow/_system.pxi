# The linearised system of one fixed-point iteration: data-term derivatives, robust weights and the SOR
# coefficients. Row kernels take restrict pointers and have no branches, so the compiler vectorises them; image
# borders are handled by passing a row as its own neighbour (differences 0) and by zero weights. The arithmetic
# (operations and their order) is the straightforward per-pixel formula's. Included by _solver.pxi.

cdef double EPS2 = 1e-6   # Charbonnier epsilon^2 (epsilon = 1e-3)


cdef inline int level_threads(int nthreads, int w, int h, Opts* o) noexcept nogil:
    """Threads for one pair's work on a w x h level: smaller levels run on one (start-up and barriers cost more)."""
    return nthreads if (nthreads > 1 and <Py_ssize_t>w * h >= o.par_min) else 1


cdef void data_pass(Work* wk, const real* s1, int step, Py_ssize_t c, int i0, int i1, int w, int h) noexcept nogil:
    """Rows i0 .. i1 - 1 of feature channel c, one of three steps that each need the previous one's neighbouring
    rows: 0 smooths the warped im2 horizontally, 1 vertically and blends it with im1 (0.4 * im1 + 0.6 * im2, both
    pre-smoothed) and takes the temporal difference, 2 differentiates the blend."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, o = c * n, r
    cdef int i
    if step == 0:
        filt5_h_rows(wk.w2 + o, wk.tmp + o, w, h, G5, i0, i1)
    elif step == 1:
        filt5_v_rows(wk.tmp + o, wk.s2 + o, w, h, G5, i0, i1)
        r = o + <Py_ssize_t>i0 * w
        blend_row(<Py_ssize_t>(i1 - i0) * w, s1 + r, wk.s2 + r, wk.tmp2 + r, wk.it + r)
    else:
        filt5_h_rows(wk.tmp2 + o, wk.ix + o, w, h, D5, i0, i1)
        filt5_v_rows(wk.tmp2 + o, wk.iy + o, w, h, D5, i0, i1)


cdef void data_terms(Work* wk, const real* s1, int w, int h, int nf, int use_mask, const real* u,
                     const real* v, int nt) noexcept nogil:
    """ix, iy, it for every feature channel: each step over whole channels on one thread, or over all channels'
    rows (nf * h items) split across nt threads."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, q, c, t
    cdef int i, j, step
    cdef real x, y
    for step in range(3):
        if nt <= 1:
            for c in range(nf):
                data_pass(wk, s1, step, c, 0, h, w, h)
        else:
            for t in prange(nf * h, num_threads=nt, schedule="static"):
                data_pass(wk, s1, step, t // h, t % h, t % h + 1, w, h)
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


cdef void blend_row(Py_ssize_t n, crfp s1, crfp s2, rfp blend, rfp it) noexcept nogil:
    cdef Py_ssize_t q
    for q in range(n):
        blend[q] = <real>0.4 * s1[q] + <real>0.6 * s2[q]
        it[q] = s2[q] - s1[q]


cdef void sum_row(Py_ssize_t n, crfp a, crfp b, rfp out) noexcept nogil:
    cdef Py_ssize_t q
    for q in range(n):
        out[q] = a[q] + b[q]


cdef void phi_row(int n, crfp U, crfp Ur, crfp Ud, crfp V, crfp Vr, crfp Vd, rfp wx, rfp wy, real ahalf,
                  real eps) noexcept nogil:
    """Smoothness weight alpha * phi'(|grad u|^2 + |grad v|^2) from forward differences (U, V: u + du, v + dv)."""
    cdef int k
    cdef real ux, uy, vx, vy, phi
    for k in range(n):
        ux = Ur[k] - U[k]
        vx = Vr[k] - V[k]
        uy = Ud[k] - U[k]
        vy = Vd[k] - V[k]
        phi = ahalf / sqrtf(ux * ux + uy * uy + vx * vx + vy * vy + eps)
        wx[k] = phi
        wy[k] = phi


cdef void psi_row(Py_ssize_t n, crfp ix, crfp iy, crfp it, crfp du, crfp dv, rfp a11, rfp a12, rfp a22, rfp b1,
                  rfp b2, real eps) noexcept nogil:
    """Add one feature channel's robust data term psi'(...) to the 2 x 2 system."""
    cdef Py_ssize_t q
    cdef real t, psi
    for q in range(n):
        t = it[q] + ix[q] * du[q] + iy[q] * dv[q]
        psi = <real>0.5 / sqrtf(t * t + eps)
        a11[q] += psi * ix[q] * ix[q]
        a12[q] += psi * ix[q] * iy[q]
        a22[q] += psi * iy[q] * iy[q]
        b1[q] += psi * ix[q] * it[q]
        b2[q] += psi * iy[q] * it[q]


cdef void coeff_row(int n, crfp u, crfp uup, crfp udn, crfp v, crfp vup, crfp vdn, crfp wx, crfp wy, crfp wyu,
                    rfp a11, rfp a12, rfp a22, rfp b1, rfp b2, real scale, real diag, real omega) noexcept nogil:
    """Interior columns of one row: smoothness divergence of the current flow and the SOR coefficients
    (u[k - 1], u[k + 1] must exist; up/down rows are the row itself at the top/bottom border, where wy is 0)."""
    cdef int k
    cdef real lu, lv, coeff
    for k in range(n):
        lu = wx[k] * (u[k + 1] - u[k]) - wx[k - 1] * (u[k] - u[k - 1]) + wy[k] * (udn[k] - u[k]) \
            - wyu[k] * (u[k] - uup[k])
        lv = wx[k] * (v[k + 1] - v[k]) - wx[k - 1] * (v[k] - v[k - 1]) + wy[k] * (vdn[k] - v[k]) \
            - wyu[k] * (v[k] - vup[k])
        coeff = wx[k] + wx[k - 1] + wy[k] + wyu[k]
        a12[k] = a12[k] * scale
        b1[k] = -b1[k] * scale + lu
        b2[k] = -b2[k] * scale + lv
        a11[k] = omega / (a11[k] * scale + diag + coeff)   # stored as the SOR step omega / diagonal
        a22[k] = omega / (a22[k] * scale + diag + coeff)


cdef void coeff_px(Work* wk, const real* u, const real* v, const real* wx, const real* wy, int i, int j, int w,
                   int h, real scale, real diag, real omega) noexcept nogil:
    """`coeff_row` for one pixel anywhere (border columns), with explicit bounds."""
    cdef Py_ssize_t q = <Py_ssize_t>i * w + j
    cdef real lu = 0, lv = 0, coeff
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
    wk.a12[q] = wk.a12[q] * scale
    wk.b1[q] = -wk.b1[q] * scale + lu
    wk.b2[q] = -wk.b2[q] * scale + lv
    wk.inv1[q] = omega / (wk.inv1[q] * scale + diag + coeff)
    wk.inv2[q] = omega / (wk.inv2[q] * scale + diag + coeff)


cdef void weights_row(Work* wk, const real* du, const real* dv, int i, int w, int h, int nf,
                      real ahalf, real eps) noexcept nogil:
    """Row i: smoothness weights wx, wy from U = u + du, V = v + dv, and the data terms of all channels."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h, r = <Py_ssize_t>i * w, dn = r + w if i < h - 1 else r, c
    cdef real* wx = wk.wxb + (w + 1)
    cdef real* wy = wk.wyb + (w + 1)
    cdef real* U = wk.u2
    cdef real* V = wk.v2
    cdef real ux = 0, vx = 0, uy, vy
    phi_row(w - 1, U + r, U + r + 1, U + dn, V + r, V + r + 1, V + dn, wx + r, wy + r, ahalf, eps)
    uy = U[dn + w - 1] - U[r + w - 1]     # last column: no right neighbour
    vy = V[dn + w - 1] - V[r + w - 1]
    wy[r + w - 1] = ahalf / sqrtf(ux * ux + uy * uy + vx * vx + vy * vy + eps)
    wx[r + w - 1] = 0
    if i == h - 1:                        # last row: no lower neighbour
        memset(wy + r, 0, w * sizeof(real))
    memset(wk.inv1 + r, 0, w * sizeof(real))
    memset(wk.a12 + r, 0, w * sizeof(real))
    memset(wk.inv2 + r, 0, w * sizeof(real))
    memset(wk.b1 + r, 0, w * sizeof(real))
    memset(wk.b2 + r, 0, w * sizeof(real))
    for c in range(nf):
        psi_row(w, wk.ix + c * n + r, wk.iy + c * n + r, wk.it + c * n + r, du + r, dv + r, wk.inv1 + r,
                wk.a12 + r, wk.inv2 + r, wk.b1 + r, wk.b2 + r, eps)


cdef void coeff_rows(Work* wk, const real* u, const real* v, int i, int w, int h, real scale, real diag,
                     real omega) noexcept nogil:
    """Row i of the SOR coefficients (needs the weights of rows i - 1 and i)."""
    cdef Py_ssize_t r = <Py_ssize_t>i * w, dn = r + w if i < h - 1 else r, up = r - w if i > 0 else r
    cdef real* wx = wk.wxb + (w + 1)
    cdef real* wy = wk.wyb + (w + 1)
    coeff_px(wk, u, v, wx, wy, i, 0, w, h, scale, diag, omega)
    if w > 2:
        coeff_row(w - 2, u + r + 1, u + up + 1, u + dn + 1, v + r + 1, v + up + 1, v + dn + 1, wx + r + 1,
                  wy + r + 1, wy + r + 1 - w, wk.inv1 + r + 1, wk.a12 + r + 1, wk.inv2 + r + 1, wk.b1 + r + 1,
                  wk.b2 + r + 1, scale, diag, omega)
    if w > 1:
        coeff_px(wk, u, v, wx, wy, i, w - 1, w, h, scale, diag, omega)


cdef void robust_system(Work* wk, const real* u, const real* v, const real* du, const real* dv, int w, int h,
                        int nf, Opts* o, int nt) noexcept nogil:
    """Smoothness weights phi (alpha folded in), data weights psi per channel, and the SOR coefficients
    (inv1, inv2 hold a11, a22 until they become the SOR steps); rows split over nt threads."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h
    cdef int i
    cdef real alpha = <real>o.alpha, eps = <real>EPS2, scale = <real>(1.0 / nf if o.collapse_mean else 1.0)
    cdef real omega = <real>o.omega, diag = <real>(o.diag * o.alpha), ahalf = alpha * <real>0.5
    memset(wk.wxb, 0, (w + 1) * sizeof(real))   # the pad rows before the weights: zero, not a coarser level's data
    memset(wk.wyb, 0, (w + 1) * sizeof(real))
    sum_row(n, u, du, wk.u2)
    sum_row(n, v, dv, wk.v2)
    if nt <= 1:
        for i in range(h):
            weights_row(wk, du, dv, i, w, h, nf, ahalf, eps)
        for i in range(h):
            coeff_rows(wk, u, v, i, w, h, scale, diag, omega)
    else:
        for i in prange(h, num_threads=nt, schedule="static"):
            weights_row(wk, du, dv, i, w, h, nf, ahalf, eps)
        for i in prange(h, num_threads=nt, schedule="static"):
            coeff_rows(wk, u, v, i, w, h, scale, diag, omega)
