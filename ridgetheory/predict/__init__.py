"""Predictions of the reach-align-slide dynamics (theory.md section 4)."""

from .align import AlignPrediction, normal_fixed_point, normal_offset_field, predict_alignment
from .combined import Prediction, predict
from .curves import RidgeCurves, prediction_curves, trajectory_curves, tube_radius
from .phases import PhaseTimes, half_motion_time, phase_times, rate_ratio, rates
from .reach import ReachPrediction, predict_reach, tube_fraction
from .slide import (
    SlidePrediction,
    allocation,
    classify_resting,
    predict_slide,
    stable_zeros,
    tangential_drift_profile,
)
from .start import CriticalCensus, SlideStart, critical_census, slide_start

__all__ = [
    "Prediction",
    "predict",
    "RidgeCurves",
    "trajectory_curves",
    "prediction_curves",
    "tube_radius",
    "AlignPrediction",
    "normal_fixed_point",
    "normal_offset_field",
    "predict_alignment",
    "ReachPrediction",
    "predict_reach",
    "tube_fraction",
    "SlidePrediction",
    "allocation",
    "SlideStart",
    "slide_start",
    "CriticalCensus",
    "critical_census",
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
