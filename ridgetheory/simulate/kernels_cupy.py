"""CuPy GPU kernel: the numba kernels of :mod:`.kernels_numba`, written once in CUDA C.

One thread advances one trajectory through a range of steps. State and scratch live in
column-major (D, M) device arrays so that neighbouring threads read neighbouring addresses
(coalesced) and there is no compile-time limit on D. The empirical score takes two passes
over the training set (max and anchor, then anchored sums) instead of an n-long buffer per
thread; memory stays O((M + n) D). The counter-based normals use the same 64-bit integer
arithmetic as numpy and numba, so the noise bits agree; ``log``/``cos``/``exp`` of the CUDA
math library may differ from the CPU ones in the last ulp, and the kernel is compiled with
``--fmad=false`` so that no multiply-add is contracted. Agreement with the numpy reference is
therefore at rounding level (tolerance stated in :data:`CUPY_RTOL`).

This module imports cupy only inside functions (see :mod:`ridgetheory.backend`).
"""

from __future__ import annotations

import functools

import numpy as np

from .noise import C2, C3, COS_COEF, G2, LN2, LOG_COEF, M1, M2, SIN_COEF, SQRT_HALF, G

__all__ = ["run_cupy", "normals_cupy", "CUPY_RTOL", "SOURCE"]

#: stated agreement of cupy with the numpy reference (max |diff| / (1 + max |y|)) on the
#: test problems of benchmarks/gpu_check.py
CUPY_RTOL = 1e-9

