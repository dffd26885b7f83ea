# Low-level image operations on planar float32 images (row-major, one plane per channel).
# Included by _flow.pyx; all functions are nogil and use clamped (replicate) borders.

cdef inline int clampi(int a, int n) noexcept nogil:
    if a < 0:
        return 0
    if a >= n:
        return n - 1
    return a


cdef inline int ifloor(double x, int n) noexcept nogil:
    """floor(x) for a coordinate first clamped to [-1, n] (callers clamp indices to [0, n - 1] anyway); avoids the
    libm call that baseline x86-64 (no SSE4.1) makes for floor()."""
    cdef int i
    if x < -1.0:
        x = -1.0
    elif x > n:
        x = n
    i = <int>x
    return i - (x < i)


cdef void filt_h(const real* src, real* dst, int w, int h, const double* f, int r) noexcept nogil:
    """Horizontal correlation with the (2r+1)-tap filter f (r <= 15), replicate border."""
    cdef int i, j, l
    cdef real s
    cdef real fr[31]
    cdef const real* row
    cdef real* out
    for l in range(2 * r + 1):
        fr[l] = <real>f[l]
    for i in range(h):
        row = src + <Py_ssize_t>i * w
        out = dst + <Py_ssize_t>i * w
        for j in range(r, w - r):
            s = 0
            for l in range(2 * r + 1):
                s = s + fr[l] * row[j + l - r]
            out[j] = s
        for j in range(w):
            if j >= r and j < w - r:
                continue
            s = 0
            for l in range(2 * r + 1):
                s = s + fr[l] * row[clampi(j + l - r, w)]
            out[j] = s


cdef void filt_v(const real* src, real* dst, int w, int h, const double* f, int r) noexcept nogil:
    """Vertical correlation with the (2r+1)-tap filter f (r <= 15), replicate border; vectorisable."""
    cdef int i, j, l
    cdef real fl
    cdef const real* row
    cdef real* out
    for i in range(h):
        out = dst + <Py_ssize_t>i * w
        row = src + <Py_ssize_t>clampi(i - r, h) * w
        fl = <real>f[0]
        for j in range(w):
            out[j] = fl * row[j]
        for l in range(1, 2 * r + 1):
            row = src + <Py_ssize_t>clampi(i + l - r, h) * w
            fl = <real>f[l]
            for j in range(w):
                out[j] = out[j] + fl * row[j]


cdef void filt5_h_rows(const real* src, real* dst, int w, int h, const double* fd, int i0, int i1) noexcept nogil:
    """Rows i0 .. i1 - 1 of a 5-tap horizontal correlation, replicate border; float arithmetic, branch-free
    interior."""
    cdef int i, j, l
    cdef real f0 = <real>fd[0], f1 = <real>fd[1], f2 = <real>fd[2], f3 = <real>fd[3], f4 = <real>fd[4]
    cdef const real* row
    cdef real* out
    cdef real s
    for i in range(i0, i1):
        row = src + <Py_ssize_t>i * w
        out = dst + <Py_ssize_t>i * w
        for j in range(2, w - 2):
            out[j] = f0 * row[j - 2] + f1 * row[j - 1] + f2 * row[j] + f3 * row[j + 1] + f4 * row[j + 2]
        j = 0
        while j < w:  # the border columns (2 each side; all of them when w <= 4)
            s = 0
            for l in range(5):
                s = s + <real>fd[l] * row[clampi(j + l - 2, w)]
            out[j] = s
            j = w - 2 if (j == 1 and w > 4) else j + 1


cdef inline void filt5_h(const real* src, real* dst, int w, int h, const double* fd) noexcept nogil:
    filt5_h_rows(src, dst, w, h, fd, 0, h)


cdef void filt5_v_rows(const real* src, real* dst, int w, int h, const double* fd, int i0, int i1) noexcept nogil:
    """Rows i0 .. i1 - 1 of a 5-tap vertical correlation, replicate border; vectorisable inner loop."""
    cdef int i, j
    cdef real f0 = <real>fd[0], f1 = <real>fd[1], f2 = <real>fd[2], f3 = <real>fd[3], f4 = <real>fd[4]
    cdef const real* r0
    cdef const real* r1
    cdef const real* r2
    cdef const real* r3
    cdef const real* r4
    cdef real* out
    for i in range(i0, i1):
        r0 = src + <Py_ssize_t>clampi(i - 2, h) * w
        r1 = src + <Py_ssize_t>clampi(i - 1, h) * w
        r2 = src + <Py_ssize_t>i * w
        r3 = src + <Py_ssize_t>clampi(i + 1, h) * w
        r4 = src + <Py_ssize_t>clampi(i + 2, h) * w
        out = dst + <Py_ssize_t>i * w
        for j in range(w):
            out[j] = f0 * r0[j] + f1 * r1[j] + f2 * r2[j] + f3 * r3[j] + f4 * r4[j]


cdef inline void filt5_v(const real* src, real* dst, int w, int h, const double* fd) noexcept nogil:
    filt5_v_rows(src, dst, w, h, fd, 0, h)


