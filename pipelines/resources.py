"""Resources shared by several stages, configured once in the definitions and passed in."""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.keys import PseudonymKey, load_key
from pipelines.warehouse import WarehouseResource

__all__ = ["PseudonymKeyResource", "WarehouseResource"]


class PseudonymKeyResource(dg.ConfigurableResource):
    """The pseudonymisation key, read from the environment or key file when a step needs it.

    Only the key's id ever appears in metadata; the secret stays in memory: this process's, and that of
    the ingest workers it starts (``pipelines/ingest/workers.py``), which receive it through a pipe.
    """

    def load(self) -> PseudonymKey:
        return load_key()
