"""``python -m evaluation``: see :mod:`evaluation.cli`."""

import gc

from evaluation.cli import main

status = main()
gc.freeze()  # the process ends here: its objects need not be collected one by one (about 0.2 s after a render)
raise SystemExit(status)
