"""Counter-based standard normals: a pure function of (seed, trajectory, step, coordinate).

Every Gaussian draw of :func:`ridgetheory.simulate` is ``xi(seed, i, l, j)`` for trajectory
``i``, step ``l`` and coordinate ``j``, computed from those integers alone. A trajectory
therefore gets the same Brownian path whatever the batch size, the chunking, the thread
count or the backend. The same integer arithmetic is written three times (numpy vectorized
``uint64`` here, numba and CUDA in the kernel files), so all backends draw the same bits.

Construction (plain 64-bit integer arithmetic, wrapping mod 2**64):

* ``mix`` is the splitmix64 finalizer (Stafford's variant 13), a bijection of uint64
  with full avalanche;
* ``k_seed = mix(seed * G + C1)``, ``k_traj = mix(k_seed ^ (i * G2 + C2))``;
* the counter ``c = (l << 32) | j`` gives ``base = mix(k_traj ^ mix(c + C3))`` and two
  words ``r1 = mix(base + G)``, ``r2 = mix(base + 2 G)``;
* Box-Muller: ``u1 = ((r1 >> 11) + 1) 2^-53`` in (0, 1], ``u2 = (r2 >> 11) 2^-53`` in
  [0, 1), ``xi = sqrt(-2 log u1) cos(2 pi u2)``.

``log`` and ``cos`` are evaluated by fixed polynomials in IEEE +, -, *, / after exact range
reduction (``frexp``; quarter turns), not by the platform's math library: numpy's SIMD
``log``/``cos``, glibc (numba) and CUDA differ in the last ulp, and with these polynomials all
backends produce bit-identical normals (accuracy about 1e-16, far below any Monte-Carlo
effect).

The initial state N(0, I) uses the reserved step index ``INIT_STEP = 2**32 - 1``.

Examples
--------
>>> import numpy as np
>>> from ridgetheory.simulate.noise import normals
>>> a = normals(7, np.arange(4), 3, 2)
>>> b = normals(7, np.arange(2, 4), 3, 2)   # a sub-batch draws the same numbers
>>> bool(np.array_equal(a[2:], b))
True
"""

from __future__ import annotations

import numpy as np

from .._checks import RidgeTheoryError, check_int, check_seed

__all__ = ["normals", "seed_key", "INIT_STEP", "MASK64"]

MASK64 = (1 << 64) - 1
G = 0x9E3779B97F4A7C15  # golden-ratio Weyl increment of splitmix64
G2 = 0xD1B54A32D192ED03
C1 = 0x5851F42D4C957F2D
C2 = 0x14057B7EF767814F
C3 = 0x2545F4914F6CDD1D
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
TWO_PI = 6.283185307179586
INV53 = 1.0 / 9007199254740992.0  # 2**-53
INIT_STEP = (1 << 32) - 1  # reserved step index of the initial N(0, I) draw


