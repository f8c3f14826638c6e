"""The agencies' file layouts (docs/data-contracts.md section 1): one writer per agency.

Everything an agency's files look like lives here: file names, column names, id
formats, code lists, date formats, encodings. The writers receive agency-neutral
records and versions from ``records.py`` and only format them.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.xml.constants import ARC_CORE as _CORE_PROPERTIES
from openpyxl.xml.functions import tostring

from pipelines.config import CITIES

from . import dates, origins
from .dates import NEVER, DateFormatter
from .geography import CITY_NAMES
from .population import Population
from .records import AgencyRecords

ABH_COLUMNS = (
    "Vorgangsnr", "AZR-Nr", "Aktenzeichen", "Familienname", "Vornamen", "Geburtsdatum", "Geschlecht",
    "Staatsangehoerigkeit", "Strasse", "PLZ", "Ort", "Einreisedatum", "Aufenthaltsstatus", "Gueltig_ab",
    "Wohnsitzauflage",
)
JOBCENTER_COLUMNS = (
    "ereignis_id", "kundennummer", "bg_nummer", "nachname", "vorname", "geburtsdatum", "geschlecht",
    "staatsangehoerigkeit", "azr_nummer", "plz", "wohnort", "ereignis", "ereignis_datum", "profillage",
    "sprachniveau", "asylblg_ende", "abgangsgrund",
)
JUGENDAMT_COLUMNS = (
    "Fall-Nr", "Lfd-Nr", "Name", "Vorname", "Geb.-Datum", "Geschl.", "Staatsang.", "AZR", "Stadtteil",
    "Hilfeart", "Beginn", "Ende", "umF", "Anschluss",
)
JUGENDAMT_SHEET = "Faelle"

CITY_LETTER = np.array(["W", "S", "M"], dtype=object)  # in CITIES order
JOBCENTER_PREFIX = np.array(["962", "963", "964"], dtype=object)  # office number in customer ids
ABH_ZERO_PLACEHOLDER_SHARE = np.array([0.7, 0.3, 0.5])
"""Share of unknown birth dates the office writes as 00.00.yyyy rather than 01.01.yyyy, per city."""
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class WrittenFiles:
    paths: list[Path]
    rows: int


def city_file_name(city: str) -> str:
    """``Muelheim`` for ``muelheim``: the city as it appears in capitalised file names."""
    return city.capitalize()


def abh_file(city: str, month: str) -> str:
    return f"ABH_{city_file_name(city)}_{month.replace('-', '')}.csv"


def jobcenter_file(city: str, month: str) -> str:
    return f"jc_ereignisse_{city}_{month}.csv"


def jugendamt_file(city: str, month: str) -> str:
    return f"JA_Faelle_{city_file_name(city)}_{month[:4]}_{month[5:]}.xlsx"


def padded(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded numbers as text (``np.char.zfill`` fails on an empty array, hence the guard)."""
    numbers = np.asarray(numbers)
    if not len(numbers):
        return np.empty(0, dtype=object)
    return np.char.zfill(numbers.astype(str), width).astype(object)


def record_ids(bundle: AgencyRecords) -> np.ndarray:
    """The person-level id of each record as the agency writes it (Aktenzeichen, kundennummer, Fall-Nr)."""
    city = bundle.records["city"].to_numpy()
    number = bundle.records["record_no"].to_numpy()
    if bundle.agency == "abh":
        return "ABH-" + CITY_LETTER[city] + "-" + padded(number, 7)
    if bundle.agency == "jobcenter":
        return JOBCENTER_PREFIX[city] + "D" + padded(number, 6)
    if bundle.agency == "jugendamt":
        return "JA-" + CITY_LETTER[city] + "-" + padded(number, 6)
    raise KeyError(f"no id format for agency {bundle.agency!r}")


