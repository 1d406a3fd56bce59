"""The floor of the disclosure threshold, kept free of heavy imports: the config check reads it at parse time."""

MIN_N_FLOOR = 10
"""The smallest ``disclosure.min_n`` a run may use without ``disclosure.allow_min_n_below_10``."""
