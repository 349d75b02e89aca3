"""CuPy GPU kernel: the numba kernels of :mod:`.kernels_numba`, written once in CUDA C.

One thread advances one trajectory through a range of steps. State and scratch live in
column-major (D, M) device arrays so that neighbouring threads read neighbouring addresses
(coalesced) and there is no compile-time limit on D. The empirical score restates the
anchored blocks of :mod:`ridgetheory._numba_maths` in two passes over the training set
(anchor and runner-up, then the anchored sums) instead of an n-long buffer per thread; memory
stays O((M + n) D). The score-kind, activation and parametrization codes, the ``exp``
cut-off and the noise constants are filled into :data:`SOURCE` by :func:`_fill` from the
Python definitions the numba kernels use. The counter-based normals use the same 64-bit integer
arithmetic as numpy and numba, so the noise bits agree; ``log``/``cos``/``exp`` of the CUDA
math library may differ from the CPU ones in the last ulp, and the kernel is compiled with
``--fmad=false`` so that no multiply-add is contracted. Agreement with the numpy reference is
therefore at rounding level (tolerance stated in :data:`CUPY_RTOL`).

This module imports cupy only inside functions (see :mod:`ridgetheory.backend`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._numba_maths import EXP_MIN
from .noise import C2, C3, COS_COEF, G2, LN2, LOG_COEF, M1, M2, SIN_COEF, SQRT_HALF, G
from .spec import INPUT_TYPES, Activation, KernelInputs, Parametrization, ScoreKind

__all__ = ["SOURCE", "CUPY_RTOL", "THREADS", "compiled", "input_arguments", "run_arguments",
           "blocks", "normals_cupy"]

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
#define NEG_INF __longlong_as_double(0xfff0000000000000LL)
#define EXP_MIN (@EXP_MIN@)
#define KIND_EMPIRICAL @EMPIRICAL@
#define KIND_MIXTURE @MIXTURE@
#define KIND_RANDOM_FEATURES @RANDOM_FEATURES@
#define ACT_RELU @RELU@
#define ACT_TANH @TANH@
#define ACT_SIGMOID @SIGMOID@
#define PARAM_DENOISER @DENOISER@
#define PARAM_SCORE @SCORE@

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

/* Each kind's inputs (the fields of its record in ridgetheory.simulate.spec) */
struct Empirical { const double* data; const double* sqnorm; int n; double cut; };
struct Mixture {
    const double* means; const double* logw; const double* svar; const double* logs; int K;
    double cut;
};
struct RandomFeatures {
    const double* Wx; const double* A; const double* bias; int p; int act; int param;
};

/* -- the anchored softmax of the empirical score, as ridgetheory._numba_maths ---------------
   y, out: column-major rows, element j at [j * M] */
__device__ __forceinline__ double exp_nonpos(double z) { return z >= EXP_MIN ? exp(z) : 0.0; }

/* logit of training point i: ca <y, x_i> - cb |x_i|^2 (the sums in the order of `logits`) */
__device__ __forceinline__ double emp_logit(const double* y, long long M, int D, double ca,
                                            double cb, const Empirical& e, int i) {
    double l = -cb * e.sqnorm[i];
    for (int j = 0; j < D; j++) l += (ca * y[j * M]) * e.data[(long long)i * D + j];
    return l;
}

/* W = 1 - g_k from tot = sum_{i != k} exp(l_i - top2) (`anchored_mass`) */
__device__ __forceinline__ double anchored_mass(double tot, double best, double top2) {
    if (!(tot > 0.0)) return 0.0;
    double rest = exp(top2 - best) * tot;
    return rest / (1.0 + rest);
}

/* two passes over the training set instead of an n-long buffer per thread */
__device__ void score_emp(const double* y, double* out, long long M, int D, double a, double h,
                          const Empirical& e) {
    double ca = a / h;
    double cb = 0.5 * a * a / h;
    int k = 0;
    double best = NEG_INF, top2 = NEG_INF;  /* `top_two` */
    for (int i = 0; i < e.n; i++) {
        double li = emp_logit(y, M, D, ca, cb, e, i);
        if (li > best) { top2 = best; best = li; k = i; }
        else if (li > top2) top2 = li;
    }
    for (int j = 0; j < D; j++) out[j * M] = 0.0;
    double tot = 0.0;  /* `offanchor_weights` and `offanchor_sum` */
    if (top2 > NEG_INF) {
        double lo = e.cut + (best - top2);
        if (lo < EXP_MIN) lo = EXP_MIN;
        for (int i = 0; i < e.n; i++) {
            if (i == k) continue;
            double z = emp_logit(y, M, D, ca, cb, e, i) - top2;
            if (z < lo) continue;  /* below 2^-60 / n of the anchor */
            double w = exp_nonpos(z);
            tot += w;
            for (int j = 0; j < D; j++)
                out[j * M] += w * (e.data[(long long)i * D + j] - e.data[(long long)k * D + j]);
        }
    }
    double W = anchored_mass(tot, best, top2);
    for (int j = 0; j < D; j++) {  /* `anchored_mean_shift`, then / h */
        double ubar = tot > 0.0 ? a * (out[j * M] / tot) : 0.0;
        out[j * M] = ((a * e.data[(long long)k * D + j] - y[j * M]) + W * ubar) / h;
    }
}

/* -- Gaussian mixture; svar[c] = a^2 v_c + h and logs[c] = log(svar[c]) at this grid time */
__device__ double gmm_logit(const double* y, long long M, int D, double a, const Mixture& g,
                            const double* svar, const double* logs, int c) {
    double sq = 0.0;
    for (int j = 0; j < D; j++) {
        double d = y[j * M] - a * g.means[(long long)c * D + j];
        sq += d * d;
    }
    return g.logw[c] - 0.5 * sq / svar[c] - 0.5 * D * logs[c];
}

__device__ void score_gmm(const double* y, double* out, long long M, int D, int l, double a,
                          const Mixture& g) {
    const double* svar = g.svar + (long long)l * g.K;
    const double* logs = g.logs + (long long)l * g.K;
    int k = 0;
    double top = NEG_INF;
    for (int c = 0; c < g.K; c++) {
        double lc = gmm_logit(y, M, D, a, g, svar, logs, c);
        if (lc > top) { top = lc; k = c; }
    }
    double rest = 0.0;
    for (int c = 0; c < g.K; c++) {
        if (c == k) continue;
        double lc = gmm_logit(y, M, D, a, g, svar, logs, c);
        if (lc >= top + g.cut) rest += exp(lc - top);  /* as numba: negligible terms skipped */
    }
    double denom = 1.0 + rest;
    for (int j = 0; j < D; j++) out[j * M] = 0.0;
    for (int c = 0; c < g.K; c++) {
        double w;
        if (c == k) {
            w = 1.0 - rest / denom;
        } else {
            double lc = gmm_logit(y, M, D, a, g, svar, logs, c);
            w = (lc >= top + g.cut) ? exp(lc - top) / denom : 0.0;
        }
        w = w / svar[c];
        for (int j = 0; j < D; j++)
            out[j * M] -= w * (y[j * M] - a * g.means[(long long)c * D + j]);
    }
}

/* -- random features: A_eff act(Wx y + bias(t_l)) */
__device__ void score_rf(const double* y, double* out, long long M, int D, int l, double h,
                         const RandomFeatures& r) {
    const double* bias = r.bias + (long long)l * r.p;
    for (int d = 0; d < D; d++) out[d * M] = 0.0;
    for (int q = 0; q < r.p; q++) {
        double u = bias[q];
        for (int j = 0; j < D; j++) u += r.Wx[(long long)q * D + j] * y[j * M];
        if (r.act == ACT_RELU) u = u > 0.0 ? u : 0.0;
        else if (r.act == ACT_TANH) u = tanh(u);
        else u = 0.5 * (tanh(0.5 * u) + 1.0);
        for (int d = 0; d < D; d++) out[d * M] += r.A[(long long)d * r.p + q] * u;
    }
    if (r.param == PARAM_DENOISER)
        for (int d = 0; d < D; d++) out[d * M] = (out[d * M] - y[d * M]) / h;
}

__device__ void score(int kind, const double* y, double* out, long long M, int D, int l,
                      const double* a, const double* h, const Empirical& emp,
                      const Mixture& mix, const RandomFeatures& rf) {
    if (kind == KIND_EMPIRICAL) score_emp(y, out, M, D, a[l], h[l], emp);
    else if (kind == KIND_MIXTURE) score_gmm(y, out, M, D, l, a[l], mix);
    else score_rf(y, out, M, D, l, h[l], rf);
}

/* the parameters of `run`, stated once (a host build of this source reuses them) */
#define RUN_PARAMS \
    double* Y, double* S1, double* S2, double* U, long long M, int D, long long traj0, int l0, \
    int l1, const double* coef, const double* a, const double* h, int kind, \
    const double* emp_data, const double* emp_sqnorm, int emp_n, double emp_cut, \
    const double* mix_means, const double* mix_logw, const double* mix_svar, \
    const double* mix_logs, int mix_K, double mix_cut, \
    const double* rf_Wx, const double* rf_A, const double* rf_bias, int rf_p, int rf_act, \
    int rf_param, u64 skey, int stochastic, int stages
#define RUN_ARGS \
    Y, S1, S2, U, M, D, traj0, l0, l1, coef, a, h, kind, emp_data, emp_sqnorm, emp_n, emp_cut, \
    mix_means, mix_logw, mix_svar, mix_logs, mix_K, mix_cut, rf_Wx, rf_A, rf_bias, rf_p, \
    rf_act, rf_param, skey, stochastic, stages

extern "C" __global__ void run(RUN_PARAMS) {
    long long m = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= M) return;
    const Empirical emp = {emp_data, emp_sqnorm, emp_n, emp_cut};
    const Mixture mix = {mix_means, mix_logw, mix_svar, mix_logs, mix_K, mix_cut};
    const RandomFeatures rf = {rf_Wx, rf_A, rf_bias, rf_p, rf_act, rf_param};
    double* y = Y + m;
    double* s1 = S1 + m;
    double* s2 = S2 + m;
    double* u = U + m;
    u64 kt = traj_key(skey, traj0 + m);
    for (int l = l0; l < l1; l++) {
        const double* c = coef + (long long)l * 7;
        score(kind, y, s1, M, D, l, a, h, emp, mix, rf);
        if (stages == 2) {
            for (int j = 0; j < D; j++) u[j * M] = c[0] * y[j * M] + c[1] * s1[j * M];
            score(kind, u, s2, M, D, l + 1, a, h, emp, mix, rf);
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
    """Insert the constants the numba kernels use, from their one Python statement.

    The integer and polynomial constants of :mod:`.noise` (exact reprs), the enum codes of
    :mod:`.spec` and the ``exp`` cut-off of :mod:`ridgetheory._numba_maths`.
    """
    ints = {"M1": M1, "M2": M2, "G": G, "G2x": (2 * G) & ((1 << 64) - 1), "GG2": G2, "C2": C2,
            "C3": C3}
    enums = {m.name: int(m) for e in (ScoreKind, Activation, Parametrization) for m in e}
    floats = {"LOG": LOG_COEF, "COS": COS_COEF, "SIN": SIN_COEF, "SQRT_HALF": (SQRT_HALF,),
              "LN2": (LN2,), "EXP_MIN": (EXP_MIN,)}
    for k, v in ints.items():
        src = src.replace(f"@{k}@", str(v))
    for k, v in enums.items():
        src = src.replace(f"@{k}@", str(v))
    for k, v in floats.items():
        src = src.replace(f"@{k}@", ", ".join(repr(float(x)) for x in v))
    if "@" in src:
        raise RuntimeError("a constant of the CUDA source was left unfilled")
    return src


SOURCE = _fill(SOURCE)

#: threads per block of both kernels
THREADS = 128


@functools.cache
def compiled():
    """``(cupy, RawModule)`` of :data:`SOURCE`, compiled once per process."""
    from ..backend import get_cupy

    cp = get_cupy()
    return cp, cp.RawModule(code=SOURCE, options=("--fmad=false", "-std=c++11"))


def input_arguments(inputs: KernelInputs, put: Callable[[np.ndarray], Any]) -> tuple:
    """The arguments of ``run`` after ``kind`` that carry the score: every kind's group in
    :data:`RUN_PARAMS` order, ``inputs`` for its own kind and placeholders for the others.

    ``put`` moves an array to where the kernel reads it (``cupy.asarray`` on a GPU).
    """
    emp, mix, rf = (inputs if type(inputs) is cls else cls.placeholder() for cls in INPUT_TYPES)
    return (put(emp.data), put(emp.sqnorm), np.int32(emp.data.shape[0]), np.float64(emp.cut),
            put(mix.means), put(mix.log_weights), put(mix.svar), put(mix.log_svar),
            np.int32(mix.means.shape[0]), np.float64(mix.cut),
            put(rf.Wx), put(rf.A_eff), put(rf.time_bias), np.int32(rf.Wx.shape[0]),
            np.int32(rf.activation), np.int32(rf.parametrization))


def run_arguments(Y, S1, S2, U, traj0, l0, l1, coef, a, h, kind, score_args, skey, stochastic,
                  stages) -> tuple:
    """The argument tuple of ``run`` (:data:`RUN_PARAMS`), typed for the launch.

    ``Y``, ``S1``, ``S2``, ``U`` are column-major (D, M) state and scratch; ``score_args``
    comes from :func:`input_arguments`.
    """
    D, M = Y.shape
    return (Y, S1, S2, U, np.int64(M), np.int32(D), np.int64(traj0), np.int32(l0),
            np.int32(l1), coef, a, h, np.int32(kind), *score_args, np.uint64(skey),
            np.int32(bool(stochastic)), np.int32(stages))


def blocks(M: int) -> int:
    """Blocks of :data:`THREADS` threads covering ``M`` threads (at least one)."""
    return max(1, (M + THREADS - 1) // THREADS)


def normals_cupy(skey, traj, step, dim):
    """Counter-based normals on the GPU (same bits as numpy up to log/cos ulps), host array."""
    cp, mod = compiled()
    traj_d = cp.asarray(np.asarray(traj, dtype=np.int64))
    M = traj_d.shape[0]
    out = cp.empty((M, dim), dtype=cp.float64)
    mod.get_function("normals")((blocks(M),), (THREADS,),
                                (out, traj_d, np.int64(M), np.int32(dim), np.int64(step),
                                 np.uint64(skey)))
    return cp.asnumpy(out)
