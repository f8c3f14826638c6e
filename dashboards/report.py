"""The monthly report for the steering group's meeting: the main pages as one PDF, in one click.

Overview, city comparison, transitions, paths to language and work and young refugees, for the
month, cities and group of people chosen in the sidebar, each as a table (with `*` for suppressed
cells and the legend) and, where it helps, a chart. It is computed by the same functions as the
pages (`figures`), from the release only, so the PDF says what the screen says.

Layout with fpdf2 (pure Python, maintained, Unicode TrueType fonts); charts drawn with matplotlib
into PNG (no browser needed, unlike plotly's image export). The font is the DejaVu Sans that ships
with matplotlib, so German and English texts (ä, ö, ü, ß, –, ≈) print without a system font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the report is made on the server

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from fpdf import FPDF  # noqa: E402

from dashboards import figures, labels, release  # noqa: E402
from dashboards.components import CITY_COLORS  # noqa: E402
from dashboards.filters import Selection, apply, at_month  # noqa: E402
from dashboards.formatting import (  # noqa: E402
    Column,
    display_table,
    format_local_time,
    format_month,
    format_month_long,
    lower_bound_legend,
    suppressed_mask,
    suppression_legend,
)
from dashboards.i18n import Language, t  # noqa: E402

PDF_MIME = "application/pdf"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
HORIZONS = (6, 12, 24)


class Report(FPDF):
    """A4 portrait with the release in the footer of every page."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}", align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9) -> None:
        self.set_font(FONT, "", size)
        self.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def frame(self, shown: pd.DataFrame, numeric: Sequence[bool], widths: Sequence[float] | None = None) -> None:
        """A displayed table (all cells text) with a bold header row; numbers right-aligned."""
        if shown.empty:
            self.paragraph("–")
            return
        self.set_font(FONT, "", 7.5)
        aligns = tuple("RIGHT" if is_number else "LEFT" for is_number in numeric)
        with self.table(
            col_widths=tuple(widths) if widths else None,
            text_align=aligns,
            line_height=4.2,
            headings_style=_HEADINGS,
            first_row_as_headings=True,
        ) as table:
            table.row([str(c) for c in shown.columns])
            for values in shown.itertuples(index=False):
                table.row([str(v) for v in values])
        self.ln(2)

    def chart(self, figure: plt.Figure, width: float = 180) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
        plt.close(figure)
        buffer.seek(0)
        self.image(buffer, w=width)
        self.ln(2)


def _headings_style():
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=(232, 236, 242))


_HEADINGS = _headings_style()


def monthly_report(selection: Selection, lang: Language = "de") -> bytes:
    """The PDF for the selection's reference month; bytes ready for a download."""
    month = selection.reference_month
    if month is None:
        raise ValueError("Die Veröffentlichung enthält keinen Monat.")
    chosen = selection.release
    pdf = Report(
        t("Integrationsmonitor · Veröffentlichung ", "Integration monitor · release ", lang)
        + chosen.release_id
        + " · "
        + suppression_legend(selection.threshold, lang)
    )
    pdf.set_title(t("Monatsbericht ", "Monthly report ", lang) + format_month_long(month, lang))
    pdf.set_creator("Integrationsmonitor")
    pdf.add_page()
    pdf.heading(labels.app_title(lang), 18)
    pdf.heading(t("Monatsbericht für ", "Monthly report for ", lang) + format_month_long(month, lang), 14)
    created = chosen.created_at
    pdf.paragraph(
        "\n".join(
            [
                t("Veröffentlichung: ", "Release: ", lang)
                + chosen.release_id
                + (f" ({format_local_time(created, lang)})" if created else ""),
                t("Städte: ", "Cities: ", lang) + ", ".join(labels.city(c, lang) for c in selection.cities),
                t("Personengruppe: ", "Group of people: ", lang) + _groups_text(selection, lang),
                t("Erstellt: ", "Made: ", lang) + format_local_time(datetime.now(UTC), lang),
                suppression_legend(selection.threshold, lang) + ". " + lower_bound_legend(lang),
            ]
        )
    )
    _overview(pdf, selection, month, lang)
    _comparison(pdf, selection, month, lang)
    _transitions(pdf, selection, month, lang)
    _paths(pdf, selection, lang)
    _youth(pdf, selection, month, lang)
    pdf.heading(t("Methodik in Kürze", "Method in brief", lang), 11)
    pdf.paragraph(
        t(
            "Alle Zahlen sind Summen aus pseudonymisierten Daten von Ausländerbehörde, Jobcenter und Jugendamt. "
            f"Zahlen von 1 bis {selection.threshold - 1} Personen sind gesperrt (*), nie als 0 gezeigt; "
            "„mind.“ steht vor Summen ohne gesperrte Felder. Wege in Sprache und Arbeit sind Kaplan-Meier-"
            "Schätzungen: wer noch unterwegs ist, zählt bis zum Datenende mit. Einzelheiten: Seite „Methodik“.",
            "All figures are sums over pseudonymised data of the immigration office, jobcenter and youth office. "
            f"Counts from 1 to {selection.threshold - 1} persons are suppressed (*), never shown as 0; "
            "'at least' marks sums without suppressed cells. Paths to language and work are Kaplan-Meier "
            "estimates: people still on the way count until the data end. Details: page 'Method'.",
            lang,
        ),
        8.5,
    )
    return bytes(pdf.output())


