"""Privacy operations on a running installation: key rotation and deletion (retention, deletion requests).

Command line: ``python -m pipelines.privacy --help``. Every command holds the pipeline's run lock
(``pipelines/runlock.py``), changes the warehouse in one transaction, then rewrites the DuckDB file
(``database_file.py``) so that what was removed is gone from the file's bytes too, and finally rebuilds
what is derived (dbt models, the release) so that the next release reflects the change.

- ``rekey.py``: re-key every stored pseudonym from the landing files with a new key, person keys kept.
- ``deletion.py``: delete deliveries older than a retention period, or everything derived from given
  source records (a deletion request under Art. 17 GDPR / § 84 SGB X).
- ``landing.py``: remove a record's rows from the agencies' files kept in the landing zone.
- ``references.py``: the places outside ``raw.*`` that hold source record references.
- ``database_file.py``: drop derived tables, rewrite the DuckDB file without freed blocks.
"""
