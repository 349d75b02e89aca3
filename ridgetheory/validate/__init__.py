"""The validation suite: experiments, their claims, and the report."""

from .claims import Claim, ExperimentContext, ExperimentResult

__all__ = ["Claim", "ExperimentContext", "ExperimentResult"]
