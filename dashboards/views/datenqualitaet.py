"""Datenqualität: where the figures come from and whether they can be trusted.

Everything here is read from the release's manifest: which code built it, which deliveries went in
(with rows read, loaded and quarantined, and each file's checksum), which checks ran and how they
ended, and how well records of different agencies were linked to persons. A steering-group member
can quote a figure together with its release; a data steward sees what needs attention.
The page shows the whole release, so the sidebar's city and period do not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels, release
from dashboards.formatting import Column, format_count, format_local_time, format_month_long

PASSED = "✔ bestanden"
FAILED = "✘ nicht bestanden"


def provenance(chosen: release.Release) -> pd.DataFrame:
    """Who and what made the release, as `Angabe, Wert` rows."""
    created = chosen.created_at
    data_until = chosen.data_until
    suppression = chosen.manifest.get("suppression")
    method = suppression.get("method") if isinstance(suppression, Mapping) else None
    rows = [
        ("Veröffentlichung", chosen.release_id),
        ("Veröffentlicht am", format_local_time(created) if created else "–"),
        ("Datenstand bis", format_month_long(data_until) if data_until else "–"),
        ("Code-Version", chosen.code_version or "–"),
        ("Pipeline-Lauf", str(chosen.manifest.get("run_id") or "–")),
        (
            "Geheimhaltung",
            f"Werte unter {chosen.suppression_threshold} Personen gesperrt" + (f" ({method})" if method else ""),
        ),
    ]
    if chosen.manifest.get("pseudonym_key_id"):
        rows.append(("Kennung des Pseudonym-Schlüssels", str(chosen.manifest["pseudonym_key_id"])))
    return pd.DataFrame(rows, columns=["Angabe", "Wert"])


def linkage_rows(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The linkage summary as `Angabe, Wert` rows; nested per-method counts are listed one by one."""
    rows = []
    for key, value in summary.items():
        if isinstance(value, Mapping):
            rows += [
                (f"{labels.label(labels.LINKAGE, key)}: {labels.link_method(k)}", _text(v)) for k, v in value.items()
            ]
        else:
            rows.append((labels.label(labels.LINKAGE, key), _text(value)))
    return pd.DataFrame(rows, columns=["Angabe", "Wert"])


def links_by_method(summary: Mapping[str, Any]) -> pd.DataFrame:
    """`method, links`: from a nested `links_by_method` or from flat `<method>_links` keys."""
    nested = next((value for value in summary.values() if isinstance(value, Mapping)), None)
    pairs = (
        nested.items()
        if nested is not None
        else ((key.removesuffix("_links"), value) for key, value in summary.items() if key.endswith("_links"))
    )
    frame = pd.DataFrame(list(pairs), columns=["method", "links"])
    frame["links"] = pd.to_numeric(frame["links"], errors="coerce")
    return frame.dropna(subset=["links"])


