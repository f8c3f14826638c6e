"""Bad deliveries: every file of the corpus ends as expected, and nothing is lost or leaks on the way.

The corpus (tests/data/bad/) holds one small file per kind of damage; expected.yaml says what
ingesting each must give. The large case (a field of several MB) and the cases that need two
deliveries (the same file under two names, a corrected re-delivery) are built here.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from robustness.support import CORPUS, all_text_values, corpus_builder, ingest, landing_copy

EXPECTED: list[dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))["cases"]
_BUILT = corpus_builder()
# The corpus rows' names, ids, AZR numbers and streets: what no message may repeat.
IDENTIFIERS = sorted({v for rows, columns, names in (
    (_BUILT.ABH_ROWS, _BUILT.ABH_COLUMNS, ("Vorgangsnr", "AZR-Nr", "Aktenzeichen", "Familienname", "Vornamen",
                                           "Strasse")),
    (_BUILT.JC_ROWS, _BUILT.JC_COLUMNS, ("kundennummer", "bg_nummer", "nachname", "vorname")),
) for row in rows for v in (row[columns.index(n)] for n in names) if len(v) >= 4} | {"الحسن", "محمد", "HYPERLINK"})
RAW_TABLES = {"abh": "raw.abh__residence_status", "jobcenter": "raw.jobcenter__events",
              "jugendamt": "raw.jugendamt__cases"}


@pytest.mark.parametrize("case", EXPECTED, ids=[c["file"] for c in EXPECTED])
def test_each_bad_delivery_loads_its_good_rows_and_quarantines_the_rest_naming_file_row_and_field(
        case, con, encoder, caplog):
    path = CORPUS / case["file"]
    agency = case["file"].split("/")[0]
    with caplog.at_level(logging.WARNING, logger="pipelines.ingest.delivery"):
        outcome = ingest(path, agency, con, encoder)

    assert outcome.status == case["status"], outcome.message
    assert [outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined] == case["counts"]
    for fragment in case.get("message", []):
        assert fragment in outcome.message, (fragment, outcome.message)
    register = con.execute("select status, rows_read, rows_loaded, rows_quarantined, file_name, message "
                           "from meta.deliveries").fetchall()
    assert register == [(case["status"], *case["counts"], path.name, outcome.message)]

    quarantine = con.execute("select source_row, field, reason from meta.quarantine order by source_row").fetchall()
    said = " ".join([outcome.message, *(str(v) for v in con.execute("select reason, value from meta.quarantine")
                                        .fetchall()), *(r.getMessage() for r in caplog.records)])
    assert not [s for s in IDENTIFIERS if s in said], "no name or id of the file in a message, log or quarantine"
    if case["status"] == "rejected":
        # Nothing of a refused file loads; the refusal is in the quarantine and the log, naming the file.
        assert con.execute(f"select count(*) from {RAW_TABLES[agency]}").fetchone()[0] == 0
        assert len(quarantine) == 1 and outcome.message in quarantine[0][2]
        assert any(path.name in r.getMessage() and "rejected" in r.getMessage() for r in caplog.records)
        return

    expected = [tuple(q) for q in case.get("quarantine", [])]
    assert [(row, field) for row, field, _ in quarantine] == [(row, field) for row, field, _ in expected]
    for (_, _, reason), (_, _, fragment) in zip(quarantine, expected, strict=True):
        assert fragment in reason, (fragment, reason)
    for row, field, _ in expected:  # the operator's log names file, row and field of each bad row
        assert any(f"{path.name}, row {row}, field {field!r}" in r.getMessage() for r in caplog.records)
    # Nothing lost: every data row is loaded or quarantined, none both, none neither.
    loaded = {r for (r,) in con.execute(f"select source_row from {RAW_TABLES[agency]}").fetchall()}
    quarantined = {row for row, _, _ in quarantine}
    assert not loaded & quarantined
    assert loaded | quarantined == set(range(2, outcome.rows_read + 2))


def test_a_field_of_several_megabytes_is_quarantined_and_the_rest_loads(tmp_path, con, encoder):
    corpus = corpus_builder()
    ABH_COLUMNS, ABH_ROWS, changed = corpus.ABH_COLUMNS, corpus.ABH_ROWS, corpus.changed  # noqa: N806
    path = tmp_path / "ABH_Wuppertal_201603.csv"
    path.write_bytes(corpus.abh([
        ABH_ROWS[0],
        changed(ABH_ROWS[1], ABH_COLUMNS, Familienname="Haddad" * 800_000),  # 4.8 MB, an identifying field
        changed(ABH_ROWS[2], ABH_COLUMNS, Staatsangehoerigkeit="4" * 3_000_000),  # 3 MB, a plain field
        changed(ABH_ROWS[0], ABH_COLUMNS, Vorgangsnr="V4"),
    ]).encode("cp1252"))
    assert path.stat().st_size > 7_000_000
    started = time.perf_counter()
    outcome = ingest(path, "abh", con, encoder)
    seconds = time.perf_counter() - started

    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 4, 2, 2)
    rows = con.execute("select source_row, field, reason, value from meta.quarantine order by source_row, field"
                       ).fetchall()
    assert (rows[0][0], rows[0][1], rows[0][3]) == (3, "Familienname", "<redacted>")
    assert "longer than 1000 characters" in rows[0][2]
    assert {(r[0], r[1]) for r in rows[1:]} == {(4, "Staatsangehoerigkeit")}
    assert all(len(r[3]) <= 80 for r in rows[1:]), "a plain value is kept only as an 80-character excerpt"
    assert seconds < 20, f"ingesting a file with a field of several MB took {seconds:.1f} s"


def test_the_same_file_under_a_second_name_is_refused_and_loads_nothing(tmp_path, con, encoder):
    source = CORPUS / "redelivery" / "same_file.csv"
    march = landing_copy(source, tmp_path, "ABH_Wuppertal_201603.csv", "2016-03")
    april = landing_copy(source, tmp_path, "ABH_Wuppertal_201604.csv", "2016-04")

    first = ingest(march, "abh", con, encoder, month="2016-03")
    second = ingest(april, "abh", con, encoder, month="2016-04")

    assert first.status == "loaded" and first.rows_loaded == 3
    assert second.status == "rejected"
    assert second.message.startswith("ABH_Wuppertal_201604.csv: identical")
    assert "to ABH_Wuppertal_201603.csv, loaded for 2016-03" in second.message
    assert (second.rows_read, second.rows_loaded, second.rows_quarantined) == (3, 0, 3)
    months = con.execute("select delivery_month, count(*) from raw.abh__residence_status group by 1").fetchall()
    assert months == [("2016-03", 3)], "April must not hold March's people a second time"
    # Delivering March again under its own name is a re-run, not a duplicate: it replaces March.
    again = ingest(march, "abh", con, encoder, month="2016-03")
    assert again.status == "loaded"
    assert con.execute("select count(*) from raw.abh__residence_status").fetchone()[0] == 3
    register = con.execute("select file_name, status, rows_read, rows_loaded + rows_quarantined, superseded "
                           "from meta.deliveries order by ingested_at").fetchall()
    assert register == [("ABH_Wuppertal_201603.csv", "loaded", 3, 3, True),
                        ("ABH_Wuppertal_201604.csv", "rejected", 3, 3, True),
                        ("ABH_Wuppertal_201603.csv", "loaded", 3, 3, False)]


def test_reordered_columns_load_exactly_what_the_agreed_order_loads(tmp_path, encoder):
    import duckdb

    tables = []
    for name in ("redelivery/same_file.csv", "abh/reordered_columns.csv"):
        connection = duckdb.connect(str(tmp_path / f"{Path(name).stem}.duckdb"))
        ingest(CORPUS / name, "abh", connection, encoder)
        tables.append(connection.execute("select * exclude (delivery_id) from raw.abh__residence_status "
                                         "order by source_row").fetchall())
        connection.close()
    assert tables[0] == tables[1] and len(tables[0]) == 3


def test_an_extra_column_is_neither_stored_nor_copied_anywhere(con, encoder):
    ingest(CORPUS / "abh" / "extra_column.csv", "abh", con, encoder)
    columns = {c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()}
    assert "Religion" not in columns
    assert not [v for v in all_text_values(con) if "islamisch" in v]


def test_names_in_arabic_persian_and_geez_script_load_and_are_encoded_not_lost(con, encoder):
    outcome = ingest(CORPUS / "jobcenter" / "arabic_script_names.csv", "jobcenter", con, encoder)
    assert outcome.rows_loaded == 4
    encodings = con.execute("""
        select family_name_hash, family_name_phonetic, family_name_bloom::varchar, given_name_hash
        from raw.jobcenter__events order by source_row""").fetchall()
    assert all(row[0] is not None and row[3] is not None for row in encodings)
    assert len({row[0] for row in encodings}) == 4, "four different names, four different pseudonyms"
    assert all("1" in row[2] for row in encodings), "the Bloom filter of a non-Latin name is not empty"
    # Cologne phonetics knows Latin letters only: no code rather than one empty code shared by all such names.
    assert all(row[1] is None for row in encodings)
    text = "\n".join(all_text_values(con))
    for name in ("الحسن", "محمد", "رحیمی", "ተስፋይ"):
        assert name not in text


def test_formulas_in_name_fields_are_pseudonymised_and_stored_nowhere(con, encoder):
    outcome = ingest(CORPUS / "abh" / "formula_injection.csv", "abh", con, encoder)
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (3, 0)
    values = all_text_values(con)
    assert not [v for v in values if any(s in v for s in ("HYPERLINK", "SUM(", "491701234567", "-2+3"))]
    assert not [v for v in values if v.startswith(("=", "+", "@"))]
