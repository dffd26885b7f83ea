# Low-level image operations on planar float32 images (row-major, one plane per channel).
# Filters, Gaussian taps and bilinear resizing. Included by _core.pxi; all functions are nogil and use clamped
# (replicate) borders.

cdef inline int clampi(int a, int n) noexcept nogil:
    if a < 0:
        return 0
    if a >= n:
        return n - 1
    return a


cdef inline int ifloor(double x, int n) noexcept nogil:
    """floor(x) for a coordinate first clamped to [-1, n] (callers clamp indices to [0, n - 1] anyway); avoids the
    libm call that baseline x86-64 (no SSE4.1) makes for floor(). NaN maps to -1."""
    cdef int i
    if not (x >= -1.0):   # also NaN: a C cast of NaN to int is undefined
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
