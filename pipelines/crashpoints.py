"""Named points at which a fault test can freeze a run in order to kill it exactly there.

Off unless ``INTEGRATION_PAUSE_AT`` is set, and then only the named point reacts. The
fault tests (``tests/robustness/test_faults.py``) set ``INTEGRATION_PAUSE_AT=<point>`` or
``<point>#<n>`` (the n-th time the point is reached) and ``INTEGRATION_PAUSE_MARKER=<file>``;
the run writes its pid to the marker file and sleeps until the test kills it (SIGKILL), so the
kill lands in a known state: inside an open ingest transaction, or with a release written but
not yet renamed into place.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

PAUSE_AT_ENV = "INTEGRATION_PAUSE_AT"
PAUSE_MARKER_ENV = "INTEGRATION_PAUSE_MARKER"
_reached: Counter[str] = Counter()


def pause_point(name: str) -> None:
    """Sleep here for good if the environment names this point (a test will kill the process)."""
    wanted = os.environ.get(PAUSE_AT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] != int(nth or 1):
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    while True:
        time.sleep(1)
