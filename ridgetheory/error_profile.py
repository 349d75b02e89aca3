"""Normal and tangent training error per time (theory.md section 5).

``E_N(t) = (1/D) E |P_N (m_theta - m)|^2`` and ``E_T(t) = (1/D) E |P_T (m_theta - m)|^2``,
with ``P_N, P_T`` the ridge projectors at the evaluation point. The expectation is taken

* over ``p_t`` (training view: ``x = a_t x_i + sqrt(h_t) z``, i uniform), or
* over given points per time, such as sampler states (inference view).

``P_N + P_T = I`` and ``P_N P_T = 0`` pointwise, so ``E_N + E_T`` is the whole error. For a
:class:`~ridgetheory.random_features.RandomFeatureFit` the error is also split into
architectural bias, optimization error and initialization residue (theory.md section 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import RidgeTheoryError, check_array, check_choice, check_int, check_seed
from .protocol import AbstractDensity, AbstractScoreModel

__all__ = ["ErrorProfile", "error_profile"]

_PARTS = ("bias", "optimization", "residue")


@dataclass
class ErrorProfile:
    """Normal and tangent errors against time (and training time ``tau`` for RF fits).

    Attributes
    ----------
    times : array of shape (L,), float64
    E_N, E_T : arrays of shape (L,) or (n_tau, L), float64
        Normal and tangent error ``(1/D) mean |P_. (m_theta - m)|^2`` (divided by ``h_t^2``
        in score units), over the points whose frame is determined.
    tau : array of shape (n_tau,) or None
        Training times of an RF fit (None for a plain score model or a scalar tau).
    parts : dict
        For an RF fit: ``{"bias" | "optimization" | "residue": (E_N, E_T)}``, each shaped like
        ``E_N`` (bias: (L,)); empty otherwise. The parts are not additive (cross terms).
    undetermined : array of shape (L,), float64
        Fraction of points per time whose ridge frame was undetermined and left out.
    view : {"training", "inference"}
    units : {"denoiser", "score"}
    """

    times: np.ndarray
    E_N: np.ndarray
    E_T: np.ndarray
    tau: np.ndarray | None
    undetermined: np.ndarray
    view: str
    units: str
    parts: dict = field(default_factory=dict)

    def integrated(self, weights: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Trapezoid integral over time of ``w(t) E_N`` and ``w(t) E_T``.

        Parameters
        ----------
        weights : array of shape (L,) or None, default=None (w = 1)

        Returns
        -------
        (I_N, I_T) : floats or arrays of shape (n_tau,)
        """
        w = np.ones_like(self.times) if weights is None else check_array(
            weights, "weights", "ErrorProfile.integrated", ndim=1)
        if w.shape != self.times.shape:
            raise RidgeTheoryError(
                f"`weights` passed to ErrorProfile.integrated must have shape "
                f"{self.times.shape}; got shape {w.shape}.")
        order = np.argsort(self.times)
        tt = self.times[order]
        return (np.trapezoid((w * self.E_N)[..., order], tt, axis=-1),
                np.trapezoid((w * self.E_T)[..., order], tt, axis=-1))

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the errors against t on log axes; see
        :func:`ridgetheory.plotting.plot_error_profile`."""
        from .plotting import plot_error_profile

        return plot_error_profile(self, ax=ax, **kwargs)


def _normal_basis(ridge: Any, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fr = ridge.frames(x, t)
    return np.asarray(fr.normal), np.asarray(fr.undetermined, dtype=bool)


def _split(VN: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Squared norms of ``P_N v`` and ``P_T v``; v (..., M, D), VN (M, D, k)."""
    c = np.einsum("mdk,...md->...mk", VN, v)
    n2 = np.sum(c**2, axis=-1)
    return n2, np.maximum(np.sum(v**2, axis=-1) - n2, 0.0)