cdef double D5[5]
D5[0] = 1.0 / 12.0
D5[1] = -8.0 / 12.0
D5[2] = 0.0
D5[3] = 8.0 / 12.0
D5[4] = -1.0 / 12.0

cdef double G5[5]
G5[0] = 0.02
G5[1] = 0.11
G5[2] = 0.74
G5[3] = 0.11
G5[4] = 0.02


cdef int gauss_filter(double sigma, double* f) noexcept nogil:
    """Normalised Gaussian taps, radius int(3 sigma) (at most 15); returns the radius."""
    cdef int r = <int>(sigma * 3.0)
    cdef int i
    cdef double s = 0.0
    if r > 15:
        r = 15
    if r < 1:
        f[0] = 1.0
        return 0
    for i in range(-r, r + 1):
        f[i + r] = exp(-<double>(i * i) / (2.0 * sigma * sigma))
        s = s + f[i + r]
    for i in range(2 * r + 1):
        f[i] = f[i] / s
    return r


cdef inline double bilin(const real* p, int w, int h, double x, double y) noexcept nogil:
    cdef int x0 = ifloor(x, w)
    cdef int y0 = ifloor(y, h)
    cdef double dx = x - x0
    cdef double dy = y - y0
    cdef int xa = clampi(x0, w)
    cdef int xb = clampi(x0 + 1, w)
    cdef Py_ssize_t ya = <Py_ssize_t>clampi(y0, h) * w
    cdef Py_ssize_t yb = <Py_ssize_t>clampi(y0 + 1, h) * w
    return ((1.0 - dy) * ((1.0 - dx) * p[ya + xa] + dx * p[ya + xb])
            + dy * ((1.0 - dx) * p[yb + xa] + dx * p[yb + xb]))


cdef inline double src_coord(int j, double scale, int sn, int dn, int mode) noexcept nogil:
    """Source coordinate of destination index j for a resize by `scale` (dst/src)."""
    if mode == 0:
        return (j + 1.0) / scale - 1.0
    if mode == 1:
        return j / scale
    if dn <= 1:
        return 0.0
    return j * (sn - 1.0) / (dn - 1.0)


cdef void resize_plane(const real* src, int sw, int sh, real* dst, int dw, int dh,
                       double sx, double sy, int mode) noexcept nogil:
    """Bilinear resize of one plane; sx, sy are the dst/src scale factors."""
    cdef int i, j
    cdef double x, y
    for i in range(dh):
        y = src_coord(i, sy, sh, dh, mode)
        for j in range(dw):
            x = src_coord(j, sx, sw, dw, mode)
            dst[<Py_ssize_t>i * dw + j] = <real>bilin(src, sw, sh, x, y)


cdef void warp_bilinear(const real* f2, const real* f1, const real* u, const real* v, real* out,
                        int w, int h, int nc, int ref_fallback, int i0, int i1) noexcept nogil:
    """Rows i0 .. i1 - 1 of out(x) = f2(x + flow) (bilinear); where x + flow leaves the image, out takes f1's value
    when ref_fallback, else f2 is sampled with replicated borders."""
    cdef int i, j, c, x0, y0, xa, xb
    cdef Py_ssize_t o, n = <Py_ssize_t>w * h, ya, yb
    cdef double x, y, fx0, fy0
    cdef real dx, dy, w00, w01, w10, w11
    cdef const real* p
    for i in range(i0, i1):
        for j in range(w):
            o = <Py_ssize_t>i * w + j
            x = j + u[o]
            y = i + v[o]
            if x < 0 or x > w - 1 or y < 0 or y > h - 1:
                if ref_fallback:
                    for c in range(nc):
                        out[c * n + o] = f1[c * n + o]
                    continue
            x0 = ifloor(x, w)
            y0 = ifloor(y, h)
            dx = <real>(x - x0) if x >= -1.0 and x <= w else 0
            dy = <real>(y - y0) if y >= -1.0 and y <= h else 0
            xa = clampi(x0, w)
            xb = clampi(x0 + 1, w)
            ya = <Py_ssize_t>clampi(y0, h) * w
            yb = <Py_ssize_t>clampi(y0 + 1, h) * w
            w00 = (1 - dx) * (1 - dy)
            w01 = dx * (1 - dy)
            w10 = (1 - dx) * dy
            w11 = dx * dy
            for c in range(nc):
                p = f2 + c * n
                out[c * n + o] = w00 * p[ya + xa] + w01 * p[ya + xb] + w10 * p[yb + xa] + w11 * p[yb + xb]


