"""``python -m grading SUBMISSIONS_DIR --out OUT_DIR [--workers N] [--timeout SECONDS]``.

Also ``python -m grading job …`` (grade one student into a part folder) and
``python -m grading merge …`` (parts → the gradebook of one run): see grading/cluster.py.
"""
import sys

if sys.argv[1:2] == ["job"]:
    from .cluster import job

    sys.exit(job(sys.argv[2:]))
if sys.argv[1:2] == ["merge"]:
    from .cluster import merge

    sys.exit(merge(sys.argv[2:]))
from .cli import main  # noqa: E402

sys.exit(main())
