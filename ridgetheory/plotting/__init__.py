"""Every figure of the package (matplotlib on the Agg backend, PNG files).

* :mod:`.ridge` -- ridge families over a density heat map, the two-mode ridge figure;
* :mod:`.errors` -- normal/tangent error profiles against t, RF error against tau;
* :mod:`.experiments` -- the figures of the validation experiments.

matplotlib is imported on first use (:func:`._base.pyplot`), never at package import.
"""

from __future__ import annotations

from .errors import error_vs_tau_figure, plot_error_profile
from .ridge import plot_ridge_2d, two_mode_figure

__all__ = ["plot_ridge_2d", "two_mode_figure", "plot_error_profile", "error_vs_tau_figure"]