def _text(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if isinstance(value, bool) or pd.isna(number):
        return "–" if value is None else str(value)
    return format_count(number) if float(number).is_integer() else str(value).replace(".", ",")


def key_value_table(frame: pd.DataFrame, key: str) -> None:
    """An `Angabe, Wert` table with its download, like every other table."""
    columns = [Column("Angabe", "Angabe"), Column("Wert", "Wert")]
    components.show_table(frame, columns, key=key, selection=selection, file_stem=key.removeprefix("tabelle-"))


selection = filters.current()
chosen = selection.release
components.page_intro(
    "Datenqualität",
    "Woher stammen die Zahlen dieser Veröffentlichung, und sind sie vollständig und geprüft?",
)
st.caption("Diese Seite zeigt die ganze Veröffentlichung: Städte und Zeitraum der Seitenleiste gelten hier nicht.")
key_value_table(provenance(chosen), "tabelle-herkunft")

# --- checks -------------------------------------------------------------------------------------
st.subheader("Prüfungen")
checks = release.checks(chosen)
failed = checks[checks["passed"].fillna(False).eq(False)]
blocking = failed[failed["severity"].eq("ERROR").fillna(False)]
st.metric("Prüfungen bestanden", f"{len(checks) - len(failed)} von {len(checks)}")
if len(blocking):
    st.error(
        f"{len(blocking)} blockierende Prüfung(en) nicht bestanden: diese Veröffentlichung hätte so nicht "
        "erscheinen dürfen. Bitte das Datenteam informieren."
    )
elif len(failed):
    st.warning(
        f"{len(failed)} Warnung(en): die Zahlen sind geprüft veröffentlicht, die Hinweise in der Tabelle "
        "sollten aber bekannt sein."
    )
components.show_table(
    checks.assign(result=checks["passed"].map({True: PASSED, False: FAILED}).fillna("–")),
    [
        Column("name", "Prüfung"),
        Column("asset", "Geprüfte Daten"),
        Column("severity", "Art", decode=labels.severity),
        Column("result", "Ergebnis"),
        Column("details", "Einzelheiten"),
    ],
    key="tabelle-pruefungen",
    selection=selection,
    file_stem="pruefungen",
)

# --- deliveries ---------------------------------------------------------------------------------
st.subheader("Lieferungen")
deliveries = release.deliveries(chosen)
city_codes = labels.known_first(deliveries["city"].dropna(), labels.CITIES)
deliveries = deliveries.assign(
    agency=pd.Categorical(deliveries["agency"], labels.known_first(deliveries["agency"].dropna(), labels.AGENCIES)),
    city=pd.Categorical(deliveries["city"], city_codes),
).sort_values(["agency", "city", "month"], kind="stable")
if not deliveries.empty:
    totals = deliveries[["rows_read", "rows_loaded", "rows_quarantined"]].sum()
    read, loaded, quarantined = (int(totals[c]) for c in ("rows_read", "rows_loaded", "rows_quarantined"))
    columns = st.columns(3)
    columns[0].metric("Zeilen gelesen", format_count(read))
    columns[1].metric("Zeilen geladen", format_count(loaded))
    columns[2].metric(
        "Zeilen in Quarantäne",
        format_count(quarantined),
        help="Zeilen, die den Liefervertrag verletzen; "
        "sie sind mit Grund festgehalten und gehen nicht in die Zahlen ein.",
    )
    chart = deliveries.assign(
        Behörde=deliveries["agency"].astype(str).map(labels.agency),
        city=deliveries["city"].astype(str).map(components.city_name),
    )
    figure = px.bar(
        chart,
        x="month",
        y="rows_quarantined",
        color="Behörde",
        facet_col="city",
        barmode="group",
        category_orders={"city": [components.city_name(code) for code in city_codes]},
        labels={"month": "", "rows_quarantined": "Zeilen in Quarantäne", "city": "Stadt"},
        title="Zeilen in Quarantäne je Lieferung",
    )
    components.show_chart(components.month_axis(figure), omitted=0, selection=selection, key="chart-lieferungen")
components.show_table(
    deliveries,
    [
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", "Liefermonat", "month"),
        Column("file_name", labels.column("file_name")),
        Column("rows_read", labels.column("rows_read"), "count"),
        Column("rows_loaded", labels.column("rows_loaded"), "count"),
        Column("rows_quarantined", labels.column("rows_quarantined"), "count"),
        Column("sha256", labels.column("sha256")),
    ],
    key="tabelle-lieferungen",
    selection=selection,
    file_stem="lieferungen",
)
rejected = release.deliveries(chosen, "rejected_deliveries")
if not rejected.empty:
    st.warning(f"{len(rejected)} Lieferung(en) wurden abgewiesen und sind nicht in den Zahlen enthalten.")
    columns = [
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", "Liefermonat", "month"),
        Column("file_name", labels.column("file_name")),
    ]
    if "message" in rejected.columns:
        columns.append(Column("message", labels.column("message")))
    components.show_table(rejected, columns, key="tabelle-abgewiesen", selection=selection, file_stem="abgewiesen")

# --- linkage ------------------------------------------------------------------------------------
st.subheader("Verknüpfung der Datensätze zu Personen")
summary = release.linkage(chosen)
if not summary:
    st.info("Die Veröffentlichung enthält keine Angaben zur Verknüpfung.")
else:
    methods = links_by_method(summary)
    if not methods.empty:
        methods["Verfahren"] = methods["method"].map(labels.link_method)
        figure = px.bar(
            methods, x="links", y="Verfahren", orientation="h", labels={"links": "Verknüpfungen", "Verfahren": ""}
        )
        components.show_chart(figure, omitted=0, selection=selection, key="chart-verknuepfung")
    key_value_table(linkage_rows(summary), "tabelle-verknuepfung")
