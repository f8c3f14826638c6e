"""The warehouse remembers which key made its pseudonyms; a rotation needs both keys, and only the id is shown."""

from __future__ import annotations

import os
import stat

import duckdb
import pytest

from pipelines.ingest.keys import (
    NEW_KEY_FILE_ENV,
    KeyMismatchError,
    MissingKeyError,
    PseudonymKey,
    create_key_file,
    ensure_key_matches_warehouse,
    load_new_key,
    record_rotation,
    warehouse_key_id,
)
from pipelines.privacy.cli import main


def test_the_first_run_binds_the_warehouse_to_its_key_and_another_key_is_refused(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first, second = PseudonymKey(b"a" * 40, "test"), PseudonymKey(b"b" * 40, "test")
    assert warehouse_key_id(con) is None
    ensure_key_matches_warehouse(con, first)
    assert warehouse_key_id(con) == first.key_id
    ensure_key_matches_warehouse(con, first)
    with pytest.raises(KeyMismatchError, match="After a key rotation"):
        ensure_key_matches_warehouse(con, second)
    record_rotation(con, first, second)
    ensure_key_matches_warehouse(con, second)
    assert con.execute("select previous_key_id from meta.pseudonym_key").fetchone()[0] == first.key_id


def test_a_rotation_without_a_new_key_stops_with_a_clear_message(monkeypatch) -> None:
    monkeypatch.delenv(NEW_KEY_FILE_ENV, raising=False)
    monkeypatch.delenv("INTEGRATION_PSEUDONYM_NEW_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="--new-key-file"):
        load_new_key()


def test_a_new_key_file_is_private_random_and_never_overwritten(tmp_path, capsys) -> None:
    path = tmp_path / "keys" / "next.key"
    main(["new-key", str(path)])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_bytes().strip()) == 64
    secret = path.read_text().strip()
    assert secret not in capsys.readouterr().out
    with pytest.raises(FileExistsError):
        create_key_file(path)
