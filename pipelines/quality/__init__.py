"""Quality gates: Great Expectations suites (kept in expectations/) run as blocking asset checks."""
