"""The dashboard as a steering-group member uses it, driven through Streamlit's AppTest.

Pages are reached as AppTest sees them: start the entry script, run it once (so st.navigation
registers the pages), then `switch_page("views/<file>.py")` and run again. Expected figures are
computed here from the tables the fixture published, not with the dashboard's own code.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_release_builder import VIEWS, PublishedRelease, build_manifest, build_marts, month_starts, write_release
from streamlit.testing.v1 import AppTest

PAGES = {
    "ueberblick.py": "Überblick",
    "zustaendigkeiten.py": "Zuständigkeiten",
    "uebergaenge.py": "Übergänge",
    "wege_sprache_arbeit.py": "Wege in Sprache und Arbeit",
    "junge_gefluechtete.py": "Junge Geflüchtete",
    "arbeitsmarktprofile.py": "Arbeitsmarktprofile",
    "datenqualitaet.py": "Datenqualität",
}
LEGEND = "* = gesperrt: weniger als 5 Personen (Geheimhaltung)"
NO_RELEASE = "Noch keine Veröffentlichung – bitte `make demo` ausführen"


def german(number: float) -> str:
    return f"{round(number):,}".replace(",", ".")


def signed(number: float) -> str:
    return ("+" if number > 0 else "") + german(number)


def choose(app: AppTest, *, cities: list[str], first: date, last: date) -> AppTest:
    app.multiselect(key="staedte").set_value(cities)
    app.select_slider(key="zeitraum").set_range(first, last)
    return app.run()


def metrics_of(app: AppTest, city: str) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in app.get_by_key(f"kennzahlen-{city}").metric}


def table(app: AppTest, key: str) -> pd.DataFrame:
    """The table as displayed (every cell the text the reader sees)."""
    return app.get_by_key(key).dataframe[0].value


def plotted_values(app: AppTest, index: int) -> list[float]:
    """All y values of a plotly chart, decoding plotly's base64 typed arrays."""
    spec = json.loads(app.get("plotly_chart")[index].proto.spec)
    values: list[float] = []
    for trace in spec["data"]:
        y = trace.get("y", [])
        if isinstance(y, dict):
            y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"])).tolist()
        values += [v for v in y if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return values


def snapshot(root: Path) -> dict[str, tuple[bool, int, int]]:
    return {
        str(path.relative_to(root)): (path.is_dir(), path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(("page", "title"), PAGES.items())
def test_each_page_renders_its_chart_table_and_download(
    published: PublishedRelease, open_app: Callable[..., AppTest], page: str, title: str
) -> None:
    app = open_app(page)

    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert [t.value for t in app.title][0] == title
    assert app.get("plotly_chart"), "every page shows a chart"
    assert app.dataframe, "every page shows its table"
    assert app.get("download_button"), "every table can be downloaded"


def test_every_view_file_is_rendered_by_the_page_test() -> None:
    # switch_page() raises for a file st.navigation did not register, so with this every view is checked.
    assert sorted(p.name for p in VIEWS.glob("*.py")) == sorted(PAGES)


@pytest.mark.parametrize(
    ("city", "month"),
    [("wuppertal", date(2016, 3, 1)), ("muelheim", date(2016, 3, 1)), ("muelheim", date(2016, 2, 1))],
)
def test_overview_headline_numbers_equal_the_release_for_the_chosen_city_and_month(
    published: PublishedRelease, open_app: Callable[..., AppTest], city: str, month: date
) -> None:
    app = choose(open_app(), cities=[city], first=date(2016, 1, 1), last=month)
    shown = metrics_of(app, city)
    previous = pd.Timestamp(month) - pd.DateOffset(months=1)

    agency = published.tables["kpi_persons_by_agency"]
    agency = agency[(agency["city"] == city) & (pd.to_datetime(agency["month"]) == pd.Timestamp(month))]
    known = german(agency.loc[~agency["persons_suppressed"], "persons"].sum())
    expected_known = f"mind. {known}" if agency["persons_suppressed"].any() else known
    assert shown["Personen bei mindestens einer Behörde"][0] == expected_known

    stock = published.tables["kpi_legal_circle_stock"]
    stock = stock[stock["city"] == city].assign(month=lambda f: pd.to_datetime(f["month"]))
    for row in stock[stock["month"] == pd.Timestamp(month)].itertuples():
        label = next(label for label in shown if label.startswith(f"Bestand {row.legal_circle} "))
        value, delta = shown[label]
        assert value == ("*" if row.persons_suppressed else german(row.persons)), label
        before = stock[(stock["month"] == previous) & (stock["legal_circle"] == row.legal_circle)].iloc[0]
        if not (row.persons_suppressed or before["persons_suppressed"]):
            assert delta == signed(row.persons - before["persons"]), label
        else:
            assert delta == "", f"{label}: a change next to a suppressed value would reveal it"

    sgb2 = published.tables["kpi_sgb2_transitions"]
    entries = sgb2[(sgb2["city"] == city) & (pd.to_datetime(sgb2["month"]) == pd.Timestamp(month))].iloc[0]
    assert shown["Zugänge ins SGB II im Monat"][0] == german(entries["entries"])


def test_overview_shows_only_the_chosen_cities(published: PublishedRelease, open_app: Callable[..., AppTest]) -> None:
    app = choose(open_app(), cities=["solingen"], first=date(2016, 1, 1), last=date(2016, 6, 1))

    assert app.get_by_key("kennzahlen-solingen")
    with pytest.raises(KeyError):
        app.get_by_key("kennzahlen-wuppertal")
    assert set(table(app, "tabelle-ueberblick")["Stadt"]) == {"Solingen"}


def test_suppressed_cell_is_shown_as_star_not_zero_and_left_out_of_the_chart(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    persons = published.tables["kpi_persons_by_agency"]
    hidden = persons[persons["persons_suppressed"]]
    assert len(hidden), "the fixture must publish suppressed cells"
    app = open_app("zustaendigkeiten.py")

    shown = table(app, "tabelle-zustaendigkeiten")
    cell = shown[
        (shown["Stadt"] == "Solingen")
        & (shown["Monat"] == "Jan 2016")
        & (shown["Zuständige Behörden"] == "Jobcenter + Jugendamt")
    ]["Personen"]
    assert cell.tolist() == ["*"]
    assert (shown["Personen"] == "*").sum() == len(hidden)
    assert LEGEND in [c.value for c in app.caption]
    assert len(plotted_values(app, 0)) == len(persons) - len(hidden)
    assert 0 not in plotted_values(app, 0)
    assert any(f"fehlen {len(hidden)} gesperrte Werte" in c.value for c in app.caption)


def test_suppressed_stock_is_a_star_in_the_overview_metric(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = choose(open_app(), cities=["muelheim"], first=date(2016, 1, 1), last=date(2016, 1, 1))

    value, _ = metrics_of(app, "muelheim")["Bestand Arbeit oder Ausbildung"]
    assert value == "*"
    assert any(c.value.startswith(LEGEND) for c in app.caption)


def test_release_selector_lists_releases_newest_first(data_dir: Path, open_app: Callable[..., AppTest]) -> None:
    releases = data_dir / "releases"
    write_release(releases, "20160705T060000Z", months=6)
    write_release(releases, "20160602T060000Z", months=5)
    write_release(releases, "20160803T060000Z", months=7)
    write_release(releases, "20160904T060000Z", months=8, with_manifest=False)
    staging = releases / ".tmp-20161001T060000Z-4711"  # being published: has its manifest, not yet renamed
    staging.mkdir()
    (staging / "manifest.json").write_text("{}")
    app = open_app()

    selector = app.selectbox(key="veroeffentlichung")
    assert selector.options == ["03.08.2016, 08:00 Uhr (neueste)", "05.07.2016, 08:00 Uhr", "02.06.2016, 08:00 Uhr"]
    assert selector.value == "20160803T060000Z"

    selector.set_value("20160602T060000Z").run()
    assert not app.exception
    assert "Datenstand bis Mai 2016" in [c.value for c in app.sidebar.caption]
    assert app.select_slider(key="zeitraum").value == (date(2016, 1, 1), date(2016, 5, 1))

    write_release(releases, "20161004T060000Z", months=9)  # published while the reader is in a meeting
    app.run()
    assert app.selectbox(key="veroeffentlichung").options[0] == "04.10.2016, 08:00 Uhr (neueste)"
    assert app.selectbox(key="veroeffentlichung").value == "20160602T060000Z"


@pytest.mark.parametrize("leftovers", [False, True])
def test_no_release_yet_shows_the_make_demo_message(
    data_dir: Path, open_app: Callable[..., AppTest], leftovers: bool
) -> None:
    if leftovers:  # a publication still being written, and one that never got its manifest
        staging = data_dir / "releases" / ".tmp-20160705T060000Z-1"
        staging.mkdir(parents=True)
        (staging / "manifest.json").write_text("{}")
        (data_dir / "releases" / "20160705T060000Z").mkdir()
    app = open_app()

    assert not app.exception
    assert [i.value for i in app.info] == [NO_RELEASE]
    assert not app.get("plotly_chart")


def test_dashboard_writes_nothing_into_the_data_folder(
    published: PublishedRelease, data_dir: Path, open_app: Callable[..., AppTest]
) -> None:
    before = snapshot(data_dir)
    app = open_app()
    for page in PAGES:
        app.switch_page(f"views/{page}").run()
        assert not app.exception, page
    choose(
        app.switch_page("views/ueberblick.py").run(), cities=["solingen"], first=date(2016, 2, 1), last=date(2016, 4, 1)
    )

    assert snapshot(data_dir) == before
    assert sorted(os.listdir(published.path)) == sorted(
        [
            *(f"{name}.parquet" for name in published.tables),
            *(f"{name}.csv" for name in published.tables),
            "manifest.json",
        ]
    )


def test_quality_page_reads_the_manifest_as_the_publisher_writes_it(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    # pipelines/publish writes Dagster's `check`/`description` and a flat linkage row.
    manifest = dict(published.manifest)
    manifest["checks"] = [
        {
            "asset": "marts/kpi_youth_care",
            "check": "unique_city_month",
            "passed": True,
            "severity": "ERROR",
            "description": None,
        },
        {
            "asset": "raw/jugendamt__cases",
            "check": "birth_date_known",
            "passed": False,
            "severity": "WARN",
            "description": "31 % Platzhalter",
        },
    ]
    manifest["linkage"] = {
        "model_version": "v1",
        "source_records": "41230",  # numpy integers reach the JSON as strings (json.dumps default=str)
        "persons": 16600,
        "deterministic_links": 4310,
        "probabilistic_links": 3170,
        "persons_in_journey": 16590,
    }
    rejected = {**published.manifest["deliveries"][0], "rows_loaded": 0, "message": "Kopfzeile fehlt"}
    manifest["rejected_deliveries"] = [rejected]
    (published.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    app = open_app("datenqualitaet.py")

    assert not app.exception
    checks = table(app, "tabelle-pruefungen")
    assert checks["Prüfung"].tolist() == ["unique_city_month", "birth_date_known"]
    assert checks["Ergebnis"].tolist() == ["✔ bestanden", "✘ nicht bestanden"]
    linkage = dict(table(app, "tabelle-verknuepfung").to_numpy().tolist())
    assert linkage["Datensätze aus den Quellen"] == "41.230"
    assert linkage["Verknüpfungen exakt"] == "4.310"
    assert any("abgewiesen" in w.value for w in app.warning)


def test_a_missing_table_breaks_only_its_own_page(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    (published.path / "kpi_profile_mix.parquet").unlink()
    app = open_app("arbeitsmarktprofile.py")
    assert not app.exception
    assert any("kpi_profile_mix fehlt" in e.value for e in app.error)

    app.switch_page("views/ueberblick.py").run()
    assert not app.exception
    assert not app.error
    assert app.get_by_key("kennzahlen-wuppertal")


def test_dashboard_reads_a_release_written_by_the_real_publisher(
    data_dir: Path, open_app: Callable[..., AppTest]
) -> None:
    # The fixture follows the documented format; this checks the dashboard against the writer itself.
    from pipelines.publish.release import write_release as publish
    from pipelines.publish.suppression import suppress
    from pipelines.publish.tables import RELEASE_TABLES

    months = month_starts(date(2016, 1, 1), 4)
    marts = build_marts(months, seed=1)
    tables = {table.name: suppress(marts[table.name], table) for table in RELEASE_TABLES}
    manifest = {k: v for k, v in build_manifest("-", months, tables).items() if k not in ("release_id", "tables")}
    publish(data_dir / "releases", "20160505T060000Z", tables, manifest)

    app = open_app()
    for page in PAGES:
        app.switch_page(f"views/{page}").run()
        assert not app.exception, page
        assert not app.error, page
    shown = table(app.switch_page("views/zustaendigkeiten.py").run(), "tabelle-zustaendigkeiten")
    solingen = shown[(shown["Stadt"] == "Solingen") & (shown["Zuständige Behörden"] == "Jobcenter + Jugendamt")]
    assert solingen["Personen"].tolist() == ["*"] * len(months)