def _groups_text(selection: Selection, lang: Language) -> str:
    from dashboards.filters import DIMENSION_LABELS

    chosen = [
        DIMENSION_LABELS[d](v) if lang == "de" else _english(d, v)
        for d, v in selection.groups.items()
        if v != labels.ALL and d in DIMENSION_LABELS
    ]
    return ", ".join(chosen) if chosen else t("alle Personen", "all persons", lang)


def _english(dimension: str, value: str) -> str:
    mapping = {"nationality_group": labels.NATIONALITY_GROUPS, "age_band": labels.AGE_BANDS, "sex": labels.SEXES}
    return labels.label(mapping[dimension], value, "en")


def _read(selection: Selection, name: str) -> pd.DataFrame:
    return release.read_table(selection.release, name)


def _overview(pdf: Report, selection: Selection, month, lang: Language) -> None:
    pdf.heading(t("Überblick", "Overview", lang), 13)
    stock = apply(_read(selection, "kpi_stock_by_group"), selection, period=False)
    parts = [figures.stock_figures(stock)]
    if not selection.group_filtered:
        entries = apply(_read(selection, "kpi_sgb2_transitions"), selection, period=False)
        parts.append(figures.measure_figures(entries, "entries", figures.ENTRIES))
    compared = figures.compare_months(
        pd.concat(parts, ignore_index=True), month, selection.previous_month, selection.previous_year_month
    )
    order = [figures.KNOWN, *(figures.STOCK_PREFIX + c for c in labels.LEGAL_CIRCLES), figures.ENTRIES]
    compared["figure"] = pd.Categorical(compared["figure"], categories=order, ordered=True)
    compared = (
        _city_order(compared, selection)
        .sort_values(["_rank", "figure"])
        .assign(figure=lambda f: f["figure"].astype(str))
    )
    columns = [
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        Column("figure", t("Kennzahl", "Figure", lang), decode=lambda c: figures.figure_label(c, lang)),
        Column("value", format_month(month, lang), "count"),
        Column("change_previous", t("zum Vormonat", "vs previous month", lang), "change"),
        Column("change_year", t("zum Vorjahresmonat", "vs same month last year", lang), "change"),
    ]
    pdf.frame(display_table(compared, columns, lang=lang), [c.numeric for c in columns], (38, 72, 24, 23, 23))


