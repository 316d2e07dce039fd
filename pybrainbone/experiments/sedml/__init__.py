"""Exchange experiment specs as SED-ML Level 1 Version 4 and COMBINE/OMEX archives.

Export (:func:`export_sedml`, :func:`export_omex`) maps a spec onto SED-ML as the spec module describes:

* one ``<model>`` per arm, ``id="model_<arm>"``, ``name`` = the arm's name, whose ``source`` is the SBML
  file itself (never another model: COPASI silently drops changes on chained models, tooling.md §11),
  with one ``changeAttribute`` per change. The changes are the plan's (:mod:`pybrainbone.experiments.plan`:
  organism preset, shared changes, pre-equilibrated states, the arm's own), written with ``repr`` so every
  number survives exactly;
* one ``uniformTimeCourse`` (CVODE, ``KISAO_0000019``) or ``steadyState`` (NLEQ2, ``KISAO_0000569``) called
  ``sim``, carrying our solver tolerances as algorithm parameters so other executors integrate as tightly
  as we do;
* one ``<task>`` per arm whose id *is* the arm id, and one ``repeatedTask`` per scan whose id is the scan id
  (a ``vectorRange`` with a ``setValue``, ``resetModel="true"``);
* for a data generator that combines a scan with a plain arm (``dose.X / control.X``), a ``repeatedTask``
  ``<arm>_over_<scan>`` that runs the arm once per scan value and changes nothing, and the generator reads
  the arm from it: every variable then has the scan's shape, which BioSimulators-style executors need
  (they pad a plain course with NaN instead of broadcasting it). Import reads such a task as its arm;
* a data generator ``time`` (time courses only), one per spec data generator (variables ``<task>_<var>``,
  math from :meth:`Expression.infix`) and one ``<scan>_value`` per scan (the scanned parameter, the x axis
  of steady-state dose-response plots);
* one ``report`` per spec report, one ``report`` ``all_data`` (time + every data generator) and one
  ``plot2D`` per spec plot.

Where the model comes from: SED-ML names an SBML *file*, the spec a *model name*. Our export records the
model name - together with what SED-ML has no place for (experiment id, name, question, description,
organism, control arm, data-generator units, the ids of helper elements) - in a ``<pybrainbone>`` element
in the SED-ML document's annotation (namespace :data:`NAMESPACE`). :func:`import_sedml` reads it back;
for third-party SED-ML without it the model name is the SBML file's stem (``bone_remodeling.xml`` ->
``bone_remodeling``), or whatever the caller passes as ``model=``.

Literature ``targets`` and ``measurements`` links fit neither SED-ML nor an attribute of that element:
:func:`export_omex` writes them as JSON (:func:`targets_sidecar`) into the archive beside the SED-ML,
``<id>.targets.json`` (:func:`sidecar_name`; manifest format ``application/json``, not master), and
:func:`import_sedml` validates and restores them from there or from beside a ``.sedml`` file.

Import (:func:`import_sedml`) reads our own exports and simple third-party SED-ML: models with
``changeAttribute`` changes (chains of models are followed), one ``uniformTimeCourse`` or ``steadyState``
shared by every task, plain tasks (-> arms), repeated tasks over one task with one range and one
``setValue`` (-> scans), repeated tasks without changes over one task (-> that arm), and data generators
that are arithmetic over variables (-> expressions; + - * / ^, ln, log, exp, abs, sqrt, root, pi,
exponentiale). The simulation's algorithm must be a deterministic
ODE integrator (a steady-state solver for ``steadyState``) from an explicit KiSAO list (CVODE, LSODA,
COPASI's LSODA/LSODAR, Runge-Kutta and Euler methods, NLEQ2, Newton, ...); stochastic algorithms are
refused, not run deterministically. Its relative and absolute tolerance and maximum-steps parameters
(``KISAO_0000209``, ``0000211``, ``0000415``) become the spec's ``solver`` settings. The model must be a
pybrainbone model (by the name above); anything else is refused with a :class:`SedmlError` naming the
file. The organism preset comes back as explicit changes, which the runner applies after the preset, so
the numbers are the same as the original run's even though the spec is not identical.

Known limits of other executors (checked with tellurium 2.2.13.1 and COPASI 4.48): COPASI imports one
task and its model per data model (select them with ``COPASI.SedmlImportOptions(task, model)``), so it
cannot evaluate data generators across arms; it ignores our KiSAO tolerance parameters; and a change of a
species' initial value loses to that species' initial assignment there (tellurium and our runner drop the
assignment). tellurium needs each report's first column to have the most repeats, hence the ordering.

>>> from pybrainbone.experiments.spec import Experiment
>>> exp = Experiment.model_validate({
...     "id": "opg", "model": "bone_remodeling",
...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
...     "data_generators": [{"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)"}]})
>>> back = import_sedml(export_sedml(exp))
>>> back.model, back.arm("treated").changes, back.data_generators[0].expression
('bone_remodeling', {'P_OPG_ext': 200000.0}, '100 * (treated.BMD / control.BMD - 1)')
"""

from __future__ import annotations

from pybrainbone.experiments.sedml.common import NAMESPACE, SedmlError, sidecar_name
from pybrainbone.experiments.sedml.compat import restore_libsbml_proxies
from pybrainbone.experiments.sedml.reader import import_sedml
from pybrainbone.experiments.sedml.writer import (
    export_document,
    export_omex,
    export_sedml,
    sedml_errors,
    targets_sidecar,
)

__all__ = [
    "NAMESPACE",
    "SedmlError",
    "export_document",
    "export_omex",
    "export_sedml",
    "import_sedml",
    "restore_libsbml_proxies",
    "sedml_errors",
    "sidecar_name",
    "targets_sidecar",
]