cdef inline double cubic_patch(double p00, double p10, double p01, double p11,
                               double x00, double x10, double x01, double x11,
                               double y00, double y10, double y01, double y11,
                               double z00, double z10, double z01, double z11,
                               double tx, double ty) noexcept nogil:
    """Bicubic (Hermite) patch from values, x/y derivatives and cross derivatives at the 4 corners."""
    # 1-D Hermite basis along x, applied to value and y-derivative rows, then along y.
    cdef double tx2 = tx * tx, tx3 = tx2 * tx, ty2 = ty * ty, ty3 = ty2 * ty
    cdef double h00x = 2 * tx3 - 3 * tx2 + 1, h10x = tx3 - 2 * tx2 + tx
    cdef double h01x = -2 * tx3 + 3 * tx2, h11x = tx3 - tx2
    cdef double h00y = 2 * ty3 - 3 * ty2 + 1, h10y = ty3 - 2 * ty2 + ty
    cdef double h01y = -2 * ty3 + 3 * ty2, h11y = ty3 - ty2
    cdef double f0 = h00x * p00 + h10x * x00 + h01x * p10 + h11x * x10   # value along row y0
    cdef double f1 = h00x * p01 + h10x * x01 + h01x * p11 + h11x * x11   # value along row y1
    cdef double g0 = h00x * y00 + h10x * z00 + h01x * y10 + h11x * z10   # d/dy along row y0
    cdef double g1 = h00x * y01 + h10x * z01 + h01x * y11 + h11x * z11   # d/dy along row y1
    return h00y * f0 + h10y * g0 + h01y * f1 + h11y * g1


cdef void warp_bicubic_ref(const double* im2, const double* im1, const real* u, const real* v,
                           double* out, int w, int h, int nc) noexcept nogil:
    """Final warp of the interleaved double image im2 (bicubic, central-difference derivatives),
    out-of-image pixels take im1's value, result clamped to [0, 1]."""
    cdef Py_ssize_t n = <Py_ssize_t>w * h * nc
    cdef double* gx = <double*>malloc(n * sizeof(double))
    cdef double* gy = <double*>malloc(n * sizeof(double))
    cdef double* gxy = <double*>malloc(n * sizeof(double))
    cdef int i, j, c, x0, y0, x1, y1
    cdef Py_ssize_t o, a, b, cc, d
    cdef double x, y, tx, ty, val
    if gx == NULL or gy == NULL or gxy == NULL:
        free(gx); free(gy); free(gxy)
        memcpy(out, im1, n * sizeof(double))
        return
    for i in range(h):
        for j in range(w):
            for c in range(nc):
                o = (<Py_ssize_t>i * w + j) * nc + c
                gx[o] = 0.5 * (im2[(<Py_ssize_t>i * w + clampi(j + 1, w)) * nc + c]
                               - im2[(<Py_ssize_t>i * w + clampi(j - 1, w)) * nc + c])
                gy[o] = 0.5 * (im2[(<Py_ssize_t>clampi(i + 1, h) * w + j) * nc + c]
                               - im2[(<Py_ssize_t>clampi(i - 1, h) * w + j) * nc + c])
    for i in range(h):
        for j in range(w):
            for c in range(nc):
                o = (<Py_ssize_t>i * w + j) * nc + c
                gxy[o] = 0.5 * (gy[(<Py_ssize_t>i * w + clampi(j + 1, w)) * nc + c]
                                - gy[(<Py_ssize_t>i * w + clampi(j - 1, w)) * nc + c])
    for i in range(h):
        for j in range(w):
            o = <Py_ssize_t>i * w + j
            x = j + u[o]
            y = i + v[o]
            if x < 0 or x > w - 1 or y < 0 or y > h - 1:
                for c in range(nc):
                    out[o * nc + c] = im1[o * nc + c]
                continue
            x0 = <int>x   # x, y >= 0 here: truncation is floor
            y0 = <int>y
            tx = x - x0
            ty = y - y0
            x1 = clampi(x0 + 1, w)
            y1 = clampi(y0 + 1, h)
            a = (<Py_ssize_t>y0 * w + x0) * nc
            b = (<Py_ssize_t>y0 * w + x1) * nc
            cc = (<Py_ssize_t>y1 * w + x0) * nc
            d = (<Py_ssize_t>y1 * w + x1) * nc
            for c in range(nc):
                val = cubic_patch(im2[a + c], im2[b + c], im2[cc + c], im2[d + c],
                                  gx[a + c], gx[b + c], gx[cc + c], gx[d + c],
                                  gy[a + c], gy[b + c], gy[cc + c], gy[d + c],
                                  gxy[a + c], gxy[b + c], gxy[cc + c], gxy[d + c], tx, ty)
                if val < 0.0:
                    val = 0.0
                elif val > 1.0:
                    val = 1.0
                out[o * nc + c] = val
    free(gx); free(gy); free(gxy)


cdef void warp_bilinear_par(const real* f2, const real* f1, const real* u, const real* v, real* out,
                            int w, int h, int nc, int ref_fallback, int nt) noexcept nogil:
    """`warp_bilinear` of the whole image, rows split over nt threads."""
    cdef int i
    if nt <= 1:
        warp_bilinear(f2, f1, u, v, out, w, h, nc, ref_fallback, 0, h)
        return
    for i in prange(h, num_threads=nt, schedule="static"):
        warp_bilinear(f2, f1, u, v, out, w, h, nc, ref_fallback, i, i + 1)