def _mix_int(z: int) -> int:
    """splitmix64 finalizer on a Python int (used for the per-seed key: no overflow warnings)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * M1) & MASK64
    z = ((z ^ (z >> 27)) * M2) & MASK64
    return z ^ (z >> 31)


def seed_key(seed: int) -> int:
    """The 64-bit key ``k_seed = mix(seed * G + C1)`` shared by all backends."""
    return _mix_int(seed * G + C1)


SQRT_HALF = 0.7071067811865476
LN2 = 0.6931471805599453
#: log(m) = 2 z (1 + w/3 + w^2/5 + ...), z = (m - 1)/(m + 1), w = z^2, |z| <= 0.172
LOG_COEF = tuple(1.0 / (2 * k + 1) for k in range(1, 12))
#: cos and sin Taylor coefficients for |theta| <= pi/4 (error below 1e-19)
COS_COEF = tuple((-1.0) ** k / float(np.prod(np.arange(1, 2 * k + 1))) for k in range(1, 11))
SIN_COEF = tuple((-1.0) ** k / float(np.prod(np.arange(1, 2 * k + 2))) for k in range(1, 10))


def _horner(w: np.ndarray, coef: tuple[float, ...]) -> np.ndarray:
    """``1 + w (c1 + w (c2 + ...))`` evaluated innermost first (the order every backend uses)."""
    p = np.full_like(w, coef[-1])
    for c in coef[-2::-1]:
        p = p * w + c
    return p * w + 1.0


def log01(u: np.ndarray) -> np.ndarray:
    """``log(u)`` for u in (0, 1] by exact ``frexp`` reduction and a fixed polynomial."""
    m, e = np.frexp(u)
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = (e - low).astype(np.float64)
    f = m - 1.0
    z = f / (f + 2.0)
    return e * LN2 + 2.0 * z * _horner(z * z, LOG_COEF)


def cos2pi(u: np.ndarray) -> np.ndarray:
    """``cos(2 pi u)`` for u in [0, 1) by exact quarter-turn reduction and Taylor polynomials."""
    k = np.floor(u * 4.0)
    r = u - 0.25 * k
    up = r > 0.125
    r = np.where(up, r - 0.25, r)
    q = (k.astype(np.int64) + up) & 3
    th = TWO_PI * r
    w = th * th
    c = _horner(w, COS_COEF)
    s = th * _horner(w, SIN_COEF)
    return np.where(q == 0, c, np.where(q == 1, -s, np.where(q == 2, -c, s)))


def _mix(z: np.ndarray) -> np.ndarray:
    # uint64 array arithmetic wraps silently (numpy warns only for scalars)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
    return z ^ (z >> np.uint64(31))


def traj_keys(seed: int, traj: np.ndarray) -> np.ndarray:
    """Per-trajectory keys ``k_traj`` (uint64, shape of ``traj``)."""
    i = np.asarray(traj, dtype=np.uint64)
    return _mix(np.uint64(seed_key(seed)) ^ (i * np.uint64(G2) + np.uint64(C2)))


def normals_from_keys(keys: np.ndarray, step: int, dim: int) -> np.ndarray:
    """Standard normals (M, D) at ``step`` for per-trajectory ``keys`` (M,) uint64."""
    c = (np.uint64(step) << np.uint64(32)) | np.arange(dim, dtype=np.uint64)
    cm = _mix(c + np.uint64(C3))  # (D,)
    base = _mix(keys[:, None] ^ cm[None, :])
    r1 = _mix(base + np.uint64(G))
    r2 = _mix(base + np.uint64(2 * G & MASK64))
    u1 = ((r1 >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * INV53
    u2 = (r2 >> np.uint64(11)).astype(np.float64) * INV53
    return np.sqrt(-2.0 * log01(u1)) * cos2pi(u2)


def normals(seed: int, traj: np.ndarray, step: int, dim: int) -> np.ndarray:
    """Counter-based standard normals ``xi(seed, i, step, j)``.

    Parameters
    ----------
    seed : int
        Non-negative seed, below 2**63.
    traj : array of shape (M,), int
        Global trajectory indices, each in [0, 2**63).
    step : int
        Step index in [0, 2**32 - 1] (``INIT_STEP`` is the initial draw).
    dim : int
        Number of coordinates D >= 1.

    Returns
    -------
    xi : array of shape (M, D), float64

    Examples
    --------
    >>> import numpy as np
    >>> from ridgetheory.simulate.noise import normals
    >>> normals(0, np.arange(3), 0, 2).shape
    (3, 2)
    """
    where = "simulate.noise.normals"
    seed = check_seed(seed, where)
    step = check_int(step, "step", where, low=0, high=INIT_STEP)
    dim = check_int(dim, "dim", where, low=1, high=2**32 - 1)
    idx = np.asarray(traj)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise RidgeTheoryError(
            f"`traj` passed to {where} must be a 1-D integer array; got {idx.dtype} of shape "
            f"{idx.shape}."
        )
    if idx.size and int(idx.min()) < 0:
        raise RidgeTheoryError(f"`traj` passed to {where} must be >= 0; got {int(idx.min())}.")
    return normals_from_keys(traj_keys(seed, idx), step, dim)
