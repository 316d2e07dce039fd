"""One loaded libRoadRunner model: the reset protocol, integration and batch access to the state vector.

This is the only module that touches a RoadRunner instance. Every run starts from the model's reference
state and applies its own changes (:meth:`ModelRuntime.prepare`), so runs never leak into each other.

The state vector is read and written in one call per kind (rate-rule variables through the global
parameter array, species through their amounts) instead of one ``setValue`` per element: a Newton step
on the whole model evaluates the right-hand side dozens of times, and per-element access cost more than
the evaluations themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pybrainbone.errors import PyBrainBoneError, SimulationError, unknown_name
from pybrainbone.jit_cache import load_roadrunner
from pybrainbone.model_info import ModelInfo
from pybrainbone.options import SolverOptions
from pybrainbone.values import check_value

Changes = Mapping[str, float]


class ModelRuntime:
    """A compiled model loaded into libRoadRunner, reset to its reference state before every run.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> from pybrainbone.model_info import ModelInfo
    >>> model = compile_model("bone_remodeling")
    >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
    >>> {"OBp", "OBa", "OCa"} <= set(runtime.state_ids)
    True
    >>> runtime.prepare({"P_PTH_ext": 100.0})
    >>> data = runtime.integrate(0.0, 100.0, 3, ["OCa"])
    >>> data[:, 0], bool(data[-1, 1] > data[0, 1])  # time, and OCa rises under PTH
    (array([  0.,  50., 100.]), True)
    """

    def __init__(self, sbml: str, digest: str, info: ModelInfo, *, use_cache: bool = True) -> None:
        self.info = info
        self._rr = load_roadrunner(sbml, info.name, digest, use_cache=use_cache)
        size = len(self._rr.getRatesOfChange())
        self.state_ids: tuple[str, ...] = tuple(self._rr.model.getStateVectorId(i) for i in range(size))
        # Each state is a global parameter (a rate rule on a parameter) or a floating species (a rate rule
        # on a species, or reactions); keep where each kind sits in the state vector.
        globals_ = {sid: i for i, sid in enumerate(self._rr.model.getGlobalParameterIds())}
        species = {sid: i for i, sid in enumerate(self._rr.model.getFloatingSpeciesIds())}
        unknown = [s for s in self.state_ids if s not in globals_ and s not in species]
        if unknown:
            raise SimulationError(
                f"states {unknown} of model {info.name!r} are neither parameters nor species"
            )
        as_parameter = [i for i, s in enumerate(self.state_ids) if s in globals_]
        as_species = [i for i, s in enumerate(self.state_ids) if s not in globals_]
        self._parameter_slots = np.array(as_parameter, dtype=np.intp)
        self._species_slots = np.array(as_species, dtype=np.intp)
        self._parameter_index = np.array([globals_[self.state_ids[i]] for i in as_parameter], dtype=np.int32)
        self._species_index = np.array([species[self.state_ids[i]] for i in as_species], dtype=np.int32)
        self._parameter_set = frozenset(info.parameter_ids)
        self._state_set = frozenset(self.state_ids)
        self._rule_targets = frozenset(info.output_ids)

    @property
    def name(self) -> str:
        """The model's name.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.name
        'bone_remodeling'
        """
        return self.info.name

    # ---- reset protocol ---------------------------------------------------------------------------
    def check_changes(self, changes: Changes | None) -> dict[str, float]:
        """Validated changes: finite numbers, each naming a parameter or a state.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.check_changes({"P_PTH_ext": 100, "OBa": 1e-3})
        {'P_PTH_ext': 100.0, 'OBa': 0.001}
        >>> runtime.check_changes({"RANKL": 1.0})
        Traceback (most recent call last):
        ...
        pybrainbone.errors.PyBrainBoneError: cannot set 'RANKL' in model 'bone_remodeling': it is computed by
        the model ...
        """
        checked = {k: check_value(k, v) for k, v in (changes or {}).items()}
        for sid in checked:
            if sid in self._state_set or sid in self._parameter_set:
                continue
            if sid in self._rule_targets or sid in self.info.event_target_ids:
                raise PyBrainBoneError(
                    f"cannot set {sid!r} in model {self.name!r}: it is computed by the model "
                    "(an assignment rule or an event); change the parameters it depends on instead"
                )
            if sid in self.info.derived:
                raise PyBrainBoneError(
                    f"cannot set {sid!r} in model {self.name!r}: it is derived at the start from "
                    f"{self.info.derived[sid]} (an initial assignment, so that the reference is a steady "
                    "state); change the parameters it is derived from instead"
                )
            raise unknown_name("parameter", sid, [*self.info.parameter_ids, *self.state_ids], self.name)
        return checked

    def prepare(self, changes: Changes | None) -> None:
        """Reference state, then ``changes``: parameters first, then ``reset()``, then state values at t=0.

        ``reset()`` re-evaluates the initial assignments (derived parameters, the intervention switches
        whose initial value depends on the intervention times). State values are set directly rather than
        through ``init(...)``: setting an initial value makes libRoadRunner re-run every initial assignment
        and can undo other changes (roadrunner#1078).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare({"OBa": 1e-3})
        >>> float(runtime.values(["OBa"])[0])
        0.001
        >>> runtime.prepare(None)  # back to the reference: nothing of the last run is left
        >>> round(float(runtime.values(["OBa"])[0]) * 1e4, 3)
        5.584
        """
        checked = self.check_changes(changes)
        rr = self._rr
        rr.resetToOrigin()
        for sid, value in checked.items():
            if sid in self._parameter_set:
                rr.setValue(sid, value)
        rr.reset()
        for sid, value in checked.items():
            if sid in self._state_set:
                rr.setValue(sid, value)

    def apply_options(self, options: SolverOptions) -> None:
        """Set the integrator's tolerances, step limit, stiffness and first step.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> from pybrainbone.options import SolverOptions
        >>> runtime.apply_options(SolverOptions(relative_tolerance=1e-6))
        >>> runtime.prepare(None)
        >>> runtime.integrate(0.0, 10.0, 2, ["OBa"]).shape
        (2, 2)
        """
        integrator = self._rr.integrator
        integrator.relative_tolerance = options.relative_tolerance
        integrator.absolute_tolerance = options.absolute_tolerance
        integrator.maximum_num_steps = options.maximum_num_steps
        integrator.stiff = options.stiff
        integrator.initial_time_step = options.initial_time_step

    # ---- state vector -----------------------------------------------------------------------------
    def state(self) -> np.ndarray:
        """Current state vector, in :attr:`state_ids` order.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> x = runtime.state()
        >>> len(x) == len(runtime.state_ids), round(float(x[runtime.state_ids.index("OBa")]) * 1e4, 3)
        (True, 5.584)
        """
        model = self._rr.model
        x = np.empty(len(self.state_ids))
        # An empty index array would make libRoadRunner return every value: skip an absent kind.
        if len(self._parameter_index):
            x[self._parameter_slots] = model.getGlobalParameterValues(self._parameter_index)
        if len(self._species_index):
            x[self._species_slots] = model.getFloatingSpeciesAmounts(self._species_index)
        return x

    def set_state(self, x: np.ndarray) -> None:
        """Set the state vector (in :attr:`state_ids` order) in one call per kind.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> runtime.set_state(runtime.state() * 2)
        >>> (runtime.values(["OBp", "OBa", "OCa"]) * 1e4).round(3)
        array([12.393, 11.168, 16.139])
        """
        model = self._rr.model
        if len(self._parameter_index):
            model.setGlobalParameterValues(
                self._parameter_index, np.ascontiguousarray(x[self._parameter_slots])
            )
        if len(self._species_index):
            model.setFloatingSpeciesAmounts(self._species_index, np.ascontiguousarray(x[self._species_slots]))

    def rates(self) -> np.ndarray:
        """dx/dt at the current state and time.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare({"P_PTH_ext": 100.0})
        >>> rates = dict(zip(runtime.state_ids, runtime.rates()))
        >>> bool(rates["OCa"] > 0)  # PTH pushes osteoclasts up from the reference
        True
        """
        return np.asarray(self._rr.getRatesOfChange(), dtype=float)

    def values(self, ids: Sequence[str]) -> np.ndarray:
        """Current values of any readable symbols (states, outputs, parameters).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> runtime.values(["CTX_rel", "P1NP_rel", "P_PTH_ext"])
        array([1., 1., 0.])
        """
        return np.array([self._rr[sid] for sid in ids], dtype=float)

    def event_target_values(self) -> dict[str, float]:
        """Current values of the event-driven switches (restored after a presimulation).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("tptd")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> runtime.event_target_values()
        {'tptd_on': 1.0}
        """
        return {sid: float(self._rr[sid]) for sid in self.info.event_target_ids}

    def restore_time_zero(self, switches: Mapping[str, float]) -> None:
        """Back to t = 0 with the given switch values, keeping the current state vector.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare({"P_PTH_ext": 100.0})
        >>> _ = runtime.integrate(0.0, 365.0, 2, [])  # presimulate a year
        >>> moved = runtime.state()
        >>> runtime.restore_time_zero({})
        >>> bool((runtime.state() == moved).all()), float(runtime.integrate(0.0, 1.0, 2, [])[0, 0])
        (True, 0.0)
        """
        self._rr.model.setTime(0.0)
        for sid, value in switches.items():
            self._rr.setValue(sid, value)

    # ---- integration ------------------------------------------------------------------------------
    def integrate(self, start: float, end: float, points: int, selections: Sequence[str]) -> np.ndarray:
        """Integrate from the prepared state; rows of ``[time, *selections]``.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare({"P_PTH_ext": 100.0})
        >>> data = runtime.integrate(0.0, 365.0, 3, ["OCa", "CTX_rel"])
        >>> data.shape, data[:, 0].tolist()
        ((3, 3), [0.0, 182.5, 365.0])
        >>> round(float(data[-1, 2]), 3)  # CTX relative to the reference
        1.179
        """
        try:
            result = self._rr.simulate(start, end, int(points), selections=["time", *selections])
        except RuntimeError as exc:
            raise SimulationError(
                f"simulation of {self.name!r} failed: {' '.join(str(exc).split())}"
            ) from None
        data = np.asarray(result, dtype=float)
        if not np.all(np.isfinite(data)):
            raise SimulationError(f"simulation of {self.name!r} produced non-finite values")
        return data

    def forward_sensitivities(
        self, parameters: Sequence[str], states: Sequence[str], start: float, end: float, points: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(time, d state / d parameter) from libRoadRunner's CVODES solver, shape (time, params, states).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> times, sens = runtime.forward_sensitivities(["P_PTH_ext"], ["OBa", "OCa"], 0.0, 10.0, 3)
        >>> times.tolist(), sens.shape
        ([0.0, 5.0, 10.0], (3, 1, 2))
        """
        try:
            times, sens, rows, cols = self._rr.timeSeriesSensitivities(
                start, end, int(points), params=list(parameters), species=list(states)
            )
        except RuntimeError as exc:
            raise SimulationError(f"forward sensitivities of {self.name!r} failed: {exc}") from None
        sens = np.asarray(sens, dtype=float)
        order = [list(rows).index(p) for p in parameters]
        col_order = [list(cols).index(o) for o in states]
        return np.asarray(times, dtype=float), sens[:, order][:, :, col_order]
