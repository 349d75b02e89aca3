"""Reverse-time schemes: one short file per scheme and a registry (``SCHEMES``).

A new scheme is a subclass of :class:`AbstractScheme` in its own file plus a call to
:func:`register_scheme`.
"""

from .base import SCHEMES, AbstractScheme, Coefficients, get_scheme, register_scheme
from .em import EulerMaruyama
from .euler_ode import EulerODE
from .exponential import ExponentialIntegrator
from .heun_ode import HeunODE

__all__ = [
    "SCHEMES",
    "AbstractScheme",
    "Coefficients",
    "get_scheme",
    "register_scheme",
    "EulerMaruyama",
    "ExponentialIntegrator",
    "EulerODE",
    "HeunODE",
]