SOURCE = r"""
typedef unsigned long long u64;
#define UM1 @M1@ULL
#define UM2 @M2@ULL
#define UG @G@ULL
#define UG2x @G2x@ULL
#define UGG2 @GG2@ULL
#define UC2 @C2@ULL
#define UC3 @C3@ULL
#define INV53 (1.0 / 9007199254740992.0)
#define TWO_PI 6.283185307179586

__device__ __forceinline__ u64 mix(u64 z) {
    z = (z ^ (z >> 30)) * UM1;
    z = (z ^ (z >> 27)) * UM2;
    return z ^ (z >> 31);
}

__device__ __forceinline__ u64 traj_key(u64 skey, long long i) {
    return mix(skey ^ ((u64)i * UGG2 + UC2));
}

/* log and cos by the same fixed polynomials as numpy and numba (bit-identical normals) */
__device__ __forceinline__ double horner(double w, const double* c, int n) {
    double p = c[n - 1];
    for (int i = n - 2; i >= 0; i--) p = p * w + c[i];
    return p * w + 1.0;
}

__device__ __forceinline__ double log01(double u) {
    const double c[11] = {@LOG@};
    int e;
    double m = frexp(u, &e);
    if (m < @SQRT_HALF@) { m = m * 2.0; e -= 1; }
    double f = m - 1.0;
    double z = f / (f + 2.0);
    return (double)e * @LN2@ + 2.0 * z * horner(z * z, c, 11);
}

__device__ __forceinline__ double cos2pi(double u) {
    const double cc[10] = {@COS@};
    const double sc[9] = {@SIN@};
    double k = floor(u * 4.0);
    double r = u - 0.25 * k;
    int q = (int)k;
    if (r > 0.125) { r = r - 0.25; q += 1; }
    q = q & 3;
    double th = TWO_PI * r;
    double w = th * th;
    if (q == 0) return horner(w, cc, 10);
    if (q == 1) return -(th * horner(w, sc, 9));
    if (q == 2) return -horner(w, cc, 10);
    return th * horner(w, sc, 9);
}

__device__ __forceinline__ double normal(u64 kt, long long step, long long j) {
    u64 c = ((u64)step << 32) | (u64)j;
    u64 base = mix(kt ^ mix(c + UC3));
    u64 r1 = mix(base + UG);
    u64 r2 = mix(base + UG2x);
    double u1 = (double)((r1 >> 11) + 1ULL) * INV53;
    double u2 = (double)(r2 >> 11) * INV53;
    return sqrt(-2.0 * log01(u1)) * cos2pi(u2);
}

/* y, out: column-major rows, element j at [j * M] */
__device__ void score_emp(const double* y, double* out, long long M, int D, double a, double h,
                          const double* data, const double* sqn, int n, double cut) {
    int k = 0;
    double top = __longlong_as_double(0xfff0000000000000LL);
    for (int i = 0; i < n; i++) {
        double dot = 0.0;
        for (int j = 0; j < D; j++) dot += y[j * M] * data[(long long)i * D + j];
        double li = (a * dot - 0.5 * (a * a) * sqn[i]) / h;
        if (li > top) { top = li; k = i; }
    }
    for (int j = 0; j < D; j++) out[j * M] = 0.0;
    double rest = 0.0;
    for (int i = 0; i < n; i++) {
        if (i == k) continue;
        double dot = 0.0;
        for (int j = 0; j < D; j++) dot += y[j * M] * data[(long long)i * D + j];
        double li = (a * dot - 0.5 * (a * a) * sqn[i]) / h;
        if (li < top + cut) continue;  /* below 2^-60 / n of the anchor, as in numba */
        double e = exp(li - top);
        rest += e;
        for (int j = 0; j < D; j++)
            out[j * M] += e * (data[(long long)i * D + j] - data[(long long)k * D + j]);
    }
    double denom = 1.0 + rest;
    for (int j = 0; j < D; j++)
        out[j * M] = ((a * data[(long long)k * D + j] - y[j * M]) + a * (out[j * M] / denom)) / h;
}

/* svar[c] = a^2 v_c + h and logs[c] = log(svar[c]) at this grid time (from numpy) */
__device__ double gmm_logit(const double* y, long long M, int D, double a, const double* means,
                            const double* logw, const double* svar, const double* logs, int c) {
    double sq = 0.0;
    for (int j = 0; j < D; j++) {
        double d = y[j * M] - a * means[(long long)c * D + j];
        sq += d * d;
    }
    return logw[c] - 0.5 * sq / svar[c] - 0.5 * D * logs[c];
}

__device__ void score_gmm(const double* y, double* out, long long M, int D, double a,
                          const double* means, const double* logw, const double* svar,
                          const double* logs, int K, double cut) {
    int k = 0;
    double top = __longlong_as_double(0xfff0000000000000LL);
    for (int c = 0; c < K; c++) {
        double lc = gmm_logit(y, M, D, a, means, logw, svar, logs, c);
        if (lc > top) { top = lc; k = c; }
    }
    double rest = 0.0;
    for (int c = 0; c < K; c++) {
        if (c == k) continue;
        double lc = gmm_logit(y, M, D, a, means, logw, svar, logs, c);
        if (lc >= top + cut) rest += exp(lc - top);  /* as numba: negligible terms skipped */
    }
    double denom = 1.0 + rest;
    for (int j = 0; j < D; j++) out[j * M] = 0.0;
    for (int c = 0; c < K; c++) {
        double g;
        if (c == k) {
            g = 1.0 - rest / denom;
        } else {
            double lc = gmm_logit(y, M, D, a, means, logw, svar, logs, c);
            g = (lc >= top + cut) ? exp(lc - top) / denom : 0.0;
        }
        double w = g / svar[c];
        for (int j = 0; j < D; j++) out[j * M] -= w * (y[j * M] - a * means[(long long)c * D + j]);
    }
}

__device__ void score_rf(const double* y, double* out, long long M, int D, double h,
                         const double* Wx, const double* A, const double* off, int p,
                         int act, int param) {
    for (int d = 0; d < D; d++) out[d * M] = 0.0;
    for (int q = 0; q < p; q++) {
        double u = off[q];
        for (int j = 0; j < D; j++) u += Wx[(long long)q * D + j] * y[j * M];
        if (act == 0) u = u > 0.0 ? u : 0.0;
        else if (act == 1) u = tanh(u);
        else u = 0.5 * (tanh(0.5 * u) + 1.0);
        for (int d = 0; d < D; d++) out[d * M] += A[(long long)d * p + q] * u;
    }
    if (param == 0)
        for (int d = 0; d < D; d++) out[d * M] = (out[d * M] - y[d * M]) / h;
}

__device__ void score(int kind, const double* y, double* out, long long M, int D, int l,
                      const double* a, const double* h, const double* mat1, int n1,
                      const double* mat2, const double* mat3, const double* vec1,
                      const double* vec2, int act, int param) {
    if (kind == 0) score_emp(y, out, M, D, a[l], h[l], mat1, vec1, n1, vec2[0]);
    else if (kind == 1)
        score_gmm(y, out, M, D, a[l], mat1, vec2, mat2 + (long long)l * n1,
                  mat3 + (long long)l * n1, n1, vec1[0]);
    else score_rf(y, out, M, D, h[l], mat1, mat2, mat3 + (long long)l * n1, n1, act, param);
}

extern "C" __global__ void run(double* Y, double* S1, double* S2, double* U, long long M, int D,
                               long long traj0, int l0, int l1, const double* coef,
                               const double* a, const double* h, int kind,
                               const double* mat1, int n1, const double* mat2,
                               const double* mat3, const double* vec1, const double* vec2,
                               int act, int param, u64 skey, int stochastic, int stages) {
    long long m = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= M) return;
    double* y = Y + m;
    double* s1 = S1 + m;
    double* s2 = S2 + m;
    double* u = U + m;
    u64 kt = traj_key(skey, traj0 + m);
    for (int l = l0; l < l1; l++) {
        const double* c = coef + (long long)l * 7;
        score(kind, y, s1, M, D, l, a, h, mat1, n1, mat2, mat3, vec1, vec2, act, param);
        if (stages == 2) {
            for (int j = 0; j < D; j++) u[j * M] = c[0] * y[j * M] + c[1] * s1[j * M];
            score(kind, u, s2, M, D, l + 1, a, h, mat1, n1, mat2, mat3, vec1, vec2, act, param);
            for (int j = 0; j < D; j++)
                y[j * M] = c[2] * y[j * M] + c[3] * s1[j * M] + c[4] * u[j * M] + c[5] * s2[j * M];
        } else if (stochastic) {
            for (int j = 0; j < D; j++)
                y[j * M] = c[2] * y[j * M] + c[3] * s1[j * M] + c[6] * normal(kt, l, j);
        } else {
            for (int j = 0; j < D; j++) y[j * M] = c[2] * y[j * M] + c[3] * s1[j * M];
        }
    }
}

extern "C" __global__ void normals(double* out, const long long* traj, long long M, int D,
                                   long long step, u64 skey) {
    long long m = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= M) return;
    u64 kt = traj_key(skey, traj[m]);
    for (int j = 0; j < D; j++) out[m * D + j] = normal(kt, step, j);
}
"""


