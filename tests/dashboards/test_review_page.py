"""The clerical-review page (Klärfälle) as a data steward uses it, driven through Streamlit's AppTest.

The queue is written with the linkage step's own writer (`write_queue`) into the test's data
folder; decisions are read back from the decisions file and the audit log. That the next linkage
run respects a decision is proven in tests/linkage/test_review_and_churn.py; who may open the page
in tests/dashboards/test_access.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from dashboard_release_builder import PublishedRelease
from streamlit.testing.v1 import AppTest

from dashboards import audit
from pipelines.linkage import review

PAGE = "pruefung.py"
NOTE = "Geburtsjahr und Namen passen, Stadtteil anders"
# Three pairs in the linkage step's column layout, deliberately not in review order.
PAIRS = [
    ("abh", "a" * 32, "jobcenter", "b" * 32, 0.31, False, "both names phonetic", "same year, different day"),
    ("jobcenter", "c" * 32, "jugendamt", "d" * 32, 0.52, True, "both names exact", "fehlt"),
    ("abh", "e" * 32, "jugendamt", "f" * 32, 0.85, True, "names swapped, exact", "full date exact"),
]


@pytest.fixture
def queue(data_dir: Path) -> pd.DataFrame:
    """A review queue as the last linkage run left it."""
    frame = pd.DataFrame(
        [
            {
                "agency_l": agency_l,
                "record_ref_l": ref_l,
                "agency_r": agency_r,
                "record_ref_r": ref_r,
                "match_probability": p,
                # the abh-jobcenter pair competes with another register person for the jobcenter record
                "pairwise_probability": 0.12 if agency_l == "abh" and agency_r == "jobcenter" else p,
                "register_candidates": 2 if agency_l == "abh" and agency_r == "jobcenter" else None,
                "match_weight": math.log2(p / (1 - p)),
                "linked_by_model": linked,
                "gamma_name": 7,
                "gamma_birth_date": 2,
                "gamma_azr": -1,
                "name_level": name,
                "birth_date_level": birth_date,
                "azr_level": "fehlt",
                "sex_level": "All other comparisons",
                "location_level": "same city",
            }
            for agency_l, ref_l, agency_r, ref_r, p, linked, name, birth_date in PAIRS
        ]
    )
    assert (
        review.write_queue(pa.Table.from_pandas(frame, preserve_index=False)) == data_dir / "review" / "queue.parquet"
    )
    return frame


def table(app: AppTest, key: str) -> pd.DataFrame:
    return app.get_by_key(key).dataframe[0].value


def metrics_of(app: AppTest, key: str) -> dict[str, str]:
    return {m.label: m.value for m in app.get_by_key(key).metric}


def decision_lines(data_dir: Path) -> list[dict]:
    path = data_dir / "review" / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the data folder except the audit log, with size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() and "audit" not in path.relative_to(root).parts
    }


def test_a_steward_sees_the_open_pairs_least_certain_first_with_their_evidence(
    published: PublishedRelease, queue: pd.DataFrame, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(PAGE, user="datenpflege")

    assert not app.exception and not app.error, [e.value for e in [*app.exception, *app.error]]
    assert [t.value for t in app.title][0] == "Klärfälle"
    shown = table(app, "tabelle-klaerfaelle")
    assert shown["Datensatz 1"].tolist() == ["c" * 32, "a" * 32, "e" * 32]
    assert shown["Behörde 2"].tolist() == ["Jugendamt", "Jobcenter", "Jugendamt"]
    assert shown["Wahrscheinlichkeit"].tolist() == ["52,0 %", "31,0 %", "85,0 %"]
    assert shown["Modell verknüpft"].tolist() == ["ja", "nein", "ja"]
    assert metrics_of(app, "klaerfaelle-stand") == {
        "Paare aus dem letzten Lauf": "3",
        "seitdem entschieden": "0",
        "offen": "3",
    }
    # The pair on screen is the least certain one: both records, the model's view, the evidence.
    records = " ".join(m.value for m in app.get_by_key("klaerfall-datensaetze").markdown)
    assert "Jobcenter" in records and "c" * 32 in records and "Jugendamt" in records and "d" * 32 in records
    assert metrics_of(app, "klaerfall-modell") == {
        "Wahrscheinlichkeit": "52,0 %",
        "Match-Gewicht": "0,12",
        "Modell verknüpft": "ja",
    }
    evidence = dict(table(app, "tabelle-belege").to_numpy().tolist())
    assert evidence == {
        "Name": "beide Namen gleich",
        "Geburtsdatum": "fehlt in mindestens einem Datensatz",
        "AZR-Nummer": "fehlt in mindestens einem Datensatz",
        "Geschlecht": "verschieden",
        "Ort der Akte": "gleiche Stadt, anderer Stadtteil",
    }
    assert not app.get("download_button"), "record references are not for export"
    assert not [c for c in app.caption if "Das Paar allein" in c.value], "no register candidates for this pair"


def test_for_a_register_pair_the_steward_sees_the_pair_alone_and_how_many_candidates_compete(
    published: PublishedRelease, queue: pd.DataFrame, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(PAGE, user="datenpflege")
    app.selectbox(key="klaerfall").set_value("abh:" + "a" * 32 + "|jobcenter:" + "b" * 32).run()

    assert not app.exception, [e.value for e in app.exception]
    assert metrics_of(app, "klaerfall-modell")["Wahrscheinlichkeit"] == "31,0 %"
    (caption,) = [c.value for c in app.caption if "Das Paar allein" in c.value]
    assert "Das Paar allein: 12,0 %" in caption and "2 Personen der Ausländerbehörde" in caption


def test_accepting_a_pair_records_the_steward_as_reviewer_audits_it_and_takes_the_pair_off_the_list(
    published: PublishedRelease, queue: pd.DataFrame, data_dir: Path, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(PAGE, user="datenpflege")
    before = files(data_dir)
    app.text_input(key="klaerfall-notiz").input(NOTE)
    app.button(key="gleiche-person").click().run()

    assert not app.exception and not app.error
    [line] = decision_lines(data_dir)
    assert {k: line[k] for k in ("agency_l", "record_ref_l", "agency_r", "record_ref_r")} == {
        "agency_l": "jobcenter",
        "record_ref_l": "c" * 32,
        "agency_r": "jugendamt",
        "record_ref_r": "d" * 32,
    }
    assert (line["decision"], line["reviewer"], line["note"]) == ("accept", "datenpflege", NOTE)
    [entry] = [e for e in audit.read_entries() if e["event"] == "review_decision"]
    assert (entry["user"], entry["auth"], entry["page"], entry["decision"]) == (
        "datenpflege",
        "local",
        "pruefung",
        "accept",
    )
    assert (entry["record_ref_l"], entry["record_ref_r"]) == ("c" * 32, "d" * 32)
    assert NOTE not in audit.audit_path().read_text(encoding="utf-8"), "free text stays out of the audit log"
    assert audit.verify_chain() == []
    # Only the decisions file was written: not the queue, not the release, nothing else.
    after = files(data_dir)
    assert {name for name in after if after[name] != before.get(name)} == {"review/decisions.jsonl"}
    assert set(before) <= set(after)

    assert any("nächsten Verknüpfungslauf" in s.value for s in app.success)
    assert table(app, "tabelle-klaerfaelle")["Datensatz 1"].tolist() == ["a" * 32, "e" * 32]
    assert metrics_of(app, "klaerfaelle-stand")["seitdem entschieden"] == "1"
    assert "a" * 32 in " ".join(m.value for m in app.get_by_key("klaerfall-datensaetze").markdown), "next pair up"
    assert app.text_input(key="klaerfall-notiz").value == ""
    made = table(app, "tabelle-entscheidungen")
    assert made[["Entscheidung", "Datensatz 1", "Geprüft von", "Notiz", "Stand"]].to_numpy().tolist() == [
        ["gleiche Person", "c" * 32, "datenpflege", NOTE, "gilt"]
    ]


def test_rejecting_a_pair_records_different_persons(
    published: PublishedRelease, queue: pd.DataFrame, data_dir: Path, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(PAGE, user="datenpflege")
    app.selectbox(key="klaerfall").set_value("abh:" + "a" * 32 + "|jobcenter:" + "b" * 32).run()
    app.button(key="verschiedene-personen").click().run()

    assert not app.exception and not app.error
    [line] = decision_lines(data_dir)
    assert (line["agency_l"], line["record_ref_l"], line["agency_r"], line["record_ref_r"]) == (
        "abh",
        "a" * 32,
        "jobcenter",
        "b" * 32,
    )
    assert (line["decision"], line["note"]) == ("reject", "")
    assert table(app, "tabelle-klaerfaelle")["Datensatz 1"].tolist() == ["c" * 32, "e" * 32]
    assert table(app, "tabelle-entscheidungen")["Entscheidung"].tolist() == ["verschiedene Personen"]


def test_a_pair_decided_since_the_last_run_is_hidden_whichever_record_comes_first(
    published: PublishedRelease, queue: pd.DataFrame, open_app: Callable[..., AppTest]
) -> None:
    # Decided from the command line, with the records the other way round than in the queue.
    review.record_decision("jugendamt", "d" * 32, "jobcenter", "c" * 32, "accept", reviewer="cli")
    review.record_decision("jugendamt", "d" * 32, "jobcenter", "c" * 32, "reject", reviewer="cli", note="doch nicht")
    app = open_app(PAGE, user="datenpflege")

    assert not app.exception and not app.error
    assert table(app, "tabelle-klaerfaelle")["Datensatz 1"].tolist() == ["a" * 32, "e" * 32]
    assert metrics_of(app, "klaerfaelle-stand")["seitdem entschieden"] == "1"
    made = table(app, "tabelle-entscheidungen")
    assert made[["Entscheidung", "Geprüft von", "Stand"]].to_numpy().tolist() == [
        ["verschiedene Personen", "cli", "gilt"],
        ["gleiche Person", "cli", "durch spätere ersetzt"],
    ]


def test_without_a_linkage_run_the_page_says_there_is_no_queue_yet(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(PAGE, user="datenpflege")

    assert not app.exception and not app.error
    assert any("Verknüpfung ist noch nicht gelaufen" in i.value for i in app.info)
    assert not app.dataframe
    assert not app.get("form")
