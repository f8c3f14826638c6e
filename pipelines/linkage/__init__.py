"""Linkage: which source records belong to the same person, and a stable person key for each."""
