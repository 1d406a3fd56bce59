"""Make the simulation helpers importable as ``simulate``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
