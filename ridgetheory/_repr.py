"""Reprs that rebuild the object: Python expressions of numbers, arrays and constructor calls.

A density or model whose data are small (at most :data:`FULL_REPR_SIZE` numbers) has a repr
that evaluates back to an equal object (same data bit for bit, hence the same scores) with
the names of :func:`namespace`: ``np`` and the public classes of ``ridgetheory``, for example
``SmoothedEmpirical(np.array([[0.0, 1.0]]), process=OU())``. Larger ones print a summary in
angle brackets, and their ``reproduce()`` method gives a self-contained snippet (imports,
then ``name = ...``) however large the data. Floats are written with ``repr`` of Python
floats, the shortest text that reads back to the same double.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

#: densities and models whose data hold at most this many numbers print in full
FULL_REPR_SIZE = 100


class Raw(str):
    """Text written into an expression as it is (a name, or an expression already built)."""

    def __repr__(self) -> str:
        return str(self)


def number(x: Any) -> str:
    """An exact Python expression for a real number (``float('inf')`` for infinities)."""
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    v = float(x)
    if math.isnan(v):
        return "float('nan')"
    if math.isinf(v):
        return "float('inf')" if v > 0 else "-float('inf')"
    return repr(v)


def _nested(a: np.ndarray) -> str:
    if a.ndim == 0:
        return number(a.item())
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def array(a: np.ndarray) -> str:
    """``np.array([...])`` reading back to ``a`` exactly (dtype stated unless float64)."""
    a = np.asarray(a)
    text = f"np.array({_nested(a)}"
    if a.size == 0:
        text = f"np.zeros({tuple(int(s) for s in a.shape)!r}"
    if a.dtype != np.float64:
        text += f", dtype=np.{a.dtype.name}"
    return text + ")"


def value(v: Any) -> str:
    """An expression for a constructor argument (arrays, numbers, strings, nested objects)."""
    if isinstance(v, np.ndarray):
        return array(v)
    if isinstance(v, np.dtype):
        return f"np.{v.name}"
    if isinstance(v, (bool, int, float, np.number, np.bool_)):
        return number(v)
    if isinstance(v, (tuple, list)):
        inner = ", ".join(value(u) for u in v)
        return f"({inner},)" if isinstance(v, tuple) and len(v) == 1 else (
            f"({inner})" if isinstance(v, tuple) else f"[{inner}]")
    return repr(v)


def call(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(arg, ..., key=value, ...)`` with :func:`value` of each argument."""
    parts = [value(a) for a in args] + [f"{k}={value(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def summary(name: str, note: str = ".reproduce() rebuilds it", **fields: Any) -> str:
    """The repr of a large object: ``<Name k=v, ...; .reproduce() rebuilds it>``."""
    inner = ", ".join(f"{k}={value(v)}" for k, v in fields.items())
    return f"<{name} {inner}; {note}>"


class Reproducible:
    """Mixin: a repr that evaluates back to the object when it is small, and ``reproduce()``.

    A class implements ``_expr()`` (its constructor call, built with :func:`call`) and, when
    its repr may be large, ``_repr_size()`` (how many numbers ``_expr`` writes) and
    ``_summary_fields()`` (what the summary of a large one shows). ``_expr`` is the
    capability :class:`ridgetheory.InjectedError` relies on to write its density.
    """

    #: the variable name :meth:`reproduce` assigns by default
    _reproduce_as = "model"

    def _expr(self) -> str:
        raise NotImplementedError

    def _repr_size(self) -> int:
        return 0

    def _summary_fields(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        """The constructor call when it writes at most :data:`FULL_REPR_SIZE` numbers (it
        evaluates back to an equal object with :func:`namespace`), else a summary;
        :meth:`reproduce` rebuilds any size."""
        if self._repr_size() <= FULL_REPR_SIZE:
            return self._expr()
        return summary(type(self).__name__, **self._summary_fields())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # hypothesis (and IPython) print through this hook first: without it, an object made
        # by ``st.builds`` prints as the builds call with numpy's inexact array reprs
        p.text(repr(self))

    def reproduce(self, name: str | None = None) -> str:
        """Python code that rebuilds this object exactly: imports, then ``name = ...``
        (``name`` defaults to ``"density"`` for densities, ``"model"`` for models).

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> print(rt.SmoothedEmpirical(np.array([[0.0, 1.5]])).reproduce())
        import numpy as np
        from ridgetheory import OU, SmoothedEmpirical
        <BLANKLINE>
        density = SmoothedEmpirical(np.array([[0.0, 1.5]]), process=OU())
        <BLANKLINE>
        """
        return snippet([(name or self._reproduce_as, self._expr())])


def namespace() -> dict[str, Any]:
    """The names a full repr uses: ``np``, ridgetheory's public classes, ``radial``,
    ``rotational`` (``eval(repr(obj), namespace())`` rebuilds ``obj``)."""
    import ridgetheory as rt

    from . import injected

    ns: dict[str, Any] = {"np": np}
    ns.update({k: getattr(rt, k) for k in rt.__all__ if isinstance(getattr(rt, k), type)})
    ns.update(radial=injected.radial, rotational=injected.rotational)
    return ns


_CALLED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")


def snippet(statements: list[tuple[str, str]]) -> str:
    """A self-contained snippet: the imports the expressions need, then ``name = expr`` lines."""
    import ridgetheory as rt

    body = "\n".join(f"{name} = {expr}" for name, expr in statements)
    used = set(_CALLED.findall(body))
    top = sorted(n for n in used if n in rt.__all__)
    fields = sorted(n for n in used if n in ("radial", "rotational"))
    lines = ["import numpy as np"] if "np." in body else []
    if top:
        lines.append(f"from ridgetheory import {', '.join(top)}")
    if fields:
        lines.append(f"from ridgetheory.injected import {', '.join(fields)}")
    return "\n".join(lines) + "\n\n" + body + "\n"
