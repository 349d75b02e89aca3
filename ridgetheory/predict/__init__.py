"""Predictions of the reach-align-slide dynamics (theory.md section 4)."""

from .align import AlignPrediction, normal_fixed_point, normal_offset_field, predict_alignment
from .phases import PhaseTimes, half_motion_time, phase_times, rate_ratio, rates
from .reach import ReachPrediction, predict_reach, tube_fraction
from .slide import (
    SlidePrediction,
    classify_resting,
    predict_slide,
    stable_zeros,
    tangential_drift_profile,
)

__all__ = [
    "AlignPrediction",
    "normal_fixed_point",
    "normal_offset_field",
    "predict_alignment",
    "ReachPrediction",
    "predict_reach",
    "tube_fraction",
    "SlidePrediction",
    "classify_resting",
    "predict_slide",
    "stable_zeros",
    "tangential_drift_profile",
    "PhaseTimes",
    "phase_times",
    "half_motion_time",
    "rate_ratio",
    "rates",
]
