"""Datenqualität: where the figures come from and whether they can be trusted (data stewards).

Everything here is read from the release's manifest: which code built it, which deliveries went in
(with rows read, loaded and quarantined, and each file's checksum), how fresh each agency's latest
delivery is, which checks ran and how they ended, and how well records of different agencies were
linked to persons. The page shows the whole release, so the sidebar's city and period do not apply.
It is a steward page: `app.py` registers it only for that role, and the page checks again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels, release
from dashboards.access import STEWARD
from dashboards.formatting import Column, format_count, format_local_time, format_month_long
from dashboards.i18n import t


def provenance(chosen: release.Release) -> pd.DataFrame:
    """Who and what made the release, as `Angabe, Wert` rows."""
    created = chosen.created_at
    data_until = chosen.data_until
    suppression = chosen.manifest.get("suppression")
    method = suppression.get("method") if isinstance(suppression, Mapping) else None
    rows = [
        (t("Veröffentlichung", "Release"), chosen.release_id),
        (t("Veröffentlicht am", "Published"), format_local_time(created) if created else "–"),
        (t("Datenstand bis", "Data up to"), format_month_long(data_until) if data_until else "–"),
        (t("Code-Version", "Code version"), chosen.code_version or "–"),
        (t("Pipeline-Lauf", "Pipeline run"), str(chosen.manifest.get("run_id") or "–")),
        (
            t("Geheimhaltung", "Confidentiality"),
            t(
                f"Werte unter {chosen.suppression_threshold} Personen gesperrt",
                f"values below {chosen.suppression_threshold} persons suppressed",
            )
            + (f" ({method})" if method else ""),
        ),
    ]
    if chosen.manifest.get("pseudonym_key_id"):
        rows.append(
            (t("Kennung des Pseudonym-Schlüssels", "Pseudonym key id"), str(chosen.manifest["pseudonym_key_id"]))
        )
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


def freshness(deliveries: pd.DataFrame, data_until: date | None) -> pd.DataFrame:
    """Per agency and city: the latest delivered month and how many months it lags behind the release.

    A lag of 0 is current; anything else means the agency's last delivery is missing from the figures
    of the later months (its people look as if they had left).
    """
    if deliveries.empty:
        return pd.DataFrame(columns=["agency", "city", "latest", "lag", "status"])
    latest = (
        deliveries.dropna(subset=["month"]).groupby(["agency", "city"], as_index=False, observed=True)["month"].max()
    )
    reference = pd.Timestamp(data_until) if data_until else latest["month"].max()
    lag = (reference.year - latest["month"].dt.year) * 12 + (reference.month - latest["month"].dt.month)
    latest["lag"] = lag.astype("Int64")
    latest["status"] = latest["lag"].map(
        lambda months: (
            t("aktuell", "current")
            if months == 0
            else t(f"{months} Monat(e) im Rückstand", f"{months} month(s) behind")
        )
    )
    return latest.rename(columns={"month": "latest"})


def _text(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if isinstance(value, bool) or pd.isna(number):
        return "–" if value is None else str(value)
    return format_count(number) if float(number).is_integer() else str(value).replace(".", ",")


def key_value_table(frame: pd.DataFrame, key: str) -> None:
    """An `Angabe, Wert` table with its downloads, like every other table."""
    columns = [Column("Angabe", t("Angabe", "Item")), Column("Wert", t("Wert", "Value"))]
    components.show_table(frame, columns, key=key, selection=selection, file_stem=key.removeprefix("tabelle-"))


user = st.session_state.get(components.USER_KEY)
if user is None or STEWARD not in getattr(user, "roles", ()):
    st.error(t("Diese Seite ist der Datenpflege vorbehalten.", "This page is for data stewards only."))
    st.stop()

selection = filters.current()
chosen = selection.release
components.page_intro(
    t("Datenqualität", "Data quality"),
    t(
        "Woher stammen die Zahlen dieser Veröffentlichung, sind die Lieferungen aktuell, "
        "und sind die Zahlen vollständig und geprüft?",
        "Where do the figures of this release come from, are the deliveries current, "
        "and are the figures complete and checked?",
    ),
)
st.caption(
    t(
        "Diese Seite zeigt die ganze Veröffentlichung: Städte und Zeitraum der Seitenleiste gelten hier nicht.",
        "This page shows the whole release: the sidebar's cities and period do not apply here.",
    )
)
key_value_table(provenance(chosen), "tabelle-herkunft")

# --- freshness ----------------------------------------------------------------------------------
st.subheader(t("Aktualität der Lieferungen", "Freshness of the deliveries"))
deliveries = release.deliveries(chosen)
fresh = freshness(deliveries, chosen.data_until)
behind = fresh[fresh["lag"].fillna(0) > 0] if not fresh.empty else fresh
if len(behind):
    st.warning(
        t(
            f"{len(behind)} Lieferung(en) sind nicht aktuell: die Zahlen der letzten Monate sind dort unvollständig.",
            f"{len(behind)} delivery stream(s) are not current: the latest months' figures are incomplete there.",
        )
    )
components.show_table(
    fresh,
    [
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("latest", t("letzte Lieferung für", "latest delivery for"), "month"),
        Column("lag", t("Rückstand (Monate)", "Lag (months)"), "count"),
        Column("status", t("Stand", "Status")),
    ],
    key="tabelle-aktualitaet",
    selection=selection,
    file_stem="aktualitaet",
)

# --- checks -------------------------------------------------------------------------------------
st.subheader(t("Prüfungen", "Checks"))
checks = release.checks(chosen)
failed = checks[checks["passed"].fillna(False).eq(False)]
blocking = failed[failed["severity"].eq("ERROR").fillna(False)]
st.metric(
    t("Prüfungen bestanden", "Checks passed"),
    t(f"{len(checks) - len(failed)} von {len(checks)}", f"{len(checks) - len(failed)} of {len(checks)}"),
)
if len(blocking):
    st.error(
        t(
            f"{len(blocking)} blockierende Prüfung(en) nicht bestanden: diese Veröffentlichung hätte so nicht "
            "erscheinen dürfen. Bitte das Datenteam informieren.",
            f"{len(blocking)} blocking check(s) failed: this release should not have been published. "
            "Please tell the data team.",
        )
    )
elif len(failed):
    st.warning(
        t(
            f"{len(failed)} Warnung(en): die Zahlen sind geprüft veröffentlicht, die Hinweise in der Tabelle "
            "sollten aber bekannt sein.",
            f"{len(failed)} warning(s): the figures were published after the checks, but the notes in the table "
            "should be known.",
        )
    )
passed, not_passed = t("✔ bestanden", "✔ passed"), t("✘ nicht bestanden", "✘ failed")
components.show_table(
    checks.assign(result=checks["passed"].map({True: passed, False: not_passed}).fillna("–")),
    [
        Column("name", t("Prüfung", "Check")),
        Column("asset", t("Geprüfte Daten", "Data checked")),
        Column("severity", t("Art", "Kind"), decode=labels.severity),
        Column("result", t("Ergebnis", "Result")),
        Column("details", t("Einzelheiten", "Details")),
    ],
    key="tabelle-pruefungen",
    selection=selection,
    file_stem="pruefungen",
)

# --- deliveries ---------------------------------------------------------------------------------
st.subheader(t("Lieferungen", "Deliveries"))
city_codes = labels.known_first(deliveries["city"].dropna(), labels.CITIES)
deliveries = deliveries.assign(
    agency=pd.Categorical(deliveries["agency"], labels.known_first(deliveries["agency"].dropna(), labels.AGENCIES)),
    city=pd.Categorical(deliveries["city"], city_codes),
).sort_values(["agency", "city", "month"], kind="stable")
if not deliveries.empty:
    totals = deliveries[["rows_read", "rows_loaded", "rows_quarantined"]].sum()
    read, loaded, quarantined = (int(totals[c]) for c in ("rows_read", "rows_loaded", "rows_quarantined"))
    columns = st.columns(3)
    columns[0].metric(labels.column("rows_read"), format_count(read))
    columns[1].metric(labels.column("rows_loaded"), format_count(loaded))
    columns[2].metric(
        labels.column("rows_quarantined"),
        format_count(quarantined),
        help=t(
            "Zeilen, die den Liefervertrag verletzen; sie sind mit Grund festgehalten "
            "und gehen nicht in die Zahlen ein.",
            "Rows that break the delivery contract; they are kept with their reason and do not enter the figures.",
        ),
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
        labels={"month": "", "rows_quarantined": labels.column("rows_quarantined"), "city": ""},
        title=t("Zeilen in Quarantäne je Lieferung", "Rows quarantined per delivery"),
    )
    components.show_chart(components.month_axis(figure), omitted=0, selection=selection, key="chart-lieferungen")
components.show_table(
    deliveries,
    [
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", t("Liefermonat", "Delivery month"), "month"),
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
    st.warning(
        t(
            f"{len(rejected)} Lieferung(en) wurden abgewiesen und sind nicht in den Zahlen enthalten.",
            f"{len(rejected)} delivery(ies) were rejected and are not in the figures.",
        )
    )
    columns = [
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", t("Liefermonat", "Delivery month"), "month"),
        Column("file_name", labels.column("file_name")),
    ]
    if "message" in rejected.columns:
        columns.append(Column("message", labels.column("message")))
    components.show_table(rejected, columns, key="tabelle-abgewiesen", selection=selection, file_stem="abgewiesen")

# --- linkage ------------------------------------------------------------------------------------
st.subheader(t("Verknüpfung der Datensätze zu Personen", "Linking records to persons"))
summary = release.linkage(chosen)
if not summary:
    st.info(t("Die Veröffentlichung enthält keine Angaben zur Verknüpfung.", "The release has no linkage summary."))
else:
    methods = links_by_method(summary)
    if not methods.empty:
        methods["Verfahren"] = methods["method"].map(labels.link_method)
        figure = px.bar(
            methods,
            x="links",
            y="Verfahren",
            orientation="h",
            labels={"links": t("Verknüpfungen", "Links"), "Verfahren": ""},
        )
        components.show_chart(figure, omitted=0, selection=selection, key="chart-verknuepfung")
    key_value_table(linkage_rows(summary), "tabelle-verknuepfung")
