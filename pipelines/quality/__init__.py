"""Quality gates: GX suites (expectations/), reconciliation, plausibility and freshness as asset checks.

Blocking checks (severity ERROR) stop the release; warnings (WARN) are reported in the UI, the
manifest and by the alert sensors. See docs/quality.md.
"""
