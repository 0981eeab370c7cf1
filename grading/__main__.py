"""``python -m grading SUBMISSIONS_DIR --out OUT_DIR [--workers N] [--timeout SECONDS]``."""
import sys

from .cli import main

sys.exit(main())
