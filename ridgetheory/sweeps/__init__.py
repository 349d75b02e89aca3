"""Parameter sweeps on Dask: a base experiment, points over its parameters and seeds, a tidy
table, figures (docs/sweep.md).

* :func:`sweep` -- run a sweep (a LocalCluster by default, an existing cluster by address);
* :func:`load_sweep`, :func:`sweep_spec` -- parse a sweep file or mapping, strictly;
* :class:`SweepResult`, :class:`SweepSpec`.

Dask (``pip install 'ridgetheory[sweep]'``) is imported only when a sweep runs.
"""

from .engine import SweepResult, run_point, sweep
from .spec import FigureSpec, Point, SweepSpec, list_sweeps, load_sweep, sweep_spec

__all__ = ["sweep", "run_point", "SweepResult", "SweepSpec", "Point", "FigureSpec",
           "load_sweep", "sweep_spec", "list_sweeps"]