def error_profile(
    model_or_fit: Any,
    density: AbstractDensity | None,
    ridge: Any,
    times: Any,
    *,
    points: Any = None,
    tau: Any = np.inf,
    init: Any = None,
    n_samples: int = 2000,
    seed: int = 0,
    units: str = "denoiser",
) -> ErrorProfile:
    """Normal and tangent error of a learned model per time (theory.md section 5).

    Parameters
    ----------
    model_or_fit : AbstractScoreModel or RandomFeatureFit
        The learned model; a fit is evaluated at ``tau`` and split into its parts.
    density : AbstractDensity or None
        The exact target (its denoiser is ``m``). None takes ``fit.density`` for a fit.
    ridge : Ridge or int
        Anything with ``frames(x, t)`` (``.normal`` of shape (M, D, D-d), ``.undetermined``),
        e.g. ``rt.Ridge(density, d)``; an int d builds ``rt.Ridge(density, d)``.
    times : array of shape (L,), > 0
    points : None, array of shape (M, D) or (L, M, D), default=None
        None: training view, ``n_samples`` draws from ``p_t`` per time (SmoothedEmpirical
        only). Otherwise the inference view at these points (the same for every time, or one
        set per time, e.g. sampler states).
    tau : float or array of shape (n_tau,), default=numpy.inf
        Training times (fits only).
    init : array of shape (D, p) or None, default=None
        Initial read-out of the fit.
    n_samples : int, default=2000
    seed : int, default=0
    units : {"denoiser", "score"}, default="denoiser"
        Score units divide the squared errors by ``h_t^2``.

    Returns
    -------
    ErrorProfile

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> data = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    >>> fit = rt.RandomFeatureModel(40, K=4, T=5.0, seed=0).fit(data, time_nodes=21, t0=0.01)
    >>> prof = rt.error_profile(fit, None, 1, [0.1, 1.0], n_samples=200)
    >>> prof.E_N.shape, bool(np.all(prof.E_T > 0))
    ((2,), True)
    """
    from .random_features.fit import RandomFeatureFit

    where = "error_profile"
    is_fit = isinstance(model_or_fit, RandomFeatureFit)
    if not is_fit and not isinstance(model_or_fit, AbstractScoreModel):
        raise RidgeTheoryError(
            f"`model_or_fit` passed to {where} must be a score model or a RandomFeatureFit; "
            f"got {type(model_or_fit).__name__}.")
    if density is None:
        if not is_fit:
            raise RidgeTheoryError(f"`density` passed to {where} must be given for a score model.")
        density = model_or_fit.density
    if not isinstance(density, AbstractDensity):
        raise RidgeTheoryError(
            f"`density` passed to {where} must be a density such as rt.SmoothedEmpirical; "
            f"got {type(density).__name__}.")
    if model_or_fit.dim != density.dim:
        raise RidgeTheoryError(
            f"`density` passed to {where} must have dimension {model_or_fit.dim} like the model; "
            f"got {density.dim}.")
    D = density.dim
    if isinstance(ridge, (int, np.integer)) and not isinstance(ridge, bool):
        from .ridge import Ridge

        ridge = Ridge(density, int(check_int(ridge, "ridge", where, low=0, high=D - 1)))
    if not hasattr(ridge, "frames"):
        raise RidgeTheoryError(
            f"`ridge` passed to {where} must be an rt.Ridge (or an int ridge dimension); "
            f"got {type(ridge).__name__}.")
    tt = check_array(times, "times", where, ndim=1, min_rows=1)
    if np.any(tt <= 0):
        raise RidgeTheoryError(f"`times` passed to {where} must be > 0; got {float(tt.min())}.")
    units = check_choice(units, "units", where, ("denoiser", "score"))
    seed = check_seed(seed, where)
    n_samples = check_int(n_samples, "n_samples", where, low=1)
    L = tt.shape[0]

    if points is None:
        from .densities import SmoothedEmpirical

        if not isinstance(density, SmoothedEmpirical):
            raise RidgeTheoryError(
                f"`points` passed to {where} must be given unless density is a "
                "SmoothedEmpirical (the training view samples p_t from its data).")
        view = "training"
        pts = None
        rng = np.random.default_rng(seed)
    else:
        view = "inference"
        pts = check_array(points, "points", where, ndim=(2, 3))
        if pts.shape[-1] != D or (pts.ndim == 3 and pts.shape[0] != L):
            raise RidgeTheoryError(
                f"`points` passed to {where} must have shape (M, {D}) or ({L}, M, {D}); "
                f"got shape {pts.shape}.")

    taus = None
    if is_fit:
        from .random_features.fit import _check_taus

        tau_arr = _check_taus(tau, where)
        taus = tau_arr if np.ndim(tau) else None
        fit = model_or_fit
        W0 = fit._init(init, where)  # checked once, before any time is evaluated
        nt = tau_arr.shape[0]
    else:
        nt = 1

    EN = np.zeros((nt, L))
    ET = np.zeros((nt, L))
    parts = {k: (np.zeros((nt, L)), np.zeros((nt, L))) for k in _PARTS} if is_fit else {}
    und = np.zeros(L)
    for k in range(L):
        t = tt[k]
        if pts is None:
            a = float(density.process.alpha(np.array(t)))
            h = float(density.process.h(np.array(t)))
            idx = rng.integers(0, density.n, n_samples)
            x = a * density.data[idx] + np.sqrt(h) * rng.standard_normal((n_samples, D))
        else:
            x = pts[k] if pts.ndim == 3 else pts
        tv = np.full(x.shape[0], t)
        h = float(density.process.h(np.array(t)))
        scale = 1.0 / h**2 if units == "score" else 1.0
        m = density.denoiser(x, tv)
        VN, bad = _normal_basis(ridge, x, tv)
        good = ~bad
        und[k] = float(np.mean(bad))
        if not np.any(good):
            EN[:, k] = ET[:, k] = np.nan
            for v in parts.values():
                v[0][:, k] = v[1][:, k] = np.nan
            continue
        VN, x, tv, m = VN[good], x[good], tv[good], m[good]
        if is_fit:
            dec = fit.decompose(tau_arr, x, tv, W0, target=m)
            bias, opt, res = dec.bias, dec.optimization, dec.residue
            total = bias[None] + opt + res[None]
            for name, v in (("bias", bias[None]), ("optimization", opt), ("residue", res[None])):
                n2, t2 = _split(VN, v)
                parts[name][0][:, k] = scale * np.mean(n2, axis=-1) / D
                parts[name][1][:, k] = scale * np.mean(t2, axis=-1) / D
        else:
            total = (model_or_fit.denoiser(x, tv) - m)[None]
        n2, t2 = _split(VN, total)
        EN[:, k] = scale * np.mean(n2, axis=-1) / D
        ET[:, k] = scale * np.mean(t2, axis=-1) / D

    def shape(a):
        return a if taus is not None else a[0]

    parts = {k: (shape(v[0]), shape(v[1])) for k, v in parts.items()}
    if is_fit:
        parts["bias"] = tuple(v if v.ndim == 1 else v[0] for v in parts["bias"])
        parts["residue"] = tuple(v if v.ndim == 1 else v[0] for v in parts["residue"])
    return ErrorProfile(times=tt, E_N=shape(EN), E_T=shape(ET), tau=taus, undetermined=und,
                        view=view, units=units, parts=parts)
