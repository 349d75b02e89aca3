"""The validation suite: experiments, their claims, the report and its comparison."""

from .claims import Claim, ExperimentConfig, ExperimentContext, ExperimentResult, Verdict
from .compare import Comparison, compare_files, compare_reports
from .report import SCHEMA_VERSION, junit_xml, load_report, schema, summary_line
from .runner import list_configs, load_config, run_suite
from .values import Interval, Undetermined, leaves, summarize, typed, untyped

__all__ = ["Claim", "ExperimentConfig", "ExperimentContext", "ExperimentResult", "Verdict",
           "Comparison", "compare_files", "compare_reports",
           "SCHEMA_VERSION", "junit_xml", "load_report", "schema", "summary_line",
           "Interval", "Undetermined", "leaves", "summarize", "typed", "untyped",
           "list_configs", "load_config", "run_suite"]
