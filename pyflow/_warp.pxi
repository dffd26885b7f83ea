# Warping by a flow: bilinear on the float32 feature planes (inside the iterations), bicubic on the double input
# image (the returned warped im2). Included by _core.pxi after _ops.pxi.

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
            if not (x >= 0 and x <= w - 1 and y >= 0 and y <= h - 1):   # also a NaN flow: never index with it
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
