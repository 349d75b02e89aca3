"""Experiment runners of the validation suite: ``run(ctx) -> ExperimentResult`` per module."""
