"""Ingest: read an agency's delivery, check it against its contract, pseudonymise, load raw."""