def _fill(src: str) -> str:
    """Insert the integer and polynomial constants of :mod:`.noise` (exact reprs)."""
    ints = {"M1": M1, "M2": M2, "G": G, "G2x": (2 * G) & ((1 << 64) - 1), "GG2": G2, "C2": C2,
            "C3": C3}
    floats = {"LOG": LOG_COEF, "COS": COS_COEF, "SIN": SIN_COEF, "SQRT_HALF": (SQRT_HALF,),
              "LN2": (LN2,)}
    for k, v in ints.items():
        src = src.replace(f"@{k}@", str(v))
    for k, v in floats.items():
        src = src.replace(f"@{k}@", ", ".join(repr(float(x)) for x in v))
    return src


SOURCE = _fill(SOURCE)

_THREADS = 128


@functools.cache
def _module():
    from ..backend import get_cupy

    cp = get_cupy()
    return cp, cp.RawModule(code=SOURCE, options=("--fmad=false", "-std=c++11"))


class DeviceState:
    """Column-major device copy of a chunk of trajectories plus scratch, and the score data."""

    def __init__(self, Y_host, coef, a, h, spec):
        cp, mod = _module()
        self.cp, self.kernel = cp, mod.get_function("run")
        self.M, self.D = Y_host.shape
        self.Y = cp.asarray(np.ascontiguousarray(Y_host.T))
        self.S1 = cp.empty_like(self.Y)
        self.S2 = cp.empty_like(self.Y)
        self.U = cp.empty_like(self.Y)
        self.coef, self.a, self.h = (cp.asarray(np.ascontiguousarray(v)) for v in (coef, a, h))
        self.spec = spec
        self.dev = {k: cp.asarray(getattr(spec, k)) for k in ("mat1", "mat2", "mat3", "vec1",
                                                               "vec2")}

    def advance(self, traj0, l0, l1, skey, stochastic, stages):
        d, sp = self.dev, self.spec
        blocks = (self.M + _THREADS - 1) // _THREADS
        self.kernel(
            (blocks,), (_THREADS,),
            (self.Y, self.S1, self.S2, self.U, np.int64(self.M), np.int32(self.D),
             np.int64(traj0), np.int32(l0), np.int32(l1), self.coef, self.a, self.h,
             np.int32(sp.kind), d["mat1"], np.int32(sp.mat1.shape[0]), d["mat2"], d["mat3"],
             d["vec1"], d["vec2"], np.int32(sp.act), np.int32(sp.param), np.uint64(skey),
             np.int32(bool(stochastic)), np.int32(stages)),
        )

    def host(self):
        return np.ascontiguousarray(self.cp.asnumpy(self.Y).T)


def run_cupy(Y_host, coef, a, h, spec):
    """A :class:`DeviceState` for ``Y_host`` (M, D); call ``advance`` per segment."""
    return DeviceState(Y_host, coef, a, h, spec)


def normals_cupy(skey, traj, step, dim):
    """Counter-based normals on the GPU (same bits as numpy up to log/cos ulps), host array."""
    cp, mod = _module()
    traj_d = cp.asarray(np.asarray(traj, dtype=np.int64))
    M = traj_d.shape[0]
    out = cp.empty((M, dim), dtype=cp.float64)
    blocks = (M + _THREADS - 1) // _THREADS
    mod.get_function("normals")((max(blocks, 1),), (_THREADS,),
                                (out, traj_d, np.int64(M), np.int32(dim), np.int64(step),
                                 np.uint64(skey)))
    return cp.asnumpy(out)
