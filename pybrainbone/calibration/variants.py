"""Model variants (contested mechanisms as labelled parameter changes) and their comparison on data.

A variants file (YAML; the project's are in ``experiments/variants/``, beside the specs but not among
them, so spec directories stay specs only) names alternative versions of one composed model:

.. code-block:: yaml

    model: brain_bone_axis
    description: FSH on osteoclasts, and the beta2-ATF4 gate
    variants:
      - id: fsh_via_estradiol_only
        name: FSH acts on bone only through ovarian estradiol (the default)
        source: Allan et al. 2010, PNAS 107:22629
        changes: {HPG_FSH_bone_on: 0}
      - id: fsh_direct
        name: FSH also drives osteoclast differentiation directly
        source: Sun et al. 2006, Cell 125:247
        changes: {HPG_FSH_bone_on: 1}
        parameters: [HPG_Emax_FSH_OC=0.05:10]     # optional: estimated in this variant only

A variant's ``changes`` are applied to every spec as shared changes (over the spec's own shared changes;
a variant may not change what an arm sets). :func:`compare_variants` fits every variant to the same
measurements (the specs' ``measurements:`` links, held-back rows excluded), estimating the command's
``parameters`` plus the variant's own (multi-start, :func:`~pybrainbone.calibration.estimate.estimate`;
with none the NLL is just evaluated at the nominal values), and ranks them by

* AIC = 2k + 2 NLL and BIC = k ln n + 2 NLL (k estimated parameters, n measurements),
* ΔAIC to the best, and Akaike weights w_i = exp(-ΔAIC_i/2) / Σ_j exp(-ΔAIC_j/2).

As a rule of thumb (Burnham & Anderson 2002), ΔAIC < 2 does not distinguish two variants, > 10 leaves the
worse one essentially no support. A ranking is relative: the best variant can still misfit; its χ² and
p-value (χ² on n - k degrees of freedom) say whether it does.

>>> v = Variant(id="no_gate", changes={"link_sns_hpg": 0.0})
>>> v.id, v.changes, v.parameters
('no_gate', {'link_sns_hpg': 0.0}, [])
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pybrainbone.calibration.estimate import DEFAULT_SEED, estimate
from pybrainbone.calibration.likelihood import CalibrationError, Likelihood, build_likelihood, chi_square
from pybrainbone.calibration.priors import Prior
from pybrainbone.errors import near_matches
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import Experiment
from pybrainbone.sensitivity.checkpoint import Checkpoint, fingerprint
from pybrainbone.sensitivity.executors import Engine
from pybrainbone.sensitivity.objective import arm_set_parameters
from pybrainbone.simulator import Simulator
from pybrainbone.yaml_files import read_text, read_yaml

__all__ = [
    "Comparison",
    "Variant",
    "VariantError",
    "VariantFit",
    "VariantSet",
    "apply_variant",
    "compare_variants",
    "load_variants",
    "variants_text_hash",
]

_ID = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class VariantError(CalibrationError):
    """A variants file that does not validate, or a variant that cannot be applied to a spec.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "v.yaml").write_text("variants: [{id: a}, {id: a}]\\n")
    ...     load_variants(Path(folder) / "v.yaml")
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.variants.VariantError: .../v.yaml: variant ids must be unique: a
    """


class Variant(BaseModel):
    """One labelled variant: parameter changes, and parameters estimated in this variant only.

    Examples
    --------
    >>> Variant(id="fsh_direct", changes={"HPG_FSH_bone_on": 1}, parameters=["HPG_Emax_FSH_OC"]).parameters
    ['HPG_Emax_FSH_OC']
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: _ID
    name: str = ""
    description: str = ""
    source: str = ""
    changes: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(default_factory=dict)
    parameters: list[str] = Field(default_factory=list)


