"""Reference numbers for ``evaluation.comparison.sensitivity`` (HonestDiD, Rambachan and Roth 2023).

R is not on the development machines and CRAN cannot be reached from them, so
the values are computed with the PyPI port ``honestdid`` 0.1.1 (a translation
of R HonestDiD, whose ARP results agree with R to the 10 digits R printed, see
``R_TRANSCRIBED`` below), installed in a throwaway environment, never as a
project dependency:

    python -m venv /tmp/hdvenv && /tmp/hdvenv/bin/pip install honestdid==0.1.1 "numpy<2.3"
    /tmp/hdvenv/bin/python tests/comparison/reference/make_sensitivity_reference.py

(honestdid 0.1.1 converts 1 x 1 arrays with ``float()``, which the NumPy 2.4
that pip chose by default refuses, hence ``numpy<2.3``.)  It writes
``sensitivity_reference.json`` next to this script (6.5 minutes on one core).  Every value
carries the ``command`` that produced it (as statsmodels' results files do).
The tests read only the JSON; they need neither R nor honestdid.

Cases
-----
``bc``: HonestDiD's vignette example, ``BCdata_EventStudy`` (Benzarti and
    Carloni 2019: the French restaurant VAT cut, log profits, 4 pre and 4 post
    periods), to the 10 significant digits of the R fixtures published with
    HonestDiD.jl (``test/reference.jl``, "auto-generated reference values from
    the R HonestDiD package").
``sim``: a simulated event study with a known truth: 3 pre and 3 post periods,
    a linear pre-trend difference of 0.1 per period that bends by 0.05 per
    period after the start (so it lies in ``Delta^SD(0.05)``), effects
    ``(1.0, 1.2, 1.4)``, AR(1) covariance (rho 0.5, sd 0.15), one draw (seed 20261203).
``sim1``: the same with one post period (HonestDiD's no-nuisance tests).

FLCI: honestdid (like R) simulates the folded-normal quantile from 10^6 draws
and bisects over h to 1 % of its range; ``flci_exact`` recomputes the same
optimum with the exact quantile (scipy ``ncx2``) by a fine search over h,
using honestdid's own worst-case-bias program (cvxpy) for every h, so it is
the method ``flci`` implements.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import honestdid as hd
import numpy as np
from honestdid import core
from scipy import optimize, stats

warnings.filterwarnings("ignore")
HERE = Path(__file__).parent

BC_BETAHAT = [0.006696351804, 0.02934503369, -0.006472972222, 0.0730149895, 0.1959611177, 0.3120639026, 0.2395415455]
BC_BETAHAT.append(0.1260425001)
BC_SIGMA = [
    [8.428358124e-04, 4.768686777e-04, 2.618051076e-04, 2.354220342e-04, 1.676371467e-04, 1.128707663e-04]
    + [1.992816215e-05, -1.368265366e-04],
    [4.768686777e-04, 6.425420288e-04, 3.987425007e-04, 2.435515198e-04, 2.201960306e-04, 1.804591157e-04]
    + [3.84376508e-05, -2.960421989e-05],
    [2.618051076e-04, 3.987425007e-04, 5.229949602e-04, 2.11768609e-04, 1.840722252e-04, 1.45852784e-04]
    + [7.005197403e-05, 5.952994979e-05],
    [2.354220342e-04, 2.435515198e-04, 2.11768609e-04, 3.089595411e-04, 1.197866077e-04, 1.334081317e-04]
    + [1.016335009e-04, 1.079051726e-04],
    [1.676371467e-04, 2.201960306e-04, 1.840722252e-04, 1.197866077e-04, 3.59970436e-04, 2.478818642e-04]
    + [1.749579242e-04, 1.654256921e-04],
    [1.128707663e-04, 1.804591157e-04, 1.45852784e-04, 1.334081317e-04, 2.478818642e-04, 4.263949813e-04]
    + [2.171437809e-04, 2.892747871e-04],
    [1.992816215e-05, 3.84376508e-05, 7.005197403e-05, 1.016335009e-04, 1.749579242e-04, 2.171437809e-04]
    + [4.886697861e-04, 3.805322049e-04],
    [-1.368265366e-04, -2.960421989e-05, 5.952994979e-05, 1.079051726e-04, 1.654256921e-04, 2.892747871e-04]
    + [3.805322049e-04, 7.61739444e-04],
]

R_TRANSCRIBED = {
    "note": (
        "Values printed by R HonestDiD for BCdata_EventStudy, transcribed from two public test fixtures: "
        "eohne/HonestDiD.jl test/reference.jl (10 significant digits; the calls are in its test/validate_*.jl) "
        "and anzonyquispe/honestdid tests/r_test_results.json (16 digits, from its tests/test_honestdid.R). "
        "R's betahat had full precision; the tests use the 10-digit transcription, which moves results by ~1e-10."
    ),
    "original": {
        "command": "constructOriginalCS(betahat, sigma, numPrePeriods = 4, numPostPeriods = 4)",
        "lb": 0.15877494280765034,
        "ub": 0.23314729268124126,
    },
    "rm_conditional_gp200": {
        "command": 'computeConditionalCS_DeltaRM(betahat, sigma, 4, 4, Mbar = 1, hybrid_flag = "ARP", gridPoints = 200)',
        "m": [1.0],
        "lb": [0.07055244362],
        "ub": [0.3184394077],
    },
    "sd_conditional_gp200": {
        "command": 'computeConditionalCS_DeltaSD(betahat, sigma, 4, 4, M = 0.1, hybrid_flag = "ARP", gridPoints = 200)',
        "m": [0.1],
        "lb": [0.1228761035],
        "ub": [0.4168150178],
    },
    "sd_conditional_average_gp100": {
        "command": (
            "computeConditionalCS_DeltaSD(betahat, sigma, 4, 4, l_vec = rep(1/4, 4), M = 0.1, "
            'hybrid_flag = "ARP", gridPoints = 100)'
        ),
        "l_vec": [0.25, 0.25, 0.25, 0.25],
        "m": [0.1],
        "lb": [-0.1809607769],
        "ub": [0.8531008055],
    },
    "sd_conditional": {
        "command": 'createSensitivityResults(betahat, sigma, 4, 4, method = "Conditional", Mvec = c(0, 0.1, 0.2))',
        "m": [0.0, 0.1, 0.2],
        "lb": [0.2100501789, 0.1195044811, 0.02030132213],
        "ub": [0.3277998271, 0.4180257149, 0.5179737331],
    },
    "flci": {
        "command": "createSensitivityResults(betahat, sigma, 4, 4, Mvec = c(0, 0.01, 0.02, 0.03))  # method FLCI",
        "m": [0.0, 0.01, 0.02, 0.03],
        "lb": [0.13141131596381356, 0.1549652670807741, 0.17730108790014376, 0.18940446443439926],
        "ub": [0.216169648209591, 0.2703845303265206, 0.31595646819476952, 0.34854775003919292],
    },
    "flci_more": {
        "command": "findOptimalFLCI(betahat, sigma, M, 4, 4)",
        "m": [0.1, 0.2],
        "lb": [0.1194440001, 0.01944400015],
        "ub": [0.4185082143, 0.5185082143],
    },
    "rm_clf": {
        "command": "createSensitivityResults_relativeMagnitudes(betahat, sigma, 4, 4, Mbarvec = c(0.5, 1, 1.5, 2))",
        "method": "C-LF (simulated least-favourable critical value, R's set.seed(0) and 1000 mvtnorm draws)",
        "m": [0.5, 1.0, 1.5, 2.0],
        "lb": [0.11812948578177346, 0.06723125075039843, 0.013294315120135292, -0.042161970809571847],
        "ub": [0.27158386602562062, 0.31868372530838568, 0.36958196033976071, 0.3794577372861469],
    },
    "upper_bound_m": {"command": "DeltaSD_upperBound_Mpre(betahat, sigma, 4)", "value": 0.20216986929706898},
}


def _bounds(frame, column="accept"):
    accepted = frame[frame[column] == 1]["grid"]
    return float(accepted.min()), float(accepted.max())


def simulated(num_post: int) -> dict:
    """One draw of an event study with a known truth (see the module docstring)."""
    num_pre = 3
    times = np.array([*range(-num_pre, 0), *range(1, num_post + 1)], float)
    trend = 0.1 * times + 0.05 * np.clip(times - 1, 0, None) * np.clip(times, 0, None) / 2
    effect = np.concatenate([np.zeros(num_pre), [1.0, 1.2, 1.4][:num_post]])
    k = len(times)
    cov = 0.15**2 * 0.5 ** np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    rng = np.random.default_rng(20261203)
    beta = rng.multivariate_normal(trend + effect, cov)
    return {
        "truth": {
            "delta": trend.tolist(),
            "tau_post": effect[num_pre:].tolist(),
            "note": "delta is a linear pre-trend of slope 0.1 bending by 0.05 per period after the start",
        },
        "betahat": beta.tolist(),
        "sigma": cov.tolist(),
        "num_pre": num_pre,
        "num_post": num_post,
    }


def flci_exact(b, s, num_pre, num_post, m, alpha=0.05, l_vec=None) -> dict:
    """The optimal FLCI with the exact folded-normal quantile, by a fine search over h."""
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, float)

    def cv(t):
        return float(np.sqrt(stats.ncx2.ppf(1 - alpha, df=1, nc=t * t))) if t > 1e-12 else stats.norm.ppf(1 - alpha / 2)

    h0 = core._find_h_for_minimum_bias(s, num_pre, num_post, l_vec)
    h_min = core._find_lowest_h(s, num_pre, num_post, l_vec)

    def solve(h):
        return core._find_worst_case_bias_given_h(h, s, num_pre, num_post, l_vec)

    def half(h):
        res = solve(h)
        return cv(m * res["value"] / h) * h if res["status"] in ("optimal", "optimal_inaccurate") else np.inf

    grid = np.linspace(h_min * (1 + 1e-9), h0, 201)
    values = [half(h) for h in grid]
    i = int(np.argmin(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best = optimize.minimize_scalar(half, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * h0})
    h = float(best.x) if best.fun < values[i] else float(grid[i])
    res = solve(h)
    v = np.concatenate([res["optimal_l"], l_vec])
    estimate = float(v @ np.asarray(b))
    half_length = cv(m * res["value"] / h) * h
    return {
        "command": f"flci_exact(M = {m}): min over h of h * cv_exact(M * bias(h) / h), bias(h) = honestdid "
        "_find_worst_case_bias_given_h (cvxpy), h on 201 points in [hMin, h0] then bounded Brent",
        "m": m,
        "h": h,
        "max_bias": float(m * res["value"]),
        "estimate": estimate,
        "half_length": float(half_length),
        "lb": estimate - half_length,
        "ub": estimate + half_length,
    }


def honest(case: dict, rm_mbar, sd_m, flci_m, grid_points=200) -> dict:
    b, s = np.asarray(case["betahat"]), np.asarray(case["sigma"])
    npre, npost = case["num_pre"], case["num_post"]
    out = {}
    oc = hd.constructOriginalCS(b, s, npre, npost)
    out["original"] = {
        "command": f"constructOriginalCS(betahat, sigma, {npre}, {npost})",
        "lb": float(oc["lb"][0]),
        "ub": float(oc["ub"][0]),
    }
    if rm_mbar:
        lbs, ubs = [], []
        for mbar in rm_mbar:
            ci = hd.computeConditionalCS_DeltaRM(
                b, s, npre, npost, Mbar=mbar, hybrid_flag="ARP", gridPoints=grid_points
            )
            lo, up = _bounds(ci)
            lbs.append(lo), ubs.append(up)
        out["rm_conditional"] = {
            "command": f'computeConditionalCS_DeltaRM(betahat, sigma, {npre}, {npost}, Mbar = m, hybrid_flag = "ARP", '
            f"gridPoints = {grid_points})",
            "grid_points": grid_points,
            "m": list(rm_mbar),
            "lb": lbs,
            "ub": ubs,
        }
    if sd_m:
        lbs, ubs = [], []
        for m in sd_m:
            ci = hd.computeConditionalCS_DeltaSD(b, s, npre, npost, M=m, hybrid_flag="ARP", gridPoints=grid_points)
            lo, up = _bounds(ci)
            lbs.append(lo), ubs.append(up)
        out["sd_conditional"] = {
            "command": f'computeConditionalCS_DeltaSD(betahat, sigma, {npre}, {npost}, M = m, hybrid_flag = "ARP", '
            f"gridPoints = {grid_points})",
            "grid_points": grid_points,
            "m": list(sd_m),
            "lb": lbs,
            "ub": ubs,
        }
    flcis = []
    for m in flci_m:
        r = hd.find_optimal_flci(b, s, M=m, numPrePeriods=npre, numPostPeriods=npost)
        flcis.append(
            {
                "command": f"findOptimalFLCI(betahat, sigma, M = {m}, {npre}, {npost})  # simulated quantile",
                "m": m,
                "lb": float(r["FLCI"][0]),
                "ub": float(r["FLCI"][1]),
                "half_length": float(r["optimalHalfLength"]),
                "optimal_vec": [float(x) for x in r["optimalVec"]],
            }
        )
    out["flci_honestdid"] = flcis
    out["flci_exact"] = [flci_exact(b, s, npre, npost, m) for m in flci_m]
    if npre > 1:
        out["upper_bound_m"] = {
            "command": f"DeltaSD_upperBound_Mpre(betahat, sigma, {npre})",
            "value": float(hd.DeltaSD_upperBound_Mpre(b, s, npre)),
        }
    return out


def main() -> None:
    bc = {"betahat": BC_BETAHAT, "sigma": BC_SIGMA, "num_pre": 4, "num_post": 4}
    numbers = {
        "generated_by": f"honestdid {hd.__version__} (PyPI port of R HonestDiD), {Path(__file__).name}",
        "bc": {
            **bc,
            "source": "HonestDiD BCdata_EventStudy, 10 significant digits (HonestDiD.jl test/reference.jl)",
            "honestdid": honest(bc, [0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 0.05, 0.1], [0.0, 0.01, 0.02, 0.03, 0.1]),
            "r": R_TRANSCRIBED,
        },
    }
    sim = simulated(3)
    numbers["sim"] = {**sim, "honestdid": honest(sim, [0.0, 0.5, 1.0, 2.0], [0.0, 0.05, 0.2], [0.0, 0.05, 0.2])}
    sim1 = simulated(1)
    numbers["sim1"] = {**sim1, "honestdid": honest(sim1, [], [0.0, 0.05, 0.2], [0.0, 0.05, 0.2])}
    (HERE / "sensitivity_reference.json").write_text(json.dumps(numbers, indent=1) + "\n")


if __name__ == "__main__":
    main()
