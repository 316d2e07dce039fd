"""Record tests/data/skeletal_sites_fit.json (the skeletal-site calibration); run from the repo root."""

import json

from pybrainbone.calibration import build_likelihood
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.simulator import Simulator


def main() -> None:
    fitted = ["denosumab_freedom_sites_fit", "zoledronate_sites_fit", "teriparatide_neer_sites_fit"]
    held = ["menopause_swan_fit", "romosozumab_mcclung_sites_fit", "data_switch_sites_fit"]
    specs = [load_experiment(f"experiments/{s}.yaml") for s in fitted + held]
    lik = build_likelihood(specs, ["spine_rho", "hip_rho", "spine_f_MBF"])
    sim = Simulator("brain_bone_axis")
    x = lik.nominal()
    table = lik.fit_table(sim, x)
    pred = lik.predict_held_back(sim, x)
    out = {
        "source": "pybrainbone calibrate (docs/calibration.md, 'Skeletal sites'): spine_rho and hip_rho "
        "estimated "
        "one at a time on denosumab_freedom_sites_fit and zoledronate_sites_fit (41-point profile scans), "
        "spine_f_MBF on teriparatide_neer_sites_fit (21-point grid profile, 2 zooms), "
        "written back with pybrainbone apply-estimates; values recorded at the shipped model by "
        "this file's test (model values are seeded-regression numbers: rel 1e-6)",
        "estimates": {n: float(10**v) for n, v in zip(lik.names, x, strict=True)},
        "fitted": [
            {
                "dataset": r.dataset,
                "observable": r.observable,
                "condition": r.condition,
                "time_day": r.time_day,
                "mean": r.mean,
                "model": r.model,
            }
            for r in table.itertuples()
        ],
        "held_back": [
            {
                "experiment": o.experiment,
                "dataset": o.dataset,
                "observable": o.observable,
                "condition": o.condition,
                "time_day": o.time,
                "mean": o.mean,
                "model": float(m),
            }
            for o, m in zip(lik.predictions, pred, strict=True)
        ],
    }
    with open("tests/data/skeletal_sites_fit.json", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out["estimates"]), len(out["fitted"]), len(out["held_back"]))


if __name__ == "__main__":  # pytest imports this file for doctests: record only when run
    main()
