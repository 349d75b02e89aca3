"""Named conventions shared by every trained score model, stated once (theory.md sections 3 and 5).

* :data:`TIME_WEIGHTS` -- the time weights ``w(t)`` of a training loss, as powers of ``h_t``;
* :data:`PARAMETRIZATIONS` -- what a model's raw output ``f`` is, and :func:`to_denoiser`,
  the one conversion from ``f`` to the posterior mean ``m``.

The random-feature fits (``ridgetheory.random_features``) and the networks
(``ridgetheory.nn``) both validate against these tables; a model that supports only part of
a table says which part.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TIME_WEIGHTS", "PARAMETRIZATIONS", "time_weight", "to_denoiser"]

#: ``w(t) = h_t ** TIME_WEIGHTS[name]``. "1": unweighted; "h", "h2": ``h_t``, ``h_t^2``;
#: "1/h", "1/h2": ``1/h_t``, ``1/h_t^2``. Each loss states what it multiplies: the networks'
#: DSM loss is in denoiser units ``|m_theta - a_t x0|^2`` (so "1/h" with the noise
#: parametrization is the usual ``|eps_theta - z|^2``); the random-feature loss is the
#: parametrization's own (``|f - a_t x0|^2`` or ``|sqrt(h_t) f + z|^2``).
TIME_WEIGHTS: dict[str, float] = {"1": 0.0, "h": 1.0, "h2": 2.0, "1/h": -1.0, "1/h2": -2.0}

#: What the raw output ``f`` of a model is: the posterior mean ``m`` ("denoiser"), the score
#: ``s`` ("score") or the noise ``eps = -sqrt(h_t) s`` ("noise").
PARAMETRIZATIONS: tuple[str, ...] = ("denoiser", "score", "noise")


def time_weight(name: str, h: Any) -> Any:
    """``w(t)`` for the weight ``name`` at variances ``h`` (numpy or torch, any shape)."""
    return h ** TIME_WEIGHTS[name]


def to_denoiser(f: Any, x: Any, h: Any, parametrization: str) -> Any:
    """The denoiser ``m`` implied by a raw output ``f`` (numpy and torch alike).

    denoiser: ``m = f``; score: ``m = x + h f``; noise: ``m = x - sqrt(h) f``. ``h`` broadcasts
    against ``f`` (shape (M, 1) for (M, D) outputs).
    """
    if parametrization == "denoiser":
        return f
    if parametrization == "score":
        return x + h * f
    return x - h**0.5 * f
