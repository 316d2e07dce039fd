"""In-silico experiments: SED-ML-style specs, validation, a runner and the literature scorecard."""

from pybrainbone.experiments.spec import (
    Arm,
    DataGenerator,
    Experiment,
    Plot,
    PreEquilibration,
    Report,
    Scan,
    SteadyState,
    Target,
    UniformTimeCourse,
    load_experiment,
)

__all__ = [
    "Arm",
    "DataGenerator",
    "Experiment",
    "Plot",
    "PreEquilibration",
    "Report",
    "Scan",
    "SteadyState",
    "Target",
    "UniformTimeCourse",
    "load_experiment",
]
