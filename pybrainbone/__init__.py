"""pybrainbone: a mechanistic, standards-based model of the brain-bone axis.

>>> from pybrainbone import Simulator, available_models
>>> "bone_remodeling" in available_models()
True
"""

from pybrainbone.build import CompiledModel, compile_model, load_sbml
from pybrainbone.errors import (
    InvalidValueError,
    ModelBuildError,
    ModelNotFoundError,
    PyBrainBoneError,
    SimulationError,
    UnknownNameError,
)
from pybrainbone.options import SolverOptions
from pybrainbone.paths import available_models
from pybrainbone.simulator import Simulator

__version__ = "0.1.0"

__all__ = [
    "CompiledModel",
    "InvalidValueError",
    "ModelBuildError",
    "ModelNotFoundError",
    "PyBrainBoneError",
    "SimulationError",
    "Simulator",
    "SolverOptions",
    "UnknownNameError",
    "available_models",
    "compile_model",
    "load_sbml",
]
