"""The claims of the MNIST latent experiment, each a registered check (docs/mnist.md).

The runner measures; these checks decide, from its numbers and the parameters
``t_late``, ``late_share``, ``memorization_ratio`` and ``memorization_bound``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validate.claims import Verdict, register_claim

KIND = "mnist_latent"


@register_claim(KIND, "alignment_late")
def alignment_late(res: Any, s: Any) -> Verdict:
    """Most of the drop of the gap-filtered normalized ridge residual happens at
    t <= ``t_late`` (share > ``late_share``)."""
    p, m = res.params, res.found["alignment_late"]
    share = m["late_share"]
    return Verdict(f"share of the residual drop at t <= {p.t_late} > {p.late_share}", m,
                   p.late_share, bool(np.isfinite(share) and share > p.late_share))


@register_claim(KIND, "closer_than_random")
def closer_than_random(res: Any, s: Any) -> Verdict:
    """Final samples are closer to the d-ridge at t_min than norm-matched random points
    (medians)."""
    m = res.found["closer_than_random"]
    return Verdict("median sample-to-ridge distance < that of norm-matched random points", m,
                   "strict inequality of medians", bool(m["samples"] < m["random"]))


@register_claim(KIND, "normal_error_smaller")
def normal_error_smaller(res: Any, s: Any) -> Verdict:
    """Along the sampling trajectories at t <= ``t_late`` the network's score error per normal
    direction is below that per tangent direction (geometric mean of the ratio < 1)."""
    m = res.found["normal_error_smaller"]
    gm = m["ratio_geomean"]
    return Verdict(f"per-direction normal error < tangent error for t <= {res.params.t_late}",
                   m, "geometric mean of normal/tangent < 1", bool(np.isfinite(gm) and gm < 1))


@register_claim(KIND, "no_memorization")
def no_memorization(res: Any, s: Any) -> Verdict:
    """The network does not memorize: the 95% bootstrap upper bound of the memorized share
    (nearest/second-nearest < ``memorization_ratio``) is below ``memorization_bound``."""
    p, m = res.params, res.found["no_memorization"]
    return Verdict(f"memorized fraction (ratio < {p.memorization_ratio:.3f}) with 95% CI upper "
                   f"bound < {p.memorization_bound}", m, p.memorization_bound,
                   bool(m["ci"][1] < p.memorization_bound))
