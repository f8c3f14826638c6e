"""Entry point of ``python -m pipelines.synthetic``."""

from .cli import main

raise SystemExit(main())
