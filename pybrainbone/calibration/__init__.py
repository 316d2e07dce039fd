"""Calibration with uncertainty: the likelihood of linked measurements, multi-start estimation with pyPESTO,
profile likelihoods, and export as a PEtab problem.

pyPESTO and PEtab (the ``calibration`` extra) are imported only by the functions that need them.

>>> from pybrainbone.calibration import parse_parameters
>>> parse_parameters(["A_OCa"], {"A_OCa": 0.7})[0].upper
7.0
"""

from pybrainbone.calibration.likelihood import (
    CalibrationError,
    EstimatedParameter,
    Likelihood,
    build_likelihood,
    chi_square,
    parse_parameters,
)
from pybrainbone.calibration.synthetic import SyntheticProblem, write_synthetic_problem

__all__ = [
    "CalibrationError",
    "EstimatedParameter",
    "Likelihood",
    "SyntheticProblem",
    "build_likelihood",
    "chi_square",
    "parse_parameters",
    "write_synthetic_problem",
]
