"""Comparison core: pilot versus control municipalities.

Modules, each with one job:

- :mod:`~evaluation.comparison.panel`: area x election panel with treatment timing;
- :mod:`~evaluation.comparison.within`: exact weighted two-way within-transformation;
- :mod:`~evaluation.comparison.twfe`: fixed-effects WLS fits;
- :mod:`~evaluation.comparison.inference`: CRV1, CRV3, Wald tests;
- :mod:`~evaluation.comparison.wild_bootstrap`: restricted wild cluster bootstrap (Webb weights);
- :mod:`~evaluation.comparison.influence`: influence vectors of re-drawn assignments in a small basis;
- :mod:`~evaluation.comparison.randomization`: studentised permutation test (Ferman-Pinto) and Conley-Taber;
- :mod:`~evaluation.comparison.did`: one DiD problem with all its inference methods;
- :mod:`~evaluation.comparison.event_study`: dynamic TWFE and the pre-trend test;
- :mod:`~evaluation.comparison.staggered`: Callaway-Sant'Anna group-time ATTs;
- :mod:`~evaluation.comparison.survey`: survey outcomes (cells and respondent panel);
- :mod:`~evaluation.comparison.placebo`: single-pilot placebos and the placebo-size check;
- :mod:`~evaluation.comparison.power`: minimum detectable effects;
- :mod:`~evaluation.comparison.matching`: matched controls and the balance table;
- :mod:`~evaluation.comparison.pretrend`: permutation pre-trend tests and per-pilot event studies;
- :mod:`~evaluation.comparison.blas`: BLAS thread limit while comparing.

The stage function is :func:`evaluation.comparison.programme.compare`.
"""
