"""The two-mode ridge figure: training points (-3, 0) and (3, 0) (theory.md section 7).

Run ``python -m ridgetheory.ridge.demo out.png`` (the CLI wires the same function).
"""

from __future__ import annotations

import os
import sys

import numpy as np

__all__ = ["two_mode_figure"]


def two_mode_figure(path: str | os.PathLike, times=(0.05, 0.3, 1.0, 2.0)) -> str:
    """Draw the d = 1 ridge (traced curves) and the modes (d = 0) of the two-mode data.

    For every time in ``times`` the 1-ridge (the first axis, within the box) is traced and
    the modes are extracted; the heat map shows ``log p_t`` at the first time. Modes split
    from one (at the origin) into two at ``t* = ln(1 + 9) / 2 ~ 1.151``.

    Parameters
    ----------
    path : str or path-like
        Output PNG.
    times : sequence of float, default=(0.05, 0.3, 1.0, 2.0)

    Returns
    -------
    str
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..densities import SmoothedEmpirical
    from .core import Ridge

    p = SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    bounds = np.array([[-4.5, 4.5], [-2.5, 2.5]])
    r1, r0 = Ridge(p, 1), Ridge(p, 0)
    fig, axes = plt.subplots(1, len(times), figsize=(4 * len(times), 3.2), squeeze=False)
    gx, gy = np.linspace(*bounds[0], 180), np.linspace(*bounds[1], 100)
    X, Y = np.meshgrid(gx, gy)
    for ax, t in zip(axes[0], times, strict=True):
        lp = p.log_prob(np.c_[X.ravel(), Y.ravel()], t).reshape(X.shape)
        ax.pcolormesh(X, Y, np.maximum(lp, lp.max() - 25), shading="auto", cmap="magma")
        for c in r1.trace(t, bounds=bounds, n_seeds=64, min_density=0.0):
            ax.plot(c.points[:, 0], c.points[:, 1], "-", color="cyan", lw=2, label="1-ridge")
        modes = r0.extract(t, bounds=bounds, n_seeds=64, min_density=0.0).clusters(0.05)
        ax.plot(modes[:, 0], modes[:, 1], "*", color="yellow", ms=12, label="modes")
        a = float(p.process._alpha(np.array([t]))[0])
        ax.plot(a * p.data[:, 0], a * p.data[:, 1], "o", mfc="none", mec="lime", ms=7,
                label=r"$a_t x_i$")
        ax.set_title(f"t = {t:g}: {len(modes)} mode(s)")
        ax.set_aspect("equal")
    axes[0][0].legend(loc="lower left", fontsize=7)
    fig.suptitle("Two training points (-3, 0), (3, 0): ridge of log p_t")
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


if __name__ == "__main__":  # pragma: no cover
    print(two_mode_figure(sys.argv[1] if len(sys.argv) > 1 else "two_mode_ridge.png"))
