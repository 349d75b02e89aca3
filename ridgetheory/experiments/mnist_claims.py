"""The claims of the MNIST latent experiment, each a registered check (docs/mnist.md).

The runner measures; these checks decide, from its numbers and the parameters
``t_late``, ``late_share``, ``memorization_ratio`` and ``memorization_bound``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validate.claims import Verdict, register_claim
from ..validate.values import above, below

KIND = "mnist_latent"


@register_claim(KIND, "alignment_late")
def alignment_late(res: Any, s: Any) -> Verdict:
    """Most of the drop of the gap-filtered normalized ridge residual happens at
    t <= ``t_late`` (share > ``late_share``)."""
    p, m = res.params, res.found["alignment_late"]
    share = m["late_share"]
    return Verdict(above(p.late_share), m, None,
                   bool(np.isfinite(share) and share > p.late_share),
                   text=f"share of the residual drop at t <= {p.t_late:g} > {p.late_share:g}")


@register_claim(KIND, "closer_than_random")
def closer_than_random(res: Any, s: Any) -> Verdict:
    """Final samples are closer to the d-ridge at t_min than norm-matched random points
    (medians)."""
    m = res.found["closer_than_random"]
    return Verdict(None, m, None, bool(m["samples"] < m["random"]),
                   text="median sample-to-ridge distance < that of norm-matched random points")


@register_claim(KIND, "normal_error_smaller")
def normal_error_smaller(res: Any, s: Any) -> Verdict:
    """Along the sampling trajectories at t <= ``t_late`` the network's score error per normal
    direction is below that per tangent direction (geometric mean of the ratio < 1)."""
    m = res.found["normal_error_smaller"]
    gm = m["ratio_geomean"]
    return Verdict(below(1.0), m, None, bool(np.isfinite(gm) and gm < 1),
                   text="geometric mean of per-direction normal/tangent error < 1 for "
                        f"t <= {res.params.t_late:g}")


@register_claim(KIND, "no_memorization")
def no_memorization(res: Any, s: Any) -> Verdict:
    """The network does not memorize: the 95% bootstrap upper bound of the memorized share
    (nearest/second-nearest < ``memorization_ratio``) is below ``memorization_bound``."""
    p, m = res.params, res.found["no_memorization"]
    return Verdict(below(p.memorization_bound), m, {"ratio": p.memorization_ratio},
                   bool(m["ci"][1] < p.memorization_bound),
                   text=f"95% CI upper bound of the memorized share (ratio < "
                        f"{p.memorization_ratio:.3f}) < {p.memorization_bound:g}")