class VariantSet(BaseModel):
    """A variants file: the model they are variants of (optional check) and the variants, in order.

    Examples
    --------
    >>> variants = VariantSet(variants=[Variant(id="a"), Variant(id="b", changes={"k": 2})])
    >>> variants.ids, variants.select(["b"]).ids
    (('a', 'b'), ('b',))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    description: str = ""
    variants: Annotated[list[Variant], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> VariantSet:
        ids = [v.id for v in self.variants]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"variant ids must be unique: {', '.join(twice)}")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """The variant ids, in file order.

        Examples
        --------
        >>> VariantSet(variants=[Variant(id="x"), Variant(id="y")]).ids
        ('x', 'y')
        """
        return tuple(v.id for v in self.variants)

    def select(self, ids: Sequence[str] | None) -> VariantSet:
        """Only the variants ``ids`` (in that order); all of them for ``None``.

        Examples
        --------
        >>> VariantSet(variants=[Variant(id="x")]).select(["z"])
        Traceback (most recent call last):
        ...
        pybrainbone.calibration.variants.VariantError: no variant 'z' (variants: x)
        """
        if not ids:
            return self
        known = {v.id: v for v in self.variants}
        for wanted in ids:
            if wanted not in known:
                close = near_matches(wanted, known)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise VariantError(f"no variant {wanted!r} (variants: {', '.join(known)}){hint}")
        return self.model_copy(update={"variants": [known[i] for i in ids]})


def load_variants(path: str | Path) -> VariantSet:
    """Read and check a variants file (YAML).

    Examples
    --------
    >>> from pybrainbone.paths import experiments_dir
    >>> variants = load_variants(experiments_dir() / "variants" / "brain_bone_axis.yaml")
    >>> variants.model, variants.ids[:2]
    ('brain_bone_axis', ('reference', 'fsh_direct'))
    """
    data = read_yaml(Path(path), VariantError, "variants file")
    try:
        return VariantSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise VariantError(f"{path}: {where + ': ' if where else ''}{message}") from None


def apply_variant(experiment: Experiment, variant: Variant, parameter_ids: Sequence[str]) -> Experiment:
    """``experiment`` with the variant's changes among its shared changes (names checked).

    Examples
    --------
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "changes": {"A_OCa": 0.7},
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "treated", "changes": {"P_PTH_ext": 100}}]})
    >>> apply_variant(exp, Variant(id="v", changes={"D_OCp": 0.003}), ["A_OCa", "D_OCp"]).changes
    {'A_OCa': 0.7, 'D_OCp': 0.003}
    >>> apply_variant(exp, Variant(id="v", changes={"P_PTH_ext": 5}), ["P_PTH_ext"])
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.variants.VariantError: variant v changes P_PTH_ext, but arm(s) treated of 'pth'
    set it as their intervention
    """
    owned = arm_set_parameters(experiment)
    for name in variant.changes:
        if name not in parameter_ids:
            close = near_matches(name, parameter_ids)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise VariantError(
                f"variant {variant.id}: unknown parameter {name!r} of {experiment.model}{hint}"
            )
        if name in owned:
            raise VariantError(f"variant {variant.id} changes {name}, but {owned[name]}")
    return experiment.model_copy(update={"changes": {**experiment.changes, **variant.changes}})


@dataclass(frozen=True)
class VariantFit:
    """One variant fitted to the data: its NLL at the best estimate (or at the nominal values).

    Examples
    --------
    >>> fit = VariantFit(Variant(id="a"), 10.0, ("k",), {"k": 2.0}, 12, 1.5, [], [], 3, 3, 0.2)
    >>> fit.k, fit.log_likelihood
    (1, -10.0)
    """

    variant: Variant
    nll: float
    parameters: tuple[str, ...]
    estimates: dict[str, float]
    n: int
    chi2: float
    chi2_per_dataset: list[dict[str, Any]]
    fit_rows: list[dict[str, Any]]
    starts: int
    converged: int
    seconds: float
    likelihood: Likelihood | None = field(default=None, repr=False, compare=False)

    @property
    def k(self) -> int:
        """The number of estimated parameters.

        Examples
        --------
        >>> VariantFit(Variant(id="a"), 1.0, (), {}, 4, 0.0, [], [], 0, 0, 0.0).k
        0
        """
        return len(self.parameters)

    @property
    def log_likelihood(self) -> float:
        """-NLL.

        Examples
        --------
        >>> VariantFit(Variant(id="a"), 3.5, (), {}, 4, 0.0, [], [], 0, 0, 0.0).log_likelihood
        -3.5
        """
        return -self.nll


def _criteria(fits: Sequence[VariantFit]) -> pd.DataFrame:
    """The comparison table, best first."""
    from scipy.stats import chi2 as chi2_dist

    rows = []
    for f in fits:
        aic = 2 * f.k + 2 * f.nll
        bic = f.k * math.log(f.n) + 2 * f.nll if f.n > 0 else math.nan
        dof = max(f.n - f.k, 1)
        rows.append(
            {"variant": f.variant.id, "log_likelihood": f.log_likelihood, "nll": f.nll, "k": f.k, "n": f.n,
             "aic": aic, "bic": bic, "chi2": f.chi2, "chi2_p_value": float(chi2_dist.sf(f.chi2, dof)),
             "estimates": "; ".join(f"{k}={v:.4g}" for k, v in f.estimates.items()) or "(none)",
             "changes": "; ".join(f"{k}={v:g}" for k, v in f.variant.changes.items()) or "(none)"}
        )  # fmt: skip
    table = pd.DataFrame(rows)
    finite = np.isfinite(table["aic"])
    best_aic = table.loc[finite, "aic"].min() if finite.any() else math.nan
    table["delta_aic"] = table["aic"] - best_aic
    table["delta_bic"] = table["bic"] - (table.loc[finite, "bic"].min() if finite.any() else math.nan)
    weights = np.where(finite, np.exp(-0.5 * table["delta_aic"].where(finite, 0.0)), 0.0)
    table["akaike_weight"] = weights / weights.sum() if weights.sum() > 0 else math.nan
    table = table.sort_values("aic", na_position="last", kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    order = ["rank", "variant", "log_likelihood", "k", "n", "aic", "bic", "delta_aic", "delta_bic",
             "akaike_weight", "chi2", "chi2_p_value", "nll", "estimates", "changes"]  # fmt: skip
    return table[order]


@dataclass(frozen=True)
class Comparison:
    """Every variant's fit on the same measurements, and what the information criteria make of them.

    Examples
    --------
    >>> fits = [VariantFit(Variant(id="a"), 10.0, (), {}, 8, 4.0, [], [], 0, 0, 0.1),
    ...         VariantFit(Variant(id="b"), 20.0, (), {}, 8, 24.0, [], [], 0, 0, 0.1)]
    >>> comparison = Comparison(tuple(fits))
    >>> comparison.table()[["variant", "delta_aic"]].values.tolist()
    [['a', 0.0], ['b', 20.0]]
    >>> comparison.best
    'a'
    """

    fits: tuple[VariantFit, ...]

    def table(self) -> pd.DataFrame:
        """One row per variant, best (lowest AIC) first: log-likelihood, k, n, AIC, BIC, ΔAIC, ΔBIC,
        Akaike weight, χ² and its p-value, the estimates and the variant's changes.

        Examples
        --------
        >>> fits = [VariantFit(Variant(id="a"), 10.0, ("k",), {"k": 1.0}, 8, 4.0, [], [], 1, 1, 0.1),
        ...         VariantFit(Variant(id="b"), 10.0, (), {}, 8, 4.0, [], [], 0, 0, 0.1)]
        >>> table = Comparison(tuple(fits)).table()
        >>> table[["variant", "k", "aic", "delta_aic"]].values.tolist()
        [['b', 0, 20.0, 0.0], ['a', 1, 22.0, 2.0]]
        >>> [round(w, 3) for w in table["akaike_weight"]]
        [0.731, 0.269]
        """
        return _criteria(self.fits)

    @property
    def best(self) -> str:
        """The id of the variant with the lowest AIC.

        Examples
        --------
        >>> Comparison((VariantFit(Variant(id="a"), 1.0, (), {}, 2, 0.0, [], [], 0, 0, 0.0),)).best
        'a'
        """
        return str(self.table()["variant"].iloc[0])

    def summary_line(self, label: str) -> str:
        """One sentence: which variant the data favour, by how much, and whether it fits at all.

        Examples
        --------
        >>> fits = [VariantFit(Variant(id="a"), 10.0, (), {}, 8, 4.0, [], [], 0, 0, 0.1),
        ...         VariantFit(Variant(id="b"), 10.5, (), {}, 8, 5.0, [], [], 0, 0, 0.1)]
        >>> Comparison(tuple(fits)).summary_line("fit")
        'fit: the data do not distinguish a and b (delta AIC 1.00 < 2; Akaike weights 0.62, 0.38); 8
        measurements; best chi2 4 (p = 0.86, fits)'
        """
        table = self.table()
        first = table.iloc[0]
        fit = f"best chi2 {first['chi2']:.3g} (p = {first['chi2_p_value']:.2g}, "
        fit += (
            "fits)" if first["chi2_p_value"] >= 0.05 else "misfits: no variant is consistent with the data)"
        )
        tail = f"{int(first['n'])} measurements; {fit}"
        if len(table) == 1:
            return f"{label}: only {first['variant']} compared; {tail}"
        second = table.iloc[1]
        gap = float(second["delta_aic"])
        weights = ", ".join(f"{w:.2g}" for w in table["akaike_weight"])
        if not gap >= 2:
            apart = table[table["delta_aic"] >= 2]
            after = (
                f"; next {apart['variant'].iloc[0]} at delta AIC {float(apart['delta_aic'].iloc[0]):.3g}"
                if not apart.empty
                else ""
            )
            return (
                f"{label}: the data do not distinguish {first['variant']} and {second['variant']} "
                f"(delta AIC {gap:.2f} < 2{after}; Akaike weights {weights}); {tail}"
            )
        return (
            f"{label}: the data favour {first['variant']} over {second['variant']} by delta AIC {gap:.3g} "
            f"(delta BIC {float(second['delta_bic']):.3g}; Akaike weight {first['akaike_weight']:.3g}); "
            f"{tail}"
        )


def _fit_variant(
    likelihood: Likelihood,
    variant: Variant,
    settings: dict[str, Any],
    engine: Engine | None,
    simulator: Simulator,
) -> tuple[VariantFit, np.ndarray]:
    """Fit one variant; also its best point (log10), which a checkpoint stores."""
    started = time.perf_counter()
    if likelihood.parameters:
        fit = estimate(likelihood, engine=engine, **settings)
        x, nll = fit.x, float(fit.fvals[fit.best])
        starts, converged = len(fit.rows), int((fit.rows[:, 2] > 0).sum())
    else:
        x, nll, starts, converged = (
            likelihood.nominal(),
            likelihood.nll(simulator, likelihood.nominal()),
            0,
            0,
        )
    seconds = time.perf_counter() - started
    return _variant_fit(likelihood, variant, simulator, x, nll, starts, converged, seconds), x


def _variant_fit(  # long: one record from its parts
    likelihood: Likelihood,
    variant: Variant,
    simulator: Simulator,
    x: np.ndarray,
    nll: float,
    starts: int,
    converged: int,
    seconds: float,
) -> VariantFit:
    """The record of a variant fitted at ``x`` (its fit table is one more run of the specs)."""
    if math.isfinite(nll):
        table = likelihood.fit_table(simulator, x)
        per_dataset = chi_square(table).to_dict("records")
        chi2, rows = float((table["residual"] ** 2).sum()), table.to_dict("records")
    else:
        per_dataset, chi2, rows = [], math.inf, []
    estimates = {n: float(10.0**v) for n, v in zip(likelihood.names, x, strict=True)}
    return VariantFit(
        variant, nll, likelihood.names, estimates, len(likelihood.observations), chi2, per_dataset, rows,
        starts, converged, seconds, likelihood,
    )  # fmt: skip


def _checkpoint_key(likelihoods: Sequence[Likelihood], variants: VariantSet, settings: dict[str, Any]) -> str:
    """What a comparison's results depend on: settings, variants, model, parameters, data and specs."""
    return fingerprint(
        "compare-variants",
        {k: v for k, v in settings.items() if k not in ("progress", "seed")},
        [v.model_dump(mode="json") for v in variants.variants],
        [
            (
                lk.model.digest,
                [(p.name, p.lower, p.upper, p.prior) for p in lk.parameters],
                [(o.label, o.mean, o.sigma) for o in lk.observations],
                [t.plan.experiment.model_dump(mode="json") for t in lk.terms],
            )
            for lk in likelihoods
        ],
    )