class _View:
    """Column access for every delivered version: row values, record values, person values."""

    def __init__(self, bundle: AgencyRecords, pop: Population) -> None:
        versions = bundle.versions
        self.row = versions["row"].to_numpy()
        self.month = versions["month"].to_numpy()
        self.corrected = versions["corrected"].to_numpy()
        self.ended = versions["ended"].to_numpy()
        self.record = bundle.rows["record"].to_numpy()[self.row]
        self.person = bundle.records["person"].to_numpy()[self.record]
        self.city = bundle.records["city"].to_numpy()[self.record]
        self._rows = bundle.rows
        self._records = bundle.records
        self._pop = pop

    def row_value(self, column: str) -> np.ndarray:
        return self._rows[column].to_numpy()[self.row]

    def record_value(self, column: str) -> np.ndarray:
        return self._records[column].to_numpy()[self.record]

    def names(self) -> tuple[np.ndarray, np.ndarray]:
        """(family, given) as delivered: the corrected spelling from the correction month on."""
        fixed = self.corrected
        family = np.where(fixed, self.record_value("family_name_fixed"), self.record_value("family_name"))
        given = np.where(fixed, self.record_value("given_name_fixed"), self.record_value("given_name"))
        return family, given

    def placeholder(self) -> np.ndarray:
        return self.record_value("placeholder_dob") & ~self.corrected

    def birth(self) -> np.ndarray:
        return self._pop.persons.birth[self.person]

    def sex(self) -> np.ndarray:
        return self._pop.persons.sex[self.person]

    def origin(self) -> np.ndarray:
        return self._pop.household_value("origin")[self.person]

    def address(self, field: str) -> np.ndarray:
        """Street, postcode or district of the household in the record's city."""
        hh = self._pop.households
        household = self._pop.persons.household[self.person]
        home = hh.city[household] == self.city
        return np.where(home, getattr(hh, field)[household], getattr(hh, f"new_{field}")[household])


def _split_by_file(frame: pd.DataFrame, city: np.ndarray, month: np.ndarray, sort_key: np.ndarray,
                   months: int):
    """Yield (city, month index, slice of frame) for every city and month, empty slices included."""
    order = np.lexsort((sort_key, month, city))
    frame = frame.iloc[order].reset_index(drop=True)
    key = city[order] * months + month[order]
    for c in range(len(CITIES)):
        for m in range(months):
            lo, hi = np.searchsorted(key, [c * months + m, c * months + m + 1])
            yield c, m, frame.iloc[lo:hi]


def _target(out_dir: Path, agency: str, month: str, file_name: str) -> Path:
    folder = out_dir / "landing" / agency / month
    folder.mkdir(parents=True, exist_ok=True)
    return folder / file_name


def write_abh(bundle: AgencyRecords, pop: Population, period: dates.Period, out_dir: Path,
              fmt: DateFormatter, rng: np.random.Generator) -> WrittenFiles:
    """ABH_<City>_<YYYYMM>.csv: Windows-1252, ';', CRLF, German dates."""
    v = _View(bundle, pop)
    family, given = v.names()
    year = dates.year_of(v.birth()).astype(str).astype(object)
    zero_style = rng.random(len(bundle.records)) < ABH_ZERO_PLACEHOLDER_SHARE[bundle.records["city"].to_numpy()]
    placeholder_text = np.where(zero_style[v.record], "00.00." + year, "01.01." + year)
    status = v.row_value("status")
    frame = pd.DataFrame({
        "Vorgangsnr": "VG-" + CITY_LETTER[v.city] + "-" + padded(v.row_value("row_no"), 8),
        "AZR-Nr": v.record_value("azr"),
        "Aktenzeichen": record_ids(bundle)[v.record],
        "Familienname": family,
        "Vornamen": given,
        "Geburtsdatum": np.where(v.placeholder(), placeholder_text, fmt.german(v.birth())),
        "Geschlecht": np.array(["M", "W", "D"], dtype=object)[v.sex()],
        "Staatsangehoerigkeit": origins.origin_column("destatis")[v.origin()],
        "Strasse": v.address("street"),
        "PLZ": v.address("postcode"),
        "Ort": np.array([CITY_NAMES[c] for c in CITIES], dtype=object)[v.city],
        "Einreisedatum": fmt.german(pop.persons.arrival[v.person]),
        "Aufenthaltsstatus": status,
        "Gueltig_ab": fmt.german(v.row_value("date")),
        "Wohnsitzauflage": np.where(v.row_value("residence_obligation"), "J", "N"),
    }, columns=list(ABH_COLUMNS), dtype=object)
    paths = []
    for c, m, part in _split_by_file(frame, v.city, v.month, v.row_value("row_no"), period.months):
        month = period.labels[m]
        path = _target(out_dir, "abh", month, abh_file(CITIES[c], month))
        part.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
        paths.append(path)
    return WrittenFiles(paths, len(frame))


