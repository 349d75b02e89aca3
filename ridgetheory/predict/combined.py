"""``predict``: the slide and align predictions of an ensemble in one pass (theory.md section 4).

The align moment equations need the normal frame and curvatures at every foot point, which
the slide reduction has just computed; stepping both together saves the second pass over the
frames that ``predict_slide`` followed by ``predict_alignment`` makes. The results are those
two functions' (tested equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_seed
from .align import AlignPrediction, align_result
from .curves import TUBE_LEVEL
from .reduced import Moments, draws_per_member
from .slide import SlidePrediction, reduce, setup
from .start import SlideStart

__all__ = ["Prediction", "predict"]


@dataclass
class Prediction:
    """Slide and align predictions of one ensemble, on ``slide.times``."""

    slide: SlidePrediction
    align: AlignPrediction

    @property
    def start(self) -> SlideStart:
        return self.slide.start


def predict(
    model: Any,
    density: Any,
    ridge: Any,
    grid: Any,
    start: Any,
    *,
    start_time: Any = "auto",
    start_from: str = "simulation",
    method: str = "em",
    noise: bool = True,
    seed: int = 0,
    tol: float = 1e-8,
    max_iter: int = 100,
    backend: str = "auto",
    fast: bool | None = None,
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    n_draws: int | None = None,
    align_seed: int | None = None,
    tube_level: float = TUBE_LEVEL,
) -> Prediction:
    """Slide and align predictions of the members started at ``start`` (one pass).

    Parameters are those of :func:`predict_slide` (``model`` ... ``fast``) and of
    :func:`predict_alignment` (``quantiles``, ``n_draws``, ``tube_level``; its ``seed`` is
    ``align_seed``, default ``seed + 1``). The align prediction starts from the members'
    displacements from their feet at the slide start.

    Returns
    -------
    Prediction
        ``.slide`` as :func:`predict_slide` returns it and ``.align`` as
        ``predict_alignment(model, density, ridge, slide.times, slide, seed=align_seed)``
        (tested equal), with one difference: the align statistics at a step use the members
        usable up to that step, since a member the slide excludes later is not known to be
        excluded yet; ``predict_alignment`` given the finished slide leaves it out from the
        start. Members whose align moments diverge leave the align statistics only.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    >>> ridge = rt.Ridge(p, 1)
    >>> grid = rt.grids.exponential(10.0, 1e-3, 100)
    >>> out = rt.predict.predict(p, p, ridge, grid, rt.sample_pt(p, 10.0, 200, seed=1))
    >>> out.start.reason, bool(out.start.time < 0.5 * np.log(10.0))  # below t* = ln(1 + c^2)/2
    ('census', True)
    >>> int(out.slide.allocation(p.data * p.process.alpha(1e-3)).sum())
    200
    >>> len(out.align.times) == len(grid) - out.start.index
    True
    """
    where = "predict"
    g, st, y, seed, max_iter = setup(model, density, ridge, grid, start, start_time=start_time,
                                     start_from=start_from, method=method, backend=backend,
                                     seed=seed, max_iter=max_iter, where=where)
    n_draws = draws_per_member(n_draws, len(y), where)
    a_seed = check_seed(seed + 1 if align_seed is None else align_seed, where, "align_seed")
    mom = Moments(density.process, g[st.index:], len(y), density.dim, ridge.d, quantiles,
                  n_draws, a_seed, tube_level)
    slide, why = reduce(model, density, ridge, g, st, y, noise=noise, seed=seed, tol=tol,
                        max_iter=max_iter, method=method, start_from=start_from, fast=fast,
                        where=where, moments=mom)
    # the align view: excluded by the slide (1) or diverged moments (3)
    code = np.where(why == 0, 0, np.where(why == 5, 3, 1)).astype(np.int8)
    align = align_result(mom, slide.times, code, where, {
        "undetermined_member_steps": slide.undetermined}, warn_slide=False)
    return Prediction(slide=slide, align=align)
