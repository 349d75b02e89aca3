"""Figures of the synthetic experiments (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import pyplot

__all__ = ["experiment_figures", "image_grid", "alignment_plot", "principal_plane"]


def _bounds(data: np.ndarray, pad: float = 2.0) -> np.ndarray:
    lo, hi = data.min(0) - pad, data.max(0) + pad
    return np.stack([lo, hi], axis=1)


def _label(run: dict[str, Any]) -> str:
    return run["kind"] if run["size"] is None else f"{run['kind']} {run['size']:g}"


def principal_plane(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (D,) and the top-2 principal directions (D, 2) of the training points."""
    c = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - c, full_matrices=False)
    W = vt[:2].T
    if W.shape[1] < 2:  # fewer than three points: complete the plane with any orthogonal axis
        Q, _ = np.linalg.qr(np.column_stack([W, np.eye(data.shape[1])]))
        W = Q[:, :2]
    return c, W


def snapshots(ctx, density, ridge, run, save_t, path) -> None:
    """Samples and the time-indexed ridge at four saved times (reach, align, slide).

    For D > 2 everything is drawn on the top-2 principal plane of the training points (and
    the ridge is projected from seeds at the samples; no density background)."""
    plt = pyplot()
    picks = np.unique(np.round(np.linspace(0, len(save_t) - 1, 4)).astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 4.0))
    axes = np.atleast_1d(axes)
    data = density.data
    flat = density.dim == 2
    c, W = (np.zeros(2), np.eye(2)) if flat else principal_plane(data)
    for ax, j in zip(axes, picks, strict=True):
        t = float(save_t[j])
        a = float(density.process.alpha(t))
        plane = lambda x, a=a: (np.asarray(x) - a * c) @ W  # noqa: E731
        s = run["traj"].states[j, :600]
        box = _bounds(
            np.vstack([plane(a * data), np.zeros((1, 2))]),
            pad=max(1.5, 2.5 * np.sqrt(float(density.process.h(t)))),
        )
        if flat:
            xs = np.linspace(*box[0], 120)
            ys = np.linspace(*box[1], 120)
            X, Y = np.meshgrid(xs, ys)
            lp = density.log_prob(np.stack([X.ravel(), Y.ravel()], 1), t).reshape(X.shape)
            ax.imshow(lp, origin="lower", extent=(*box[0], *box[1]), cmap="Greys",
                      aspect="auto", vmin=lp.max() - 12, vmax=lp.max())
            rs = ridge.extract(t, bounds=box, n_seeds=600, seed=ctx.seed)
        else:
            rs = ridge.extract(t, seeds=s[:300], seed=ctx.seed)
        if len(rs):
            q = plane(rs.points)
            ax.plot(q[:, 0], q[:, 1], ".", ms=2, color="C3", label="ridge")
        q = plane(s)
        ax.plot(q[:, 0], q[:, 1], ".", ms=2, alpha=0.5, color="C0", label="samples")
        q = plane(a * data)
        ax.plot(q[:, 0], q[:, 1], "k+", ms=8, label="$a_t x_i$")
        ax.set_xlim(*box[0])
        ax.set_ylim(*box[1])
        ax.set_title(f"t = {t:.3g}")
        if not flat:
            ax.set_xlabel("PC 1")
            ax.set_ylabel("PC 2")
    axes[0].legend(fontsize=7, loc="upper left")
    where = "" if flat else f" (top-2 principal plane of D = {density.dim})"
    fig.suptitle(f"{ctx.name}: samples move toward the time-indexed ridge ({_label(run)}){where}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def distance(ctx, runs, grid, path) -> None:
    """Predicted versus measured distance to the ridge against t."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, r in enumerate(runs):
        c = f"C{i % 10}"
        m, al = r["meas"], r["pred"]["align"]
        ax.loglog(
            m["times"], m["mean_distance"], "o", color=c, ms=4, label=f"measured, {_label(r)}"
        )
        ax.loglog(al.times, al.mean_distance, "-", color=c, lw=1.2, label=f"predicted, {_label(r)}")
        ax.fill_between(al.times, al.quantiles[0], al.quantiles[-1], color=c, alpha=0.12)
        fp = np.where(np.isfinite(al.fixed_point_distance), al.fixed_point_distance, np.nan)
        # a fixed point at rounding level (no normal error at those times) is zero: drawn at
        # 1e-16 it would squash the axis
        scale = np.nanmax(np.asarray(m["mean_distance"], dtype=float), initial=0.0)
        fp[fp <= 1e-9 * scale] = np.nan
        if np.any(np.isfinite(fp)):
            ax.loglog(al.times, fp, ":", color=c, lw=1)
    ax.set_xlabel("t")
    ax.set_ylabel("distance to the ridge")
    ax.set_title(f"{ctx.name}: align (dotted: naive fixed point)")
    ax.invert_xaxis()
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def errors(ctx, density, ridge, run, grid, path, p) -> bool:
    """E_N(t) and E_T(t) of the run's model (training view)."""
    from ..error_profile import error_profile

    prof = run.get("profile")
    if prof is None:
        times = np.geomspace(grid[-1], grid[0], 16)
        prof = error_profile(
            run["model"],
            density,
            ridge,
            times,
            n_samples=p.n_profile,
            seed=ctx.seed,
        )
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    prof.plot(ax=ax)
    ax.set_title(f"{ctx.name}: normal and tangent error ({_label(run)})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def resting(ctx, density, run, centres, path) -> None:
    """Histogram of resting places (distance to the nearest training point), measured, predicted."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))

    def near(points):
        d = np.sqrt(((points[:, None, :] - centres[None]) ** 2).sum(-1)).min(1)
        return np.maximum(d, 1e-4)

    dm = near(run["traj"].final)
    dp = near(run["pred"]["slide"].final)
    bins = np.geomspace(1e-4, max(dm.max(), dp.max(), 1e-3) * 1.1, 40)
    ax.hist(
        dm, bins=bins, weights=np.full(len(dm), 1 / len(dm)), alpha=0.5, label="measured (samples)"
    )
    ax.hist(
        dp,
        bins=bins,
        weights=np.full(len(dp), 1 / len(dp)),
        histtype="step",
        lw=1.5,
        label="predicted (slide)",
    )
    ax.set_xscale("log")
    ax.set_xlabel("distance of the resting place to the nearest $a_{t_{min}} x_i$")
    ax.set_ylabel("share of samples")
    ax.set_title(f"{ctx.name}: resting places ({_label(run)})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def experiment_figures(ctx, density, ridge, runs, main_runs, grid, save_t, p) -> list[str]:
    """Draw the experiment's figures into ``ctx.out_dir``; returns their file names."""
    out = []
    centres = float(density.process.alpha(grid[-1])) * density.data
    main = main_runs[-1]
    name = f"{ctx.name}_snapshots.png"
    snapshots(ctx, density, ridge, main, save_t, ctx.out_dir / name)
    out.append(name)
    name = f"{ctx.name}_distance.png"
    distance(ctx, runs, grid, ctx.out_dir / name)
    out.append(name)
    if main["kind"] != "exact":
        name = f"{ctx.name}_errors.png"
        errors(ctx, density, ridge, main, grid, ctx.out_dir / name, p)
        out.append(name)
    name = f"{ctx.name}_resting.png"
    resting(ctx, density, main, centres, ctx.out_dir / name)
    out.append(name)
    return out


def image_grid(path: Any, left: np.ndarray, right: np.ndarray, title: str) -> None:
    """MNIST: sample images (top row) above their nearest training images (bottom row)."""
    plt = pyplot()

    k = len(left)
    fig, axes = plt.subplots(2, k, figsize=(1.2 * k, 2.8), squeeze=False)
    for j in range(k):
        for i, img in enumerate((left[j], right[j])):
            ax = axes[i, j]
            ax.imshow(img.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("sample", fontsize=8)
    axes[1, 0].set_ylabel("nearest\ntrain", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def alignment_plot(path: Any, times, curves: dict[int, np.ndarray], t_late: float) -> None:
    """MNIST latents: median normalized residual against t, one curve per ridge dimension."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for d, c in curves.items():
        ax.plot(times, c, marker="o", ms=3, label=f"d = {d}")
    ax.axvline(t_late, color="gray", ls=":", lw=1)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("t (log scale; sampling runs left to right, down to t_min)")
    ax.set_ylabel("median |P_N s| / |s| (gap-filtered)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def memorization_curve(path: Any, res: Any, title: str) -> None:
    """Memorized share against the flow time tau, with its bootstrap band and tau_mem."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.fill_between(res.taus, res.low, res.high, alpha=0.25)
    ax.plot(res.taus, res.fraction, marker="o", ms=3)
    ax.axhline(res.params.threshold, color="gray", ls=":", lw=1)
    if res.tau_mem is not None:
        ax.axvline(res.tau_mem, color="C3", ls="--", lw=1, label=f"tau_mem = {res.tau_mem:.3g}")
        ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("gradient-flow time tau")
    ax.set_ylabel("memorized share")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