def _household_numbers(bundle: AgencyRecords, pop: Population) -> np.ndarray:
    """Bedarfsgemeinschaft number per row: one per household and city, in order of first entry."""
    rows = bundle.rows
    household = pop.persons.household[rows["person"].to_numpy()]
    city = rows["city"].to_numpy().astype(np.int64)
    keys, inverse = np.unique(household * 4 + city, return_inverse=True)
    first = np.full(len(keys), NEVER)
    np.minimum.at(first, inverse, rows["recorded"].to_numpy())
    key_city = keys % 4
    order = np.lexsort((keys, first, key_city))
    starts = np.r_[True, key_city[order][1:] != key_city[order][:-1]]
    number = np.empty(len(keys), dtype=np.int64)
    number[order] = np.arange(len(keys)) - np.flatnonzero(starts)[np.cumsum(starts) - 1] + 1
    return JOBCENTER_PREFIX[key_city[inverse]] + "01//" + padded(number[inverse], 7)


def write_jobcenter(bundle: AgencyRecords, pop: Population, period: dates.Period, out_dir: Path,
                    fmt: DateFormatter) -> WrittenFiles:
    """jc_ereignisse_<city>_<YYYY-MM>.csv: UTF-8, ',', LF, ISO dates."""
    v = _View(bundle, pop)
    family, given = v.names()
    year = dates.year_of(v.birth()).astype(str).astype(object)
    frame = pd.DataFrame({
        "ereignis_id": JOBCENTER_PREFIX[v.city] + "E" + padded(v.row_value("row_no"), 9),
        "kundennummer": record_ids(bundle)[v.record],
        "bg_nummer": _household_numbers(bundle, pop)[v.row],
        "nachname": family,
        "vorname": given,
        "geburtsdatum": np.where(v.placeholder(), year + "-01-01", fmt.iso(v.birth())),
        "geschlecht": np.array(["1", "2", "3"], dtype=object)[v.sex()],
        "staatsangehoerigkeit": origins.origin_column("iso3")[v.origin()],
        "azr_nummer": v.record_value("azr"),
        "plz": v.address("postcode"),
        "wohnort": np.array([CITY_NAMES[c] for c in CITIES], dtype=object)[v.city],
        "ereignis": v.row_value("event"),
        "ereignis_datum": fmt.iso(v.row_value("date")),
        "profillage": v.row_value("profile"),
        "sprachniveau": v.row_value("level"),
        "asylblg_ende": fmt.iso(v.row_value("asylblg_end")),
        "abgangsgrund": v.row_value("exit_reason"),
    }, columns=list(JOBCENTER_COLUMNS), dtype=object)
    paths = []
    for c, m, part in _split_by_file(frame, v.city, v.month, v.row_value("row_no"), period.months):
        month = period.labels[m]
        path = _target(out_dir, "jobcenter", month, jobcenter_file(CITIES[c], month))
        part.to_csv(path, sep=",", index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    return WrittenFiles(paths, len(frame))


def _episode_numbers(bundle: AgencyRecords) -> np.ndarray:
    """Lfd-Nr: 1, 2, ... per case in order of the episode's begin."""
    rows = bundle.rows
    record = rows["record"].to_numpy()
    order = np.lexsort((rows["row_no"].to_numpy(), rows["date"].to_numpy(), record))
    starts = np.r_[True, record[order][1:] != record[order][:-1]]
    number = np.empty(len(rows), dtype=np.int64)
    number[order] = np.arange(len(rows)) - np.flatnonzero(starts)[np.cumsum(starts) - 1] + 1
    return number


def _to_date(days: np.ndarray) -> np.ndarray:
    """Python dates for openpyxl (None where NEVER), built once per column."""
    valid = days < NEVER
    out = np.full(len(days), None, dtype=object)
    out[valid] = days[valid].astype("datetime64[D]").astype(dt.date)
    return out


def _save_deterministic(workbook: Workbook, path: Path, stamp: dt.datetime) -> None:
    """Save with fixed document and zip timestamps, so that a re-run gives identical bytes.

    openpyxl stamps the save time into docProps/core.xml and every zip entry; both are
    replaced here by ``stamp`` and a fixed zip time.
    """
    workbook.properties.created = stamp
    workbook.properties.creator = "Jugendamt"
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.properties.modified = stamp
    core_xml = tostring(workbook.properties.to_tree())
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            data = core_xml if info.filename == _CORE_PROPERTIES else source.read(info.filename)
            target.writestr(entry, data)


def write_jugendamt(bundle: AgencyRecords, pop: Population, period: dates.Period,
                    out_dir: Path) -> WrittenFiles:
    """JA_Faelle_<City>_<YYYY>_<MM>.xlsx, sheet Faelle: date cells, text 00.00.yyyy for unknown births."""
    v = _View(bundle, pop)
    family, given = v.names()
    year = dates.year_of(v.birth()).astype(str).astype(object)
    ended = v.ended
    frame = pd.DataFrame({
        "Fall-Nr": record_ids(bundle)[v.record],
        "Lfd-Nr": _episode_numbers(bundle)[v.row],
        "Name": family,
        "Vorname": given,
        "Geb.-Datum": np.where(v.placeholder(), "00.00." + year, _to_date(v.birth())),
        "Geschl.": np.array(["m", "w", "d"], dtype=object)[v.sex()],
        "Staatsang.": origins.origin_column("name_de")[v.origin()],
        "AZR": np.where(v.record_value("azr") == "", None, v.record_value("azr")),
        "Stadtteil": v.row_value("district"),
        "Hilfeart": v.row_value("help"),
        "Beginn": _to_date(v.row_value("date")),
        "Ende": np.where(ended, _to_date(v.row_value("end")), None),
        "umF": np.where(v.row_value("unaccompanied"), "ja", "nein"),
        "Anschluss": np.where(ended & (v.row_value("follow_up") != ""), v.row_value("follow_up"), None),
    }, columns=list(JUGENDAMT_COLUMNS))
    sort_key = v.record_value("record_no") * 100 + frame["Lfd-Nr"].to_numpy()
    date_columns = {JUGENDAMT_COLUMNS.index(c) for c in ("Geb.-Datum", "Beginn", "Ende")}
    paths = []
    for c, m, part in _split_by_file(frame, v.city, v.month, sort_key, period.months):
        month = period.labels[m]
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(JUGENDAMT_SHEET)
        sheet.append(list(JUGENDAMT_COLUMNS))
        for values in part.itertuples(index=False, name=None):  # openpyxl writes row by row
            cells = []
            for i, value in enumerate(values):
                if i in date_columns and isinstance(value, dt.date):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = "DD.MM.YYYY"
                    cells.append(cell)
                else:
                    cells.append(value.item() if isinstance(value, np.generic) else value)
            sheet.append(cells)
        # The office exports a month's file early on the first day of the next month.
        stamp = dt.datetime.combine(
            (np.datetime64(month, "M") + 1).astype("datetime64[D]").astype(dt.date), dt.time(6, 0))
        path = _target(out_dir, "jugendamt", month, jugendamt_file(CITIES[c], month))
        _save_deterministic(workbook, path, stamp)
        paths.append(path)
    return WrittenFiles(paths, len(frame))
