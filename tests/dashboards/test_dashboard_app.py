"""The dashboard as a steering-group member uses it, driven through Streamlit's AppTest.

Pages are reached as AppTest sees them: start the entry script, log in, run it once (so
st.navigation registers the pages), then `switch_page("views/<file>.py")` and run again. Expected
figures are computed here from the tables the fixture published, not with the dashboard's code.
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
from conftest import USERS, log_in
from dashboard_release_builder import (
    APP,
    VIEWS,
    PublishedRelease,
    build_manifest,
    build_marts,
    month_starts,
    write_release,
)
from streamlit.testing.v1 import AppTest

PAGES = {
    "ueberblick.py": "Überblick",
    "zustaendigkeiten.py": "Zuständigkeiten",
    "uebergaenge.py": "Übergänge",
    "wege_sprache_arbeit.py": "Wege in Sprache und Arbeit",
    "junge_gefluechtete.py": "Junge Geflüchtete",
    "staedtevergleich.py": "Städtevergleich",
    "arbeitsmarktprofile.py": "Arbeitsmarktprofile",
    "datenqualitaet.py": "Datenqualität",
    "pruefung.py": "Klärfälle",
    "methodik.py": "Methodik",
}
TEXT_PAGES = {"methodik.py"}
# Pages to work on, not figures to read: no charts or downloads (their own tests: test_review_page.py).
REVIEW_PAGES = {"pruefung.py"}
LEGEND = "\\* = gesperrt: weniger als 5 Personen (Geheimhaltung)"
NO_RELEASE = "Noch keine Veröffentlichung – bitte `make demo` ausführen"
ALL = ("alle", "alle", "alle")
GROUPS = ["nationality_group", "age_band", "sex"]


def german(number: float) -> str:
    return f"{round(number):,}".replace(",", ".")


def signed(number: float) -> str:
    return ("+" if number > 0 else "") + german(number)


def choose(app: AppTest, *, cities: list[str], first: date, last: date) -> AppTest:
    app.multiselect(key="staedte").set_value(cities)
    app.select_slider(key="zeitraum").set_range(first, last)
    return app.run()


def metrics_of(app: AppTest, key: str) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in app.get_by_key(key).metric}


def table(app: AppTest, key: str) -> pd.DataFrame:
    """The table as displayed (every cell the text the reader sees)."""
    return app.get_by_key(key).dataframe[0].value


def chart_spec(app: AppTest, key: str) -> dict:
    """The plotly figure of the chart drawn with `key`."""
    return json.loads(app.get_by_key(key).proto.spec)


def plotted_values(spec: dict, axis: str = "y", trace_type: str | None = None) -> list[float]:
    """All values of a plotly chart's traces on one axis, decoding plotly's base64 typed arrays."""
    values: list[float] = []
    for trace in spec["data"]:
        if trace_type and trace.get("type") != trace_type:
            continue
        data = trace.get(axis, [])
        if isinstance(data, dict):
            data = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).tolist()
        values += [v for v in data if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return values


def snapshot(root: Path) -> dict[str, tuple[bool, int, int]]:
    return {
        str(path.relative_to(root)): (path.is_dir(), path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if "audit" not in path.relative_to(root).parts
    }


def rows_for(frame: pd.DataFrame, group: tuple[str, str, str] = ALL, **keys: object) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in zip(GROUPS, group, strict=True):
        mask &= frame[column] == value
    for column, value in keys.items():
        mask &= (pd.to_datetime(frame[column]) == pd.Timestamp(value)) if column == "month" else frame[column] == value
    return frame[mask]


@pytest.mark.parametrize(("page", "title"), PAGES.items())
def test_each_page_renders_its_chart_and_tables_each_with_csv_and_xlsx_download(
    published: PublishedRelease, open_app: Callable[..., AppTest], page: str, title: str
) -> None:
    app = open_app(page)

    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert [t.value for t in app.title][0] == title
    if page in TEXT_PAGES:
        assert any("Geheimhaltung" in m.value for m in app.markdown)
        return
    if page in REVIEW_PAGES:
        assert any("noch nicht gelaufen" in i.value for i in app.info), "no linkage run in this data folder"
        return
    assert app.get("plotly_chart"), "every figure page shows a chart"
    assert app.dataframe, "every figure page shows its table"
    labels = [b.label for b in app.get("download_button")]
    assert "CSV herunterladen" in labels and "XLSX herunterladen" in labels
    offered = app.session_state["_exporte"]
    csv = [key for key in offered if key.startswith("csv-")]
    assert len(csv) == len(app.dataframe), "every table shown can be downloaded as CSV"
    assert all(f"xlsx-{key.removeprefix('csv-')}" in offered for key in csv), "... and as XLSX"
    buttons = [b for b in app.get("download_button") if b.proto.id]
    assert all(b.proto.deferred_file_id for b in buttons), "files are made when clicked, not on every run"


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
    shown = metrics_of(app, f"kennzahlen-{city}")
    previous = pd.Timestamp(month) - pd.DateOffset(months=1)
    stock = published.tables["kpi_stock_by_group"]

    known = rows_for(stock, city=city, month=month, legal_circle="alle").iloc[0]
    assert shown["Personen bei mindestens einer Behörde"][0] == german(known["persons"])
    agency = published.tables["kpi_persons_by_agency"]
    agency = agency[(agency["city"] == city) & (pd.to_datetime(agency["month"]) == pd.Timestamp(month))]
    assert known["persons"] >= agency["persons"].sum(), "the published total covers the suppressed sets too"

    short = {"Arbeit": "Arbeit/Ausbildung"}
    for row in rows_for(stock, city=city, month=month).itertuples():
        if row.legal_circle == "alle":
            continue
        value, delta = shown[f"Bestand {short.get(row.legal_circle, row.legal_circle)}"]
        assert value == ("*" if row.persons_suppressed else german(row.persons)), row.legal_circle
        before = rows_for(stock, city=city, month=previous, legal_circle=row.legal_circle).iloc[0]
        if not (row.persons_suppressed or before["persons_suppressed"]):
            assert delta == signed(row.persons - before["persons"]), row.legal_circle
        else:
            assert delta == "", f"{row.legal_circle}: a change next to a suppressed value would reveal it"

    sgb2 = published.tables["kpi_sgb2_transitions"]
    entries = sgb2[(sgb2["city"] == city) & (pd.to_datetime(sgb2["month"]) == pd.Timestamp(month))].iloc[0]
    assert shown["Zugänge ins SGB II im Monat"][0] == german(entries["entries"])


def test_overview_shows_only_the_chosen_cities(published: PublishedRelease, open_app: Callable[..., AppTest]) -> None:
    app = choose(open_app(), cities=["solingen"], first=date(2016, 1, 1), last=date(2016, 6, 1))

    assert app.get_by_key("kennzahlen-solingen")
    with pytest.raises(KeyError):
        app.get_by_key("kennzahlen-wuppertal")
    assert set(table(app, "tabelle-ueberblick")["Stadt"]) == {"Solingen"}


def test_overview_compares_with_the_same_month_a_year_before(data_dir: Path, open_app: Callable[..., AppTest]) -> None:
    release = write_release(data_dir / "releases", "20170205T060000Z", months=14)
    app = open_app()  # latest month: Feb 2017, a year before: Feb 2016

    shown = table(app, "tabelle-ueberblick")
    stock = release.tables["kpi_stock_by_group"]
    now = rows_for(stock, city="wuppertal", month=date(2017, 2, 1), legal_circle="SGB II").iloc[0]
    before = rows_for(stock, city="wuppertal", month=date(2016, 2, 1), legal_circle="SGB II").iloc[0]
    row = shown[(shown["Stadt"] == "Wuppertal") & (shown["Kennzahl"] == "Bestand SGB II (Jobcenter)")].iloc[0]
    assert row["Vorjahresmonat Feb 2016"] == german(before["persons"])
    assert row["Veränderung zum Vorjahr"] == signed(now["persons"] - before["persons"])


def test_group_filter_narrows_the_overview_to_the_published_group_row(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app()
    app.selectbox(key="geschlecht").set_value("f").run()

    stock = published.tables["kpi_stock_by_group"]
    last = date(2016, 6, 1)
    known = rows_for(stock, ("alle", "alle", "f"), city="solingen", month=last, legal_circle="alle").iloc[0]
    shown = metrics_of(app, "kennzahlen-solingen")
    assert shown["Personen bei mindestens einer Behörde"][0] == german(known["persons"])
    assert "Zugänge ins SGB II im Monat" not in shown, "entries exist for all persons only"
    assert any("weiblich" in c.value for c in app.caption)


def test_a_combination_of_group_filters_says_it_is_not_published_instead_of_showing_figures(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app()
    app.selectbox(key="geschlecht").set_value("m")
    app.selectbox(key="nationalitaet").set_value("Syrien").run()

    assert not app.exception
    assert any("nicht kombiniert" in i.value for i in app.info)
    assert not app.metric and not app.get("plotly_chart")
    app.switch_page("views/uebergaenge.py").run()
    assert any("nicht kombiniert" in i.value for i in app.info)


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
    assert any(c.value.startswith(LEGEND) for c in app.caption)
    bars = plotted_values(chart_spec(app, "chart-zustaendigkeiten"))
    assert len(bars) == len(persons) - len(hidden)
    assert 0 not in bars
    assert any(f"fehlen {len(hidden)} gesperrte Werte" in c.value for c in app.caption)


def test_upset_bars_are_the_published_agency_sets_of_the_month(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app("zustaendigkeiten.py")
    persons = published.tables["kpi_persons_by_agency"]
    june = persons[pd.to_datetime(persons["month"]) == pd.Timestamp(2016, 6, 1)]

    bars = plotted_values(chart_spec(app, "chart-upset"), trace_type="bar")
    assert sorted(bars) == sorted(june.loc[~june["persons_suppressed"], "persons"].astype(float).tolist())


def test_suppressed_stock_is_a_star_in_the_overview_metric(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = choose(open_app(), cities=["muelheim"], first=date(2016, 1, 1), last=date(2016, 1, 1))

    value, _ = metrics_of(app, "kennzahlen-muelheim")["Bestand Arbeit/Ausbildung"]
    assert value == "*"
    assert any(c.value.startswith(LEGEND) for c in app.caption)


def test_sankey_shows_the_published_flows_and_counts_the_suppressed_ones(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app("uebergaenge.py")
    flows = rows_for(published.tables["kpi_legal_circle_flows"])
    hidden = flows["persons_suppressed"]

    spec = chart_spec(app, "chart-sankey")
    values = spec["data"][0]["link"]["value"]
    values = (
        np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
        if isinstance(values, dict)
        else values
    )
    assert sum(values) == flows.loc[~hidden, "persons"].sum()
    assert "Ankunft" in spec["data"][0]["node"]["label"]
    assert any(f"fehlen {int(hidden.sum())} gesperrte Werte" in c.value for c in app.caption)


def test_paths_page_reads_kaplan_meier_shares_from_the_life_table(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app("wege_sprache_arbeit.py")
    life = rows_for(published.tables["kpi_milestone_life_table"])
    rows = life[
        (life["city"] == "wuppertal")
        & (life["cohort_year"] == 2014)
        & (life["reference"] == "arrival")
        & (life["milestone"] == "first_course")
    ].sort_values("month_since")
    survival = 1.0
    for row in rows[rows["month_since"] < 12].itertuples():  # product-limit estimate by quarter, by hand
        survival *= 1 - row.reached / row.at_risk
    expected = f"{(1 - survival) * 100:.1f} %".replace(".", ",")

    shown = table(app, "tabelle-wege")
    cell = shown[
        (shown["Stadt"] == "Wuppertal") & (shown["Jahrgang"] == "2014") & (shown["Meilenstein"] == "erster Sprachkurs")
    ]
    assert cell["erreicht nach 12 Monaten"].tolist() == [expected]
    assert cell["Personen im Jahrgang"].tolist() == [german(rows["at_risk"].max())]


def test_city_comparison_shows_persons_per_thousand_inhabitants(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app("staedtevergleich.py")
    stock = published.tables["kpi_stock_by_group"]
    population = published.tables["kpi_city_population"].set_index("city")["population"]

    shown = metrics_of(app, "kennzahlen-je-1000")
    for city, name in (("wuppertal", "Wuppertal"), ("solingen", "Solingen")):
        known = rows_for(stock, city=city, month=date(2016, 6, 1), legal_circle="alle").iloc[0]["persons"]
        assert shown[name][0] == f"{known * 1000 / population[city]:.1f}".replace(".", ",")


def test_english_switch_translates_words_and_numbers(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app()
    assert app.segmented_control(key="sprache").options == ["Deutsch", "English"]

    # A session switched to English (AppTest cannot re-run a tree whose option labels changed language,
    # so the switch is set before the first run, as the segmented control sets it in a browser).
    english = AppTest.from_file(APP, default_timeout=60)
    english.session_state["sprache"] = "en"
    log_in(english.run(), "beides", USERS["beides"][0])

    assert [t.value for t in english.title][0] == "Overview"
    stock = published.tables["kpi_stock_by_group"]
    known = rows_for(stock, city="wuppertal", month=date(2016, 6, 1), legal_circle="alle").iloc[0]["persons"]
    assert metrics_of(english, "kennzahlen-wuppertal")["Persons known to at least one agency"][0] == f"{known:,}"
    english.switch_page("views/junge_gefluechtete.py").run()
    assert [t.value for t in english.title][0] == "Young refugees"
    assert english.get_by_key("tabelle-jugendhilfe").dataframe[0].value.columns[0] == "City"


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


def test_an_earlier_release_can_be_compared_in_the_overview(data_dir: Path, open_app: Callable[..., AppTest]) -> None:
    releases = data_dir / "releases"
    newer = write_release(releases, "20160705T060000Z", months=6, seed=1)
    older = write_release(releases, "20160702T060000Z", months=6, seed=2)
    app = open_app()
    app.selectbox(key="vergleich").set_value(older.release_id).run()

    shown = table(app, "tabelle-ueberblick")
    column = next(c for c in shown.columns if c.startswith("in Veröffentlichung"))
    row = shown[(shown["Stadt"] == "Wuppertal") & (shown["Kennzahl"] == "Bestand AufenthG (Aufenthaltserlaubnis)")]
    before = rows_for(
        older.tables["kpi_stock_by_group"], city="wuppertal", month=date(2016, 6, 1), legal_circle="AufenthG"
    )
    now = rows_for(
        newer.tables["kpi_stock_by_group"], city="wuppertal", month=date(2016, 6, 1), legal_circle="AufenthG"
    )
    assert row[column].tolist() == [german(before.iloc[0]["persons"])]
    assert row["Jun 2016"].tolist() == [german(now.iloc[0]["persons"])]


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


def test_dashboard_writes_nothing_but_its_audit_log_into_the_data_folder(
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
    assert sorted(os.listdir(data_dir / "audit")) == ["dashboard-audit.jsonl"]
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
    manifest["deliveries"] = [
        d for d in manifest["deliveries"] if (d["agency"], d["month"]) != ("jugendamt", "2016-06")
    ]
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
    fresh = table(app, "tabelle-aktualitaet")
    youth = fresh[fresh["Behörde"] == "Jugendamt"]
    assert set(youth["letzte Lieferung für"]) == {"Mai 2016"} and set(youth["Rückstand (Monate)"]) == {"1"}
    assert set(fresh.loc[fresh["Behörde"] != "Jugendamt", "Stand"]) == {"aktuell"}
    assert any("nicht aktuell" in w.value for w in app.warning)


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
    from dashboard_release_builder import suppress as primary_only

    from pipelines.publish.release import write_release as publish
    from pipelines.publish.suppression import suppress
    from pipelines.publish.tables import RELEASE_TABLES

    months = month_starts(date(2016, 1, 1), 4)
    marts = build_marts(months, seed=1)
    assert set(marts) == {table.name for table in RELEASE_TABLES}, "the fixture builds every table of a release"
    # The simulated life table is too much for the secondary suppression's linear algebra (it does not
    # converge in 30 s, reported to the publisher's owner); the real pipeline's life table goes through
    # it in tests/test_dashboard_on_pipeline_release.py and tests/dashboards/test_browser.py.
    tables = {
        table.name: primary_only(table.name, marts[table.name])
        if table.name == "kpi_milestone_life_table"
        else suppress(marts[table.name], table)
        for table in RELEASE_TABLES
    }
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