def compare_variants(  # long: checks, then one fit per variant
    experiments: Sequence[Experiment],
    variants: VariantSet,
    parameters: Sequence[str] = (),
    *,
    data: str | Path | None = None,
    priors: Mapping[str, Prior] | None = None,
    starts: int = 5,
    engine: Engine | None = None,
    optimizer: str = "lbfgsb",
    max_evaluations: int = 500,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> Comparison:
    """Fit every variant to the measurements the ``experiments`` link (same data, same common
    ``parameters`` plus each variant's own) and compare them.

    With a ``checkpoint``, each variant's result is appended to its file as soon as the variant is
    fitted, and variants it already holds (from an interrupted comparison of the same variants, specs,
    data, model and settings) are not fitted again: their records are rebuilt from the stored best point.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     spec = load_experiment(problem.spec)
    ...     variants = VariantSet(variants=[Variant(id="nominal"),
    ...                                     Variant(id="truth", changes=dict(problem.truth))])
    ...     comparison = compare_variants([spec], variants, data=problem.data)
    >>> comparison.table()[["variant", "k", "n"]].values.tolist()
    [['truth', 0, 24], ['nominal', 0, 24]]
    >>> comparison.summary_line("synthetic_pth")
    'synthetic_pth: the data favour truth over nominal by delta AIC ... (p = ..., fits)'
    """
    if not experiments:
        raise CalibrationError("no experiment specs given")
    models = sorted({e.model for e in experiments if e.measurements})
    if variants.model is not None and models and models != [variants.model]:
        raise VariantError(f"the variants are of {variants.model}, the specs run {', '.join(models)}")
    runner = Runner()
    ids = list(runner.simulator(models[0]).parameter_ids) if models else []
    settings = {"starts": starts, "optimizer": optimizer, "max_evaluations": max_evaluations, "seed": seed,
                "progress": progress}  # fmt: skip
    common = [p.partition("=")[0].strip() for p in parameters]
    likelihoods = []
    for variant in variants.variants:
        fixed = sorted(
            set(variant.changes) & {*common, *(p.partition("=")[0].strip() for p in variant.parameters)}
        )
        if fixed:
            raise VariantError(f"variant {variant.id} fixes {', '.join(fixed)}, which is also estimated")
        changed = [apply_variant(e, variant, ids) if e.measurements else e for e in experiments]
        likelihood = build_likelihood(
            changed, [*parameters, *variant.parameters], data=data, runner=runner, priors=priors
        )
        if not likelihood.observations:  # AIC on no data would rank the variants by nothing
            raise VariantError(
                f"no measurements to compare the variants on: all {len(likelihood.predictions)} rows the "
                "specs link are held back (predictions only); compare on a spec with rows that are not "
                "held back, or report the predictions with `pybrainbone fit-report SPEC`"
            )
        likelihoods.append(likelihood)
    # One checkpoint line per finished variant: [NLL, starts, converged, seconds, x...] (x log10).
    rows = np.arange(len(likelihoods), dtype=float)[:, None]
    done = (
        {}
        if checkpoint is None
        else checkpoint.begin(seed, _checkpoint_key(likelihoods, variants, settings), rows)
    )
    fits = []
    for i, (variant, likelihood) in enumerate(zip(variants.variants, likelihoods, strict=True)):
        simulator = runner.simulator(likelihood.model.name)
        if i in done:
            stored = done[i][0]
            nll, starts_run, converged, seconds = (
                float(stored[0]),
                int(stored[1]),
                int(stored[2]),
                float(stored[3]),
            )
            fits.append(
                _variant_fit(likelihood, variant, simulator, stored[4:], nll, starts_run, converged, seconds)
            )
            continue
        fit, x = _fit_variant(likelihood, variant, settings, engine, simulator)
        if checkpoint is not None:
            line = [fit.nll, fit.starts, fit.converged, fit.seconds, *np.asarray(x, dtype=float)]
            checkpoint.record(i, np.array([line]), [], rows)
        fits.append(fit)
    labels = {tuple(o.label for o in f.likelihood.observations) for f in fits if f.likelihood is not None}
    if len(labels) > 1:
        raise VariantError("the variants do not see the same measurements; compare them on one dataset")
    return Comparison(tuple(fits))


def variants_text_hash(path: str | Path) -> str:
    """SHA-256 of a variants file's text (recorded in the comparison's provenance).

    Examples
    --------
    >>> from pybrainbone.paths import experiments_dir
    >>> len(variants_text_hash(experiments_dir() / "variants" / "brain_bone_axis.yaml"))
    64
    """
    from pybrainbone.run_record import content_hash

    return content_hash(read_text(Path(path), VariantError, "variants file"))
