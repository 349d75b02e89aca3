"""The one way the package reaches matplotlib: the Agg backend, imported on first use."""

from __future__ import annotations

from typing import Any


def pyplot(force: bool = True) -> Any:
    """``matplotlib.pyplot`` on the Agg backend (PNG files, no display needed).

    ``force=False`` keeps a backend the user already chose (an interactive session).
    """
    import matplotlib

    matplotlib.use("Agg", force=force)
    import matplotlib.pyplot as plt

    return plt