def _comparison(pdf: Report, selection: Selection, month, lang: Language) -> None:
    pdf.add_page()
    pdf.heading(t("Städtevergleich je 1.000 Einwohner", "Cities per 1,000 inhabitants", lang), 13)
    population = _read(selection, "kpi_city_population")
    stock = apply(_read(selection, "kpi_stock_by_group"), selection, period=False)
    rows = at_month(figures.stock_figures(stock), month)
    rows = rows.assign(per_1000=figures.per_thousand(rows, population), per_1000_suppressed=rows["value_suppressed"])
    rows = _city_order(rows, selection).sort_values(["figure", "_rank"])
    shown = rows.dropna(subset=["per_1000"])
    if not shown.empty:
        figure, axis = plt.subplots(figsize=(8, 3.2))
        circles = [f for f in rows["figure"].drop_duplicates()]
        width = 0.8 / max(len(selection.cities), 1)
        for index, city in enumerate(selection.cities):
            values = [
                shown.loc[(shown["city"] == city) & (shown["figure"] == f), "per_1000"].astype(float).sum()
                if ((shown["city"] == city) & (shown["figure"] == f)).any()
                else float("nan")
                for f in circles
            ]
            axis.bar(
                [i + index * width for i in range(len(circles))],
                values,
                width,
                label=labels.city(city, lang),
                color=CITY_COLORS.get(city),
            )
        axis.set_xticks([i + width * (len(selection.cities) - 1) / 2 for i in range(len(circles))])
        axis.set_xticklabels([_short_figure(f, lang) for f in circles], fontsize=7)
        axis.set_ylabel(t("je 1.000 Einwohner", "per 1,000 inhabitants", lang), fontsize=8)
        axis.legend(fontsize=7, frameon=False)
        axis.spines[["top", "right"]].set_visible(False)
        pdf.chart(figure)
    columns = [
        Column("figure", t("Kennzahl", "Figure", lang), decode=lambda c: figures.figure_label(c, lang)),
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        Column("value", t("Personen", "Persons", lang), "count"),
        Column("per_1000", t("je 1.000 Einwohner", "per 1,000 inhabitants", lang), "rate"),
    ]
    pdf.frame(display_table(rows, columns, lang=lang), [c.numeric for c in columns], (72, 40, 34, 34))


def _transitions(pdf: Report, selection: Selection, month, lang: Language) -> None:
    pdf.heading(t("Übergänge: Wechsel vom AsylbLG ins SGB II", "Transitions: from AsylbLG to SGB II", lang), 13)
    transitions = apply(_read(selection, "kpi_sgb2_transitions"), selection)
    recent = _city_order(transitions, selection).sort_values(["_rank", "month"])
    columns = [
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        Column("month", t("Monat", "Month", lang), "month"),
        Column("entries", labels.column("entries", lang), "count"),
        Column("gap_days_median", labels.column("gap_days_median", lang), "days"),
        Column("gap_over_30_days", labels.column("gap_over_30_days", lang), "count"),
    ]
    last_months = recent[recent["month"] > pd.Timestamp(month) - pd.DateOffset(months=3)]
    pdf.paragraph(
        t(
            "Die letzten drei Monate des Zeitraums; Lücke = Tage zwischen dem Ende der AsylbLG-Leistung und "
            "dem Beginn des SGB II (für alle Personen).",
            "The period's last three months; gap = days between the end of AsylbLG benefits and the start of "
            "SGB II (all persons).",
            lang,
        ),
        8.5,
    )
    pdf.frame(display_table(last_months, columns, lang=lang), [c.numeric for c in columns], (38, 24, 38, 40, 40))
    flows = apply(_read(selection, "kpi_legal_circle_flows"), selection)
    if not flows.empty:
        top = flows[~suppressed_mask(flows, "persons")].sort_values("persons", ascending=False)
        top = top[top["from_circle"] != "start"].head(12)
        top = _city_order(top, selection).sort_values(["_rank", "persons"], ascending=[True, False])
        pdf.paragraph(
            t("Häufigste Wege zwischen den Rechtskreisen:", "Most frequent ways between legal circles:", lang), 9
        )
        columns = [
            Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
            Column("from_circle", t("von", "from", lang), decode=lambda c: labels.station(c, lang)),
            Column("to_circle", t("nach", "to", lang), decode=lambda c: labels.station(c, lang)),
            Column("persons", t("Personen", "Persons", lang), "count"),
        ]
        pdf.frame(display_table(top, columns, lang=lang), [c.numeric for c in columns], (40, 52, 52, 36))


