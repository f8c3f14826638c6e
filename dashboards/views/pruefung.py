"""Klärfälle: pairs of records the linkage model is unsure about, for a data steward to decide.

The linkage step writes the pairs whose match probability lies in the uncertain band to the review
queue (`pipelines.linkage.review.queue_path()`, in the data folder of `$INTEGRATION_DATA_DIR`): the
agencies' pseudonymous record references, match probability and weight, and for each compared field
the level of agreement the model found, never a name or a date. This page shows the open pairs,
least certain first, and takes a steward's decision: "Gleiche Person" (accept) or "Verschiedene
Personen" (reject). A decision is appended to the decisions file with the steward's login as
reviewer (`record_decision`) and to the audit log; the next linkage run links an accepted pair and
never puts a rejected pair into one person. Pairs decided since the queue was written are hidden.

The page reads the queue file only and never opens the warehouse; the decisions file is the one
thing it writes besides the audit log. Nothing here is a published figure, so the tables have no
downloads. It is a steward page: `app.py` registers it only for that role, and the page checks again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import audit, components, labels
from dashboards.access import STEWARD, SignedInUser
from dashboards.formatting import format_count, format_decimal, format_local_time, format_percent
from dashboards.i18n import t
from pipelines.linkage import review

PAGE = Path(__file__).stem
PAIR_KEY = "klaerfall"
NOTE_KEY = "klaerfall-notiz"
ACCEPT_KEY = "gleiche-person"
REJECT_KEY = "verschiedene-personen"
_DECIDED_KEY = "_klaerfall_entschieden"
REFS = ("agency_l", "record_ref_l", "agency_r", "record_ref_r")
LEVEL_SUFFIX = "_level"
Refs = tuple[str, str, str, str]


def pair_keys(frame: pd.DataFrame) -> pd.Series:
    """One key per record pair, the same whichever record is left: `agency:ref|agency:ref`, sorted."""
    left = frame["agency_l"].astype(str) + ":" + frame["record_ref_l"].astype(str)
    right = frame["agency_r"].astype(str) + ":" + frame["record_ref_r"].astype(str)
    return left.where(left < right, right) + "|" + right.where(left < right, left)


def open_pairs(queue: pd.DataFrame, decided: pd.DataFrame) -> pd.DataFrame:
    """The queue without the pairs decided since it was written, least certain first, with a `pair` key.

    Least certain is closest to even odds (probability 0.5, match weight 0), whichever way the model
    decided: there a steward's look adds the most.
    """
    keys = pair_keys(queue)
    still_open = queue.assign(pair=keys)[~keys.isin(pair_keys(decided))]
    uncertainty = (still_open["match_probability"] - 0.5).abs()
    return still_open.iloc[uncertainty.argsort(kind="stable")].reset_index(drop=True)


def evidence(pair: pd.Series) -> pd.DataFrame:
    """For each compared field, the level of agreement the model found (`Merkmal`, `Übereinstimmung`)."""
    fields = [name.removesuffix(LEVEL_SUFFIX) for name in pair.index if str(name).endswith(LEVEL_SUFFIX)]
    return pd.DataFrame(
        {
            t("Merkmal", "Field"): [labels.comparison_field(field) for field in fields],
            t("Übereinstimmung", "Agreement"): [
                labels.comparison_level(field, pair[field + LEVEL_SUFFIX]) for field in fields
            ],
        }
    )


def yes_no(value: object) -> str:
    return t("ja", "yes") if bool(value) else t("nein", "no")


def probability(value: float) -> str:
    return format_percent(value)


def weight(value: float) -> str:
    return format_decimal(value, 2)


def queue_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """The open pairs as the steward reads them, numbered as in the pair selector."""
    return pd.DataFrame(
        {
            t("Nr.", "No."): range(1, len(pairs) + 1),
            t("Wahrscheinlichkeit", "Probability"): pairs["match_probability"].map(probability),
            t("Match-Gewicht", "Match weight"): pairs["match_weight"].map(weight),
            t("Modell verknüpft", "Linked by the model"): pairs["linked_by_model"].map(yes_no),
            t("Behörde 1", "Agency 1"): pairs["agency_l"].map(labels.agency),
            t("Datensatz 1", "Record 1"): pairs["record_ref_l"],
            t("Behörde 2", "Agency 2"): pairs["agency_r"].map(labels.agency),
            t("Datensatz 2", "Record 2"): pairs["record_ref_r"],
        }
    )


def decisions_made() -> pd.DataFrame:
    """Every line of the decisions file, newest first, with `current` False where a later one replaced it."""
    path = review.decisions_path()
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame(columns=[*REFS, "decision", "reviewer", "note", "decided_at", "current"])
    frame = pd.read_json(path, lines=True, dtype=False)
    frame["current"] = ~pair_keys(frame).duplicated(keep="last")
    return frame.iloc[::-1].reset_index(drop=True)


def decisions_table(frame: pd.DataFrame) -> pd.DataFrame:
    decided_at = pd.to_datetime(frame["decided_at"], utc=True)
    return pd.DataFrame(
        {
            t("Entschieden am", "Decided"): [format_local_time(moment.to_pydatetime()) for moment in decided_at],
            t("Entscheidung", "Decision"): frame["decision"].map(labels.review_decision),
            t("Behörde 1", "Agency 1"): frame["agency_l"].map(labels.agency),
            t("Datensatz 1", "Record 1"): frame["record_ref_l"],
            t("Behörde 2", "Agency 2"): frame["agency_r"].map(labels.agency),
            t("Datensatz 2", "Record 2"): frame["record_ref_r"],
            t("Geprüft von", "Reviewer"): frame["reviewer"],
            t("Notiz", "Note"): frame["note"].fillna(""),
            t("Stand", "Status"): frame["current"].map(
                {True: t("gilt", "in force"), False: t("durch spätere ersetzt", "replaced by a later one")}
            ),
        }
    )


def plain_table(frame: pd.DataFrame, key: str) -> None:
    """A table in a keyed container; no downloads: these are record references, not figures to pass on."""
    with st.container(key=key):
        st.dataframe(frame, hide_index=True)


def signed_in_steward() -> SignedInUser | None:
    user = st.session_state.get(components.USER_KEY)
    return user if isinstance(user, SignedInUser) and STEWARD in user.roles else None


def decide(refs: Refs, decision: str) -> None:
    """Button callback (runs before the next script run, so the list is already up to date then)."""
    user = signed_in_steward()
    if user is None:
        return
    note = str(st.session_state.get(NOTE_KEY) or "").strip()
    review.record_decision(*refs, decision, reviewer=user.login, note=note)
    # The audit log gets the pseudonymous references only: a free-text note might hold clear text.
    audit.record(
        "review_decision",
        user=user.login,
        auth=user.method,
        page=PAGE,
        details={"decision": decision, **dict(zip(REFS, refs, strict=True))},
    )
    st.session_state[NOTE_KEY] = ""
    st.session_state.pop(PAIR_KEY, None)  # the next open pair comes up
    st.session_state[_DECIDED_KEY] = (decision, refs)


def confirm(decision: str, refs: Refs) -> None:
    agency_l, ref_l, agency_r, ref_r = refs
    pair = f"{labels.agency(agency_l)} `{ref_l}` – {labels.agency(agency_r)} `{ref_r}`"
    st.success(
        t(
            f"Gespeichert: **{labels.review_decision(decision)}** für {pair}. Die Entscheidung wirkt ab dem "
            "nächsten Verknüpfungslauf; bis dahin bleiben Personen und Zahlen wie sie sind.",
            f"Saved: **{labels.review_decision(decision)}** for {pair}. The decision takes effect at the next "
            "linkage run; until then persons and figures stay as they are.",
        ),
        icon=":material/check_circle:",
    )


def show_pair(pairs: pd.DataFrame) -> None:
    """The chosen open pair (first: the least certain) with its evidence and the two decision buttons."""
    choices = {
        key: t(f"Nr. {number}", f"No. {number}")
        + f" · {probability(p)} · {labels.agency(agency_l)} – {labels.agency(agency_r)}"
        for number, (key, p, agency_l, agency_r) in enumerate(
            zip(pairs["pair"], pairs["match_probability"], pairs["agency_l"], pairs["agency_r"], strict=True),
            start=1,
        )
    }
    if st.session_state.get(PAIR_KEY) not in choices:
        st.session_state.pop(PAIR_KEY, None)
    chosen = st.selectbox(t("Paar", "Pair"), list(choices), index=0, key=PAIR_KEY, format_func=choices.__getitem__)
    pair = pairs.loc[pairs["pair"] == chosen].iloc[0]
    refs: Refs = (str(pair["agency_l"]), str(pair["record_ref_l"]), str(pair["agency_r"]), str(pair["record_ref_r"]))

    with st.container(key="klaerfall-datensaetze"):
        left, right = st.columns(2)
        left.markdown(f"**{labels.agency(refs[0])}**  \n`{refs[1]}`")
        right.markdown(f"**{labels.agency(refs[2])}**  \n`{refs[3]}`")
    with st.container(key="klaerfall-modell"):
        columns = st.columns(3)
        columns[0].metric(t("Wahrscheinlichkeit", "Probability"), probability(pair["match_probability"]))
        columns[1].metric(
            t("Match-Gewicht", "Match weight"),
            weight(pair["match_weight"]),
            help=t(
                "Logarithmus (Basis 2) der Chance, dass beide Datensätze zur selben Person gehören: "
                "0 heißt so wahrscheinlich wie nicht, jede Einheit verdoppelt oder halbiert die Chance.",
                "Base-2 logarithm of the odds that both records belong to the same person: 0 means as likely "
                "as not, each unit doubles or halves the odds.",
            ),
        )
        columns[2].metric(
            t("Modell verknüpft", "Linked by the model"),
            yes_no(pair["linked_by_model"]),
            help=t(
                "Ob das Modell das Paar im letzten Verknüpfungslauf verknüpft hat (Wahrscheinlichkeit ab der "
                "Verknüpfungsschwelle).",
                "Whether the model linked the pair in the last linkage run (probability at or above the threshold).",
            ),
        )
        competitors = pair.get("register_candidates")
        if competitors is not None and not pd.isna(competitors):
            st.caption(t(
                f"Das Paar allein: {probability(pair['pairwise_probability'])}. Für den Datensatz kommen "
                f"{int(competitors)} Personen der Ausländerbehörde in Frage; die Wahrscheinlichkeit oben verteilt "
                "sich auf sie (jede Person dort hat höchstens ein Gegenstück).",
                f"The pair alone: {probability(pair['pairwise_probability'])}. {int(competitors)} persons of the "
                "immigration office are candidates for the record; the probability above is shared among them "
                "(each person there has at most one counterpart).",
            ))
    plain_table(evidence(pair), "tabelle-belege")

    with st.form("entscheidung", border=False, enter_to_submit=False):
        st.text_input(
            t("Notiz (freiwillig)", "Note (optional)"),
            key=NOTE_KEY,
            max_chars=500,
            help=t(
                "Zur Begründung für die Datenpflege. Bitte keine Namen, Geburtsdaten oder andere Klardaten.",
                "Reasons, for the data stewards. Please no names, birth dates or other clear data.",
            ),
        )
        accept, reject, _ = st.columns([1, 1, 2])
        accept.form_submit_button(
            t("Gleiche Person", "Same person"),
            key=ACCEPT_KEY,
            on_click=decide,
            args=(refs, "accept"),
            type="primary",
            icon=":material/link:",
        )
        reject.form_submit_button(
            t("Verschiedene Personen", "Different persons"),
            key=REJECT_KEY,
            on_click=decide,
            args=(refs, "reject"),
            icon=":material/link_off:",
        )


if signed_in_steward() is None:
    st.error(t("Diese Seite ist der Datenpflege vorbehalten.", "This page is for data stewards only."))
    st.stop()

components.page_intro(
    t("Klärfälle", "Clerical review"),
    t(
        "Gehören diese zwei Datensätze zur selben Person? Hier stehen die Paare, bei denen das "
        "Verknüpfungsmodell unsicher ist, mit den Merkmalen, die übereinstimmen.",
        "Do these two records belong to the same person? Here are the pairs the linkage model is unsure "
        "about, with the fields that agree.",
    ),
)
st.caption(
    t(
        "Nur pseudonyme Datensatz-Kennungen der Behörden, keine Namen oder Geburtsdaten. Eine Entscheidung "
        "wirkt ab dem nächsten Verknüpfungslauf. Städte und Zeitraum der Seitenleiste gelten hier nicht.",
        "Only the agencies' pseudonymous record references, no names or birth dates. A decision takes effect "
        "at the next linkage run. The sidebar's cities and period do not apply here.",
    )
)
just_decided = st.session_state.pop(_DECIDED_KEY, None)
if just_decided:
    confirm(*just_decided)

queue_file = review.queue_path()
if not queue_file.is_file():
    st.info(
        t(
            "Noch keine Klärfälle: die Verknüpfung ist noch nicht gelaufen, es gibt keine Warteschlange.",
            "No pairs to review yet: linkage has not run, there is no review queue.",
        )
    )
    st.caption(t(f"Gesucht in `{queue_file}`.", f"Looked in `{queue_file}`."))
else:
    try:
        queue = pd.read_parquet(queue_file)
    except (OSError, ValueError) as error:
        st.error(
            t(
                f"Die Warteschlange `{queue_file}` ist nicht lesbar ({error}). Der nächste Verknüpfungslauf "
                "schreibt sie neu; bleibt der Fehler, bitte das Pipeline-Team informieren.",
                f"The review queue `{queue_file}` cannot be read ({error}). The next linkage run writes it "
                "again; if the error stays, please tell the pipeline team.",
            )
        )
        st.stop()
    pairs = open_pairs(queue, review.load_decisions())
    written = datetime.fromtimestamp(queue_file.stat().st_mtime, UTC)
    with st.container(key="klaerfaelle-stand"):
        columns = st.columns(3)
        columns[0].metric(t("Paare aus dem letzten Lauf", "Pairs from the last run"), format_count(len(queue)))
        columns[1].metric(t("seitdem entschieden", "decided since"), format_count(len(queue) - len(pairs)))
        columns[2].metric(t("offen", "open"), format_count(len(pairs)))
        st.caption(
            t(
                f"Warteschlange des Verknüpfungslaufs vom {format_local_time(written)}.",
                f"Review queue of the linkage run of {format_local_time(written)}.",
            )
        )
    if pairs.empty:
        st.success(
            t(
                "Keine offenen Klärfälle: alle Paare der Warteschlange sind entschieden.",
                "No open pairs: every pair of the queue has been decided.",
            )
        )
    else:
        st.subheader(t("Offene Paare, unsicherste zuerst", "Open pairs, least certain first"))
        plain_table(queue_table(pairs), "tabelle-klaerfaelle")
        st.subheader(t("Paar prüfen", "Review a pair"))
        show_pair(pairs)

st.subheader(t("Bisherige Entscheidungen", "Decisions so far"))
made = decisions_made()
if made.empty:
    st.info(t("Noch keine Entscheidungen.", "No decisions yet."))
else:
    st.caption(
        t(
            "Neueste zuerst. Wurde ein Paar mehrmals entschieden, gilt die letzte Entscheidung.",
            "Newest first. Where a pair was decided more than once, the latest decision counts.",
        )
    )
    plain_table(decisions_table(made), "tabelle-entscheidungen")
