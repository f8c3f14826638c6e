"""Methodik: how the figures are made and what suppression means, in plain language.

For steering-group members who are not statisticians: where the data come from, how a person is
followed across agencies without names, how each page's figures are defined, why some cells show
`*`, and what the figures cannot say. Numbers that depend on the release (the suppression threshold,
the data end) are read from the chosen release, so the text always fits the figures on screen.
"""

from __future__ import annotations

import streamlit as st

from dashboards import components, filters
from dashboards.formatting import format_month_long
from dashboards.i18n import t

selection = filters.current()
threshold = selection.threshold
data_until = format_month_long(selection.release.data_until) if selection.release.data_until else "–"

components.page_intro(
    t("Methodik", "Method"),
    t(
        "Wie entstehen die Zahlen dieses Dashboards, und was bedeuten die Sternchen?",
        "How are the figures of this dashboard made, and what do the asterisks mean?",
    ),
)

st.markdown(
    t(
        f"""
### Woher die Daten kommen
Ausländerbehörde, Jobcenter und Jugendamt liefern jeden Monat einen Auszug aus ihren Fachverfahren.
Jede Zeile wird beim Einlesen geprüft; Zeilen, die dem vereinbarten Lieferformat nicht entsprechen,
werden mit Grund zurückgestellt (Quarantäne) und gehen nicht in die Zahlen ein. Die gewählte
Veröffentlichung enthält Lieferungen bis **{data_until}**.

### Wie eine Person über Behörden hinweg verfolgt wird – ohne Namen
Namen, Geburtsdaten, Adressen und Aktenzeichen werden schon beim Einlesen durch Pseudonyme ersetzt
(verschlüsselte Prüfwerte mit einem Schlüssel, der außerhalb der Datenbank liegt). Dieselbe Person
wird in den Daten verschiedener Behörden über diese Pseudonyme wiedererkannt: sicher über die
AZR-Nummer, sonst über ähnliche Schreibweisen von Namen und übereinstimmende Geburtsjahre
(statistisches Verfahren „Splink“). Keine Zahl dieses Dashboards enthält Angaben zu einzelnen
Menschen: es sind ausschließlich Summen.

### Was die Kennzahlen bedeuten
- **Bestand**: Personen mit einem laufenden Fall am letzten Tag des Monats. Wer bei mehreren Behörden
  bekannt ist, zählt in „Personen bei mindestens einer Behörde“ nur einmal.
- **Rechtskreis**: AsylbLG (Asylverfahren und Duldung), AufenthG (Aufenthaltserlaubnis), SGB II
  (Jobcenter), SGB VIII (Jugendhilfe), Arbeit oder Ausbildung.
- **Zuständigkeiten**: jede Person zählt einmal, in der Kombination der Behörden, bei denen sie am
  Monatsende einen Fall hat.
- **Übergänge**: die Reihenfolge, in der eine Person die Rechtskreise zum ersten Mal erreicht hat; die
  „Lücke“ sind die Tage zwischen dem Ende der AsylbLG-Leistung und dem Beginn des SGB II.
- **Wege in Sprache und Arbeit**: Anteil eines Jahrgangs, der einen Meilenstein nach so und so vielen
  Monaten erreicht hat (in Vierteljahren gezählt), geschätzt mit dem **Kaplan-Meier-Verfahren**.
  Menschen, die noch unterwegs sind, zählen so lange mit, wie sie beobachtet werden konnten; ein junger
  Jahrgang wird dadurch nicht schlechter dargestellt, nur weil er weniger Zeit hatte.
- **je 1.000 Einwohner**: Zahl geteilt durch die Einwohnerzahl der Stadt (kommunale Statistik), mal 1.000.
- **Personengruppe** (Nationalität, Altersgruppe, Geschlecht): die Veröffentlichung enthält für jedes
  Merkmal einzeln eine eigene, fertig gezählte Zahl (nicht kombiniert: die Felder wären meist zu klein).
  Die Wege in Sprache und Arbeit gibt es nur für alle Personen.

### Geheimhaltung: was ein `*` bedeutet
Damit niemand aus den Zahlen auf einzelne Menschen schließen kann, wird jede Zahl von 1 bis
{threshold - 1} Personen **gesperrt** und als `*` gezeigt – nie als 0. Eine 0 bedeutet „niemand“; ein
`*` bedeutet „einige wenige, zu wenige zum Veröffentlichen“. Auch ein Median über weniger als
{threshold} Personen wird gesperrt, ebenso eine Veränderung, die einen gesperrten Wert verrät.
Eine Summe, in der gesperrte Felder fehlen, steht als **„mind.“** da: die wahre Zahl ist höher. In
Diagrammen fehlen gesperrte Werte; ein Hinweis unter dem Diagramm sagt, wie viele.
So arbeitet auch die amtliche Statistik (z. B. die Statistik der Bundesagentur für Arbeit).

### Veröffentlichungen
Jede Veröffentlichung ist ein fester Datenstand, der nur erscheint, wenn alle blockierenden
Prüfungen bestanden sind; sie wird danach nie mehr verändert. Eine spätere Veröffentlichung kann
dieselben Monate anders zeigen, etwa weil eine Behörde nachgeliefert hat; mit „Vergleichen mit
Veröffentlichung“ lassen sich beide nebeneinanderstellen. Wer das Dashboard öffnet und was
heruntergeladen wird, wird protokolliert.

### Was die Zahlen nicht können
Die Zahlen zeigen, was die Behörden in ihren Verfahren erfasst haben. Wer eine Stadt verlässt, ohne
sich abzumelden, oder eine Leistung nie beantragt, fehlt. Die Zuordnung von Datensätzen zu Personen
ist statistisch und kann in seltenen Fällen zwei Menschen zusammenlegen oder einen Menschen teilen.
""",
        f"""
### Where the data come from
The immigration office, jobcenter and youth office deliver a monthly extract of their case software.
Every row is checked when read; rows that do not follow the agreed delivery format are set aside
with a reason (quarantine) and do not enter the figures. The chosen release holds deliveries up to
**{data_until}**.

### How a person is followed across agencies – without names
Names, birth dates, addresses and file numbers are replaced by pseudonyms as soon as they are read
(keyed hashes; the key is kept outside the database). The same person is recognised in the data of
different agencies through these pseudonyms: surely by the AZR number, otherwise by similar spellings
of names and matching birth years (the statistical method "Splink"). No figure on this dashboard
describes an individual: all are sums.

### What the figures mean
- **Stock**: persons with an open case on the last day of the month; a person known to several
  agencies counts once in "persons known to at least one agency".
- **Legal circle**: AsylbLG (asylum procedure, toleration), AufenthG (residence permit), SGB II
  (jobcenter), SGB VIII (youth welfare), work or training.
- **Responsibilities**: each person counts once, in the combination of agencies with an open case.
- **Transitions**: the order in which a person first reached the legal circles; the "gap" is the days
  between the end of AsylbLG benefits and the start of SGB II.
- **Paths to language and work**: the share of a cohort reaching a milestone after so many months,
  estimated with the **Kaplan-Meier method**: people still on the way count as long as they were
  observed, so a young cohort does not look worse only because it had less time.
- **per 1,000 inhabitants**: the figure divided by the city's population (municipal statistics), times 1,000.
- **Group of people** (nationality, age band, sex): the release holds a separately counted figure for
  each attribute on its own (not combined: the cells would mostly be too small). Paths to language and
  work exist for all persons only.

### Confidentiality: what `*` means
So that nobody can single out a person, every count from 1 to {threshold - 1} persons is
**suppressed** and shown as `*` – never as 0. A 0 means "nobody"; a `*` means "a few, too few to
publish". A median over fewer than {threshold} persons is suppressed too, and so is a change that would
reveal a suppressed value. A sum without suppressed cells reads **"at least"**: the true number is
higher. Charts leave suppressed values out, and a note says how many.
This is how official statistics work (e.g. the Federal Employment Agency's statistics).

### Releases
Each release is a fixed state of the data, published only when all blocking checks passed, and never
changed afterwards. A later release can show the same months differently, for instance after a late
delivery; "compare with release" puts both side by side. Who opens the dashboard and what is
downloaded is logged.

### What the figures cannot do
They show what the agencies recorded. Someone who leaves a city without deregistering, or never
claims a benefit, is missing. Linking records to persons is statistical and may, rarely, merge two
people or split one.
""",
    )
)