def _paths(pdf: Report, selection: Selection, lang: Language) -> None:
    pdf.add_page()
    pdf.heading(t("Wege in Sprache und Arbeit (ab Ankunft)", "Paths to language and work (from arrival)", lang), 13)
    life = apply(_read(selection, "kpi_milestone_life_table"), selection, groups=False)
    life = life[
        (life["reference"] == "arrival") & (life[["nationality_group", "age_band", "sex"]] == "alle").all(axis=1)
    ]
    if life.empty:
        pdf.paragraph(t("Nicht veröffentlicht.", "Not published.", lang))
        return
    pdf.paragraph(t("Alle Personen (die Verläufe gibt es nicht je Personengruppe).", "All persons.", lang), 8.5)
    all_curves = figures.curves(life, selection.threshold)
    figure, axes = plt.subplots(1, len(selection.cities), figsize=(8, 2.6), sharey=True, squeeze=False)
    for axis, city in zip(axes[0], selection.cities, strict=True):
        for key, curve in sorted(all_curves.items()):
            if key[0] == city and key[3] == "b1" and curve.persons is not None:
                axis.step(curve.months, curve.lower * 100, where="post", label=str(key[1]))
                axis.fill_between(curve.months, curve.lower * 100, curve.upper * 100, step="post", alpha=0.2)
        axis.set_title(labels.city(city, lang), fontsize=8)
        axis.set_xlabel(t("Monate", "months", lang), fontsize=7)
        axis.tick_params(labelsize=7)
        axis.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_ylabel(t("B1 erreicht (%)", "reached B1 (%)", lang), fontsize=7)
    axes[0][0].legend(fontsize=6, frameon=False, title=t("Jahrgang", "cohort", lang), title_fontsize=6)
    pdf.chart(figure)
    table = figures.curve_table(all_curves, HORIZONS, lang)
    table = _city_order(table, selection).sort_values(["_rank", "cohort_year", "milestone"])
    columns = [
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        Column("cohort_year", t("Jahrgang", "Cohort", lang), "year"),
        Column("milestone", t("Meilenstein", "Milestone", lang), decode=lambda c: labels.milestone(c, lang)),
        Column("persons", t("Personen", "Persons", lang), "count"),
        *(Column(f"share_{h}_text", t(f"nach {h} Mon.", f"after {h} mo.", lang)) for h in HORIZONS),
    ]
    pdf.frame(display_table(table, columns, lang=lang), [c.numeric for c in columns], (32, 18, 40, 18, 24, 24, 24))


def _youth(pdf: Report, selection: Selection, month, lang: Language) -> None:
    pdf.heading(t("Junge Geflüchtete", "Young refugees", lang), 13)
    care = at_month(apply(_read(selection, "kpi_youth_care"), selection), month)
    care = _city_order(care, selection).sort_values("_rank")
    columns = [
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        *(Column(m, labels.column(m, lang), "count") for m in ("in_care", "unaccompanied_in_care", "turning_18")),
    ]
    pdf.frame(display_table(care, columns, lang=lang), [c.numeric for c in columns], (45, 45, 45, 45))
    follow = apply(_read(selection, "kpi_youth_follow_up"), selection)
    follow = _city_order(follow, selection).sort_values(["_rank", "year", "follow_up"])
    columns = [
        Column("city", t("Stadt", "City", lang), decode=lambda c: labels.city(c, lang)),
        Column("year", t("Jahr", "Year", lang), "year"),
        Column("follow_up", labels.column("follow_up", lang), decode=lambda c: labels.follow_up(c, lang)),
        Column("persons", t("Personen", "Persons", lang), "count"),
    ]
    pdf.frame(display_table(follow, columns, lang=lang), [c.numeric for c in columns], (45, 25, 70, 40))


def _city_order(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    return frame.assign(_rank=frame["city"].map({c: i for i, c in enumerate(selection.cities)}))


def _short_figure(code: str, lang: Language) -> str:
    if code == figures.KNOWN:
        return t("mind. eine\nBehörde", "any\nagency", lang)
    return code.removeprefix(figures.STOCK_PREFIX)


def selection_for(chosen: release.Release, cities: Sequence[str], month) -> Selection:
    """A selection without a sidebar (benchmark, tests): all of the release's months up to `month`."""
    months = tuple(release.release_months(chosen))
    return Selection(
        release=chosen,
        cities=tuple(cities),
        months=months,
        period=(months[0], month) if months else None,
    )
