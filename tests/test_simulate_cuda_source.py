"""The CUDA kernel source, checked without a GPU.

CI has no GPU, so the CuPy kernel is checked two ways: nvcc compiles it (when nvcc is
installed), and the same source, compiled for the host by g++ with CUDA's keywords defined
away and one loop standing in for the thread grid, must reproduce the numpy reference (noise
bit for bit; trajectories to 1e-12). Column-major indexing, the anchored empirical score, the
mixture and random-feature scores and the step formulas are all exercised this way.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

import ridgetheory as rt
from ridgetheory.simulate import simulate
from ridgetheory.simulate.kernels_cupy import SOURCE, input_arguments, run_arguments
from ridgetheory.simulate.noise import normals, seed_key
from ridgetheory.simulate.schemes import SCHEMES
from ridgetheory.simulate.spec import classify, kernel_inputs

HOST_PRELUDE = r"""
#include <cmath>
#include <cstring>
using std::frexp; using std::floor; using std::exp; using std::log; using std::tanh;
using std::sqrt;
struct Idx { unsigned x; };
static Idx blockIdx, threadIdx, blockDim;
#define __device__
#define __global__
#define __forceinline__ inline
static inline double __longlong_as_double(long long v) {
    double d; std::memcpy(&d, &v, 8); return d;
}
"""

HOST_DRIVER = r"""
extern "C" void host_run(RUN_PARAMS) {
    blockDim.x = 1; threadIdx.x = 0;
    for (long long m = 0; m < M; m++) {
        blockIdx.x = (unsigned)m;
        run(RUN_ARGS);
    }
}
extern "C" void host_normals(double* out, const long long* traj, long long M, int D,
                             long long step, u64 skey) {
    blockDim.x = 1; threadIdx.x = 0;
    for (long long m = 0; m < M; m++) {
        blockIdx.x = (unsigned)m; normals(out, traj, M, D, step, skey);
    }
}
"""


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ is not installed: cannot build the host emulation of the CUDA kernel")
    d = tmp_path_factory.mktemp("cuda_host")
    src, lib = d / "kernel_host.cpp", d / "kernel_host.so"
    src.write_text(HOST_PRELUDE + SOURCE + HOST_DRIVER)
    # no contraction into fma, as nvcc's --fmad=false
    subprocess.run([gxx, "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib)],
                   check=True, capture_output=True)
    return ctypes.CDLL(str(lib))


def _p(a):
    return ctypes.c_void_p(a.ctypes.data)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_cuda_source_compiles_with_nvcc(tmp_path):
    src = tmp_path / "k.cu"
    src.write_text(SOURCE)
    res = subprocess.run(["nvcc", "-c", "-arch=sm_80", "--fmad=false", "-std=c++11", str(src),
                          "-o", str(tmp_path / "k.o")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "warning" not in res.stderr.lower(), res.stderr


def test_host_compiled_cuda_normals_are_bit_identical(host_lib):
    idx = np.array([0, 1, 5, 10**9, 2**62], dtype=np.int64)
    out = np.empty((idx.shape[0], 3))
    host_lib.host_normals(_p(out), _p(idx), ctypes.c_longlong(idx.shape[0]), ctypes.c_int(3),
                          ctypes.c_longlong(17), ctypes.c_ulonglong(seed_key(99)))
    assert np.array_equal(out, normals(99, idx, 17, 3))


class _RF(rt.protocol.AbstractScoreModel):
    fused_kernel = "rf"

    def __init__(self, activation, parametrization):
        rng = np.random.default_rng(3)
        self.Wx, self.b = rng.standard_normal((20, 2)), rng.standard_normal(20)
        self.A_eff = rng.standard_normal((2, 20)) / np.sqrt(20)
        self.activation, self.parametrization = activation, parametrization
        self.process, self.dim = rt.OU(), 2

    def time_bias(self, t):
        return self.b * np.cos(t)

    def _score(self, x, t):
        u = x @ self.Wx.T + self.b[None, :] * np.cos(t)[:, None]
        u = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
             "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[self.activation](u)
        out = u @ self.A_eff.T
        return out if self.parametrization == "score" else (out - x) / self.process.h(t)[:, None]


def _ctype(v):
    if isinstance(v, np.ndarray):
        return _p(v)
    if isinstance(v, np.float64):
        return ctypes.c_double(float(v))
    return {np.int64: ctypes.c_longlong, np.int32: ctypes.c_int,
            np.uint64: ctypes.c_ulonglong}[type(v)](int(v))


def _host_simulate(lib, score, y0, grid, method, seed):
    kind, _, process, _ = classify(score, "test")
    inputs = kernel_inputs(score, kind, grid)
    scheme = SCHEMES[method]
    table = scheme.coefficients(process, grid).table
    a, h = process.alpha(grid), process.h(grid)
    Y = np.ascontiguousarray(y0.T)  # column-major (D, M), as on the device
    S1, S2, U = (np.empty_like(Y) for _ in range(3))
    args = run_arguments(Y, S1, S2, U, 0, 0, grid.shape[0] - 1, table, a, h, inputs.kind,
                         input_arguments(inputs, np.ascontiguousarray), seed_key(seed),
                         scheme.stochastic, scheme.stages)
    lib.host_run(*[_ctype(v) for v in args])
    return Y.T


SCORES = [
    ("empirical", rt.SmoothedEmpirical(np.random.default_rng(0).standard_normal((30, 2)) * 2),
     rt.grids.exponential(3.0, 1e-3, 50)),
    ("gmm", rt.GaussianMixture(np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([0.1, 0.3])),
     rt.grids.exponential(3.0, 1e-3, 50)),
    ("rf-tanh-denoiser", _RF("tanh", "denoiser"), rt.grids.exponential(2.0, 0.05, 30)),
    ("rf-relu-score", _RF("relu", "score"), rt.grids.exponential(2.0, 0.05, 30)),
    ("rf-sigmoid-denoiser", _RF("sigmoid", "denoiser"), rt.grids.exponential(2.0, 0.05, 30)),
]


@pytest.mark.parametrize("method", ["em", "exponential", "heun-ode", "euler-ode"])
@pytest.mark.parametrize("name, score, grid", SCORES, ids=[s[0] for s in SCORES])
def test_host_compiled_cuda_kernel_matches_numpy(host_lib, name, score, grid, method):
    y0 = np.random.default_rng(1).standard_normal((40, 2))
    ref = simulate(score, y0=y0, grid=grid, method=method, backend="numpy", seed=4,
                   progress=False).final
    out = _host_simulate(host_lib, score, y0, grid, method, 4)
    assert np.max(np.abs(out - ref)) <= 1e-12 * (1 + np.max(np.abs(ref)))


class _FakeCupy:
    """Enough of cupy for kernels_cupy, with numpy arrays standing in for device arrays."""

    float64 = np.float64

    @staticmethod
    def asarray(a, dtype=None):
        return np.ascontiguousarray(np.asarray(a, dtype=dtype))

    empty_like = staticmethod(np.empty_like)
    empty = staticmethod(np.empty)
    asnumpy = staticmethod(np.asarray)




class _FakeModule:
    def __init__(self, lib):
        self.lib = lib

    def get_function(self, name):
        fn = getattr(self.lib, "host_" + name)

        def launch(grid, block, args):
            assert grid[0] * block[0] >= int(args[4] if name == "run" else args[2])
            fn(*[_ctype(v) for v in args])

        return launch


def test_cupy_backend_glue_with_the_host_compiled_kernel(host_lib, monkeypatch):
    # the cupy path of rt.simulate (device state, argument types, segments, saving), with the
    # host-compiled CUDA source standing in for the GPU
    from ridgetheory import backend
    from ridgetheory.simulate import kernels_cupy

    monkeypatch.setattr(kernels_cupy, "compiled", lambda: (_FakeCupy, _FakeModule(host_lib)))
    monkeypatch.setattr(backend, "_cupy_status",
                        lambda: backend.BackendStatus("cupy", True, "fake", "host emulation"))
    for name, score, grid in SCORES[:3]:
        kw = dict(n=33, grid=grid, method="heun-ode" if name == "gmm" else "em", seed=7,
                  save_at=grid[[0, 10]], chunk=20, progress=False)
        ref = simulate(score, backend="numpy", **kw)
        out = simulate(score, backend="cupy", **kw)
        assert out.meta["backend"] == "cupy"
        tol = 1e-12 * (1 + np.max(np.abs(ref.final)))
        assert np.max(np.abs(out.final - ref.final)) <= tol
        assert np.max(np.abs(out.states - ref.states)) <= tol
    idx = np.arange(5)
    assert np.array_equal(kernels_cupy.normals_cupy(seed_key(2), idx, 3, 2), normals(2, idx, 3, 2))
