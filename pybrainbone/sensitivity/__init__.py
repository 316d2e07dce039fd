"""Sensitivity analysis: local (time-resolved, steady-state control coefficients) and global (SALib).

Every method evaluates an output of an experiment spec (a data generator at a time) through one engine
abstraction: serial, local processes (one compiled model per worker) or a Dask cluster.

>>> from pybrainbone.sensitivity import parse_output
>>> parse_output("BMD_change@1826.25").time
1826.25
"""

from pybrainbone.sensitivity.executors import (
    DaskEngine,
    Engine,
    Evaluation,
    Failure,
    ProcessEngine,
    SerialEngine,
    default_engine,
    evaluate,
)
from pybrainbone.sensitivity.global_ import (
    EFAST,
    METHODS,
    MORRIS,
    SOBOL,
    Method,
    efast,
    morris,
    run_global,
    run_method,
    sobol,
)
from pybrainbone.sensitivity.local import (
    control_coefficients,
    spec_time_sensitivities,
    time_sensitivities,
)
from pybrainbone.sensitivity.objective import Objective, OutputSpec, make_objective, parse_output
from pybrainbone.sensitivity.outputs import write_global
from pybrainbone.sensitivity.problem import (
    ParameterRange,
    Problem,
    ProblemError,
    derive_problem,
    eligible_parameters,
    load_problem,
    problem_from_data,
)
from pybrainbone.sensitivity.results import GlobalResult, LocalSensitivities

__all__ = [
    "EFAST",
    "METHODS",
    "MORRIS",
    "SOBOL",
    "DaskEngine",
    "Engine",
    "Evaluation",
    "Failure",
    "GlobalResult",
    "LocalSensitivities",
    "Method",
    "Objective",
    "OutputSpec",
    "ParameterRange",
    "Problem",
    "ProblemError",
    "ProcessEngine",
    "SerialEngine",
    "control_coefficients",
    "default_engine",
    "derive_problem",
    "efast",
    "eligible_parameters",
    "evaluate",
    "load_problem",
    "make_objective",
    "morris",
    "parse_output",
    "problem_from_data",
    "run_global",
    "run_method",
    "sobol",
    "spec_time_sensitivities",
    "time_sensitivities",
    "write_global",
]
