"""The validation suite: experiments, their claims, and the report."""

from .claims import Claim, ExperimentConfig, ExperimentContext, ExperimentResult, Verdict
from .runner import list_configs, load_config, run_suite

__all__ = ["Claim", "ExperimentConfig", "ExperimentContext", "ExperimentResult", "Verdict",
           "list_configs", "load_config", "run_suite"]
