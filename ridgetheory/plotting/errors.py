"""Normal/tangent error figures: an error profile against t, and error against tau.

The analogue of the reference "error on X / error on Y versus tau" plots: for training
points on the x-axis the ridge tangent is x and the normal is y (theory.md section 6).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_array, check_int, check_scalar, check_seed
from ._base import pyplot

__all__ = ["plot_error_profile", "error_vs_tau_figure", "TWO_MODES"]

#: the two-mode ridge configuration of theory.md section 7
TWO_MODES = np.array([[-3.0, 0.0], [3.0, 0.0]])


def error_vs_tau_figure(
    path: Any,
    *,
    data: Any = None,
    p: int = 2000,
    K: int = 128,
    T: float = 10.0,
    time_nodes: int = 401,
    t0: float = 1e-3,
    taus: Any = None,
    init_scale: float = 1.0,
    n_times: int = 40,
    n_samples: int = 400,
    seed: int = 0,
    quick: bool = False,
) -> dict:
    """Plot the time-integrated normal and tangent errors ``E_N, E_T`` against tau.

    Parameters
    ----------
    path : str or path-like
        Where the figure is written (format from the suffix, e.g. ``.png``).
    data : array of shape (n, 2), default=the two modes (-3, 0), (3, 0)
    p, K, T : model size, Fourier frequencies and horizon (defaults as in the reference runs)
    time_nodes, t0 : training time nodes on ``[t0, T]``
    taus : array of shape (n_tau,), default=``geomspace(1e-2, 1e5, 29)``
    init_scale : float, default=1.0
        ``W(0) = model.random_init(seed, init_scale)``. From zero initialization the normal
        error of collinear data is exactly zero at every tau, which a log axis cannot show.
    n_times : int, default=40
        Training nodes (log-spaced picks) at which the errors are evaluated.
    n_samples : int, default=400
        Draws from ``p_t`` per evaluation time.
    seed : int, default=0
    quick : bool, default=False
        Small model (p=200, K=16, 101 nodes) for CI.

    Returns
    -------
    dict
        ``{"taus", "E_N", "E_T"}`` (arrays of shape (n_tau,), trapezoid integrals over the
        evaluation times), ``"times"``, ``"path"``, ``"assembly_seconds"``.
    """
    plt = pyplot(force=False)

    from ..error_profile import error_profile
    from ..random_features.model import RandomFeatureModel

    where = "error_vs_tau_figure"
    X = TWO_MODES if data is None else check_array(data, "data", where, ndim=2, min_rows=1)
    if quick:
        p, K, time_nodes, n_times, n_samples = 200, 16, 101, 20, 200
    p = check_int(p, "p", where, low=1)
    n_times = check_int(n_times, "n_times", where, low=2)
    init_scale = check_scalar(init_scale, "init_scale", where, low=0.0)
    seed = check_seed(seed, where)
    tau_arr = (np.geomspace(1e-2, 1e5, 29) if taus is None
               else check_array(taus, "taus", where, ndim=1, min_rows=1, finite=False))
    if np.any(np.isnan(tau_arr)) or np.any(tau_arr < 0):
        raise RidgeTheoryError(
            f"`taus` passed to {where} must be >= 0 (inf allowed); got {tau_arr}.")
    model = RandomFeatureModel(p, K=K, T=T, dim=X.shape[1], seed=seed)
    fit = model.fit(X, time_nodes=time_nodes, t0=t0, quadrature="gauss-hermite", gh_order=10)
    W0 = model.random_init(seed + 1, init_scale) if init_scale > 0 else None
    idx = np.unique(np.geomspace(1, fit.nodes.shape[0] - 1, n_times).astype(int))
    times = fit.nodes[idx]  # on the training nodes: the embedding is only trained there
    prof = error_profile(fit, None, 1, times, tau=tau_arr, init=W0, n_samples=n_samples,
                         seed=seed)
    ok = ~np.isnan(prof.E_N[0])  # frames undetermined at every sample: left out
    tsub = times[ok]
    EN = np.trapezoid(prof.E_N[:, ok], tsub, axis=1)
    ET = np.trapezoid(prof.E_T[:, ok], tsub, axis=1)

    on_x = bool(np.all(X[:, 1:] == 0))  # collinear on the x-axis: tangent x, normal y
    lab_t, lab_n = ("tangent $E_T$ (error on x)", "normal $E_N$ (error on y)") if on_x else (
        "tangent $E_T$", "normal $E_N$")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    tiny = np.finfo(np.float64).tiny
    tplot = np.where(np.isinf(tau_arr), np.nan, tau_arr)  # inf cannot be drawn
    axes[0].loglog(tplot, np.maximum(ET, tiny), "C1o-", label=lab_t)
    axes[0].loglog(tplot, np.maximum(EN, tiny), "C0o-", label=lab_n)
    axes[0].set_xlabel(r"training time $\tau$")
    axes[0].set_ylabel(r"$\int E(t)\,dt$ (denoiser units)")
    axes[0].set_title(f"p={p}, K={K}, n={X.shape[0]} points")
    axes[0].legend()
    for j, style in ((0, ":"), (len(tau_arr) // 2, "--"), (len(tau_arr) - 1, "-")):
        axes[1].loglog(tsub, np.maximum(prof.E_T[j, ok], tiny), "C1" + style,
                       label=rf"$E_T$, $\tau$={tau_arr[j]:.3g}")
        axes[1].loglog(tsub, np.maximum(prof.E_N[j, ok], tiny), "C0" + style,
                       label=rf"$E_N$, $\tau$={tau_arr[j]:.3g}")
    axes[1].set_xlabel("diffusion time t")
    axes[1].set_ylabel("error per time")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return {"taus": tau_arr, "E_N": EN, "E_T": ET, "times": tsub, "path": str(path),
            "assembly_seconds": fit.info["seconds"]}


def plot_error_profile(profile: Any, ax: Any = None, *, tau_index: int = -1,
                       parts: bool = True) -> Any:
    """Plot ``E_N(t)`` and ``E_T(t)`` (and the RF parts) on log-log axes.

    Parameters
    ----------
    profile : ridgetheory.ErrorProfile
    ax : matplotlib Axes or None, default=None (a new figure)
    tau_index : int, default=-1
        Which training time to draw when the profile holds several.
    parts : bool, default=True
        Also draw the bias and optimization parts of an RF fit (dashed, dotted).

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = pyplot(force=False).subplots(figsize=(5.5, 4))

    def pick(a):
        return a[tau_index] if np.ndim(a) == 2 else a

    tiny = np.finfo(np.float64).tiny  # zeros cannot sit on a log axis
    ax.loglog(profile.times, np.maximum(pick(profile.E_N), tiny), "C0-", label="normal $E_N$")
    ax.loglog(profile.times, np.maximum(pick(profile.E_T), tiny), "C1-", label="tangent $E_T$")
    if parts and profile.parts:
        for name, style in (("bias", "--"), ("optimization", ":")):
            en, et = profile.parts[name]
            ax.loglog(profile.times, np.maximum(pick(en), tiny), "C0" + style, lw=1,
                      label=f"normal, {name}")
            ax.loglog(profile.times, np.maximum(pick(et), tiny), "C1" + style, lw=1,
                      label=f"tangent, {name}")
    ax.set_xlabel("t")
    ax.set_ylabel(f"error ({profile.units} units)")
    ax.set_title(f"normal/tangent error, {profile.view} view")
    ax.legend(fontsize=7)
    return ax
