"""The scipy.special distribution functions equal scipy.stats bit for bit, edge cases included."""

import numpy as np
import pytest
from scipy import stats

from evaluation import distributions as dist

RNG = np.random.default_rng(20261203)
QUANTILES = np.concatenate(
    [[0.0, 1.0, 0.5, np.nan, 1e-300, 1 - 1e-16, -0.1, 1.1, 0.975, 0.025], RNG.uniform(0, 1, 200)]
)
DFS = np.concatenate([[0.0, -1.0, np.nan, np.inf, 1e10, 0.5, 1.0, 2.0, 3.0], RNG.uniform(0.1, 500, 60)])
POINTS = np.concatenate([[0.0, -0.0, np.inf, -np.inf, np.nan], RNG.normal(0, 4, 200)])


def identical(a, b):
    a, b = np.asarray(a), np.asarray(b)
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def test_t_quantile_and_tail_equal_scipy_stats():
    q, df = np.meshgrid(QUANTILES, DFS)
    x, df_x = np.meshgrid(POINTS, DFS)
    assert identical(dist.t_quantile(q, df), stats.t.ppf(q, df))
    assert identical(dist.t_isf(q, df), stats.t.isf(q, df))
    assert identical(dist.t_sf(x, df_x), stats.t.sf(x, df_x))


def test_normal_and_f_equal_scipy_stats():
    finite = QUANTILES[~np.isnan(QUANTILES)]  # scipy's NaN may carry either sign
    assert identical(dist.normal_quantile(finite), stats.norm.ppf(finite))
    assert identical(dist.normal_isf(finite), stats.norm.isf(finite))
    assert identical(dist.normal_cdf(POINTS), stats.norm.cdf(POINTS))
    x, dfd = np.meshgrid(np.abs(POINTS), DFS)
    dfn = RNG.integers(1, 30, x.shape).astype(float)
    assert identical(dist.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))


@pytest.mark.parametrize("q, df", [(0.975, 10), (0.975, np.inf), (0.0, 5.0), (1.0, 5.0), (0.5, 0.0)])
def test_scalars_stay_scalars(q, df):
    value = dist.t_quantile(q, df)
    assert isinstance(value, np.floating) and identical(value, stats.t.ppf(q, df))
    assert isinstance(dist.f_sf(2.0, 3, df), np.floating) and identical(dist.f_sf(q, 3, df), stats.f.sf(q, 3, df))


def test_beta_quantile_is_scipy_stats():
    assert dist.beta_quantile(0.025, 3.0, 8.0) == stats.beta.ppf(0.025, 3.0, 8.0)
