"""The pseudonymisation key comes from the environment or a key file, never from a default."""

import os
import stat

import pytest

from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV, MissingKeyError, create_demo_key, load_key


def test_a_run_without_a_key_stops_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with pytest.raises(MissingKeyError, match=KEY_FILE_ENV):
        load_key()


def test_demo_key_file_is_private_and_never_overwritten(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys" / "demo.key"
    assert create_demo_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_bytes()
    assert not create_demo_key(path)
    assert path.read_bytes() == first
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    key = load_key()
    assert key.key_id.startswith("k-")
    assert first.strip().decode() not in repr(key)


def test_short_key_file_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "short.key"
    path.write_text("tooshort")
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    with pytest.raises(MissingKeyError, match="fewer than 32 bytes"):
        load_key()
