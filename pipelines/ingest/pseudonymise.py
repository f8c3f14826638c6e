"""Build the raw-layer rows of a delivery: identifiers replaced by keyed encodings.

The frame returned here is all that reaches the warehouse. Identifier columns of the
contract (``role``) are turned into the columns of the raw contract (see
docs/data-contracts.md, section 2) and dropped; the other columns are typed and
renamed to their ``target``.
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.contract import Contract
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.validate import Checked

IDENTITY_COLUMNS = [
    "record_ref", "event_ref", "household_ref", "azr_hash",
    "family_name_hash", "family_name_phonetic", "family_name_bloom",
    "given_name_hash", "given_name_phonetic", "given_name_bloom", "azr_bloom",
    "birth_year", "birth_date_hash", "birth_date_precision", "sex", "postcode", "district",
]


def _column_or_empty(checked: Checked, contract: Contract, role: str) -> pd.Series:
    column = contract.by_role(role)
    if column is None:
        return pd.Series("", index=checked.good.index, dtype="object")
    return checked.good[column.name]


def raw_rows(checked: Checked, contract: Contract, encoder: Encoder, city: str) -> pd.DataFrame:
    good = checked.good
    agency = contract.agency
    out = pd.DataFrame(index=good.index)
    out["source_row"] = good["source_row"].astype("int64")

    record_id = _column_or_empty(checked, contract, "record_id")
    event_id = _column_or_empty(checked, contract, "event_id")
    if contract.event_id_within_record:
        event_id = record_id + "|" + event_id
    # Agency ids are only unique within one office's software: the namespace says whose they are.
    out["record_ref"] = encoder.pseudonym(record_id, f"record|{agency}|{city}", remember=True)
    out["event_ref"] = encoder.pseudonym(event_id, f"event|{agency}|{city}")
    out["household_ref"] = encoder.pseudonym(_column_or_empty(checked, contract, "household_id"),
                                             f"household|{agency}|{city}", remember=True)
    # AZR numbers are national: one namespace for all agencies so that equal numbers link.
    azr_digits = _column_or_empty(checked, contract, "azr").str.replace(r"\D", "", regex=True)
    out["azr_hash"] = encoder.pseudonym(azr_digits, "azr", remember=True)
    out["azr_bloom"] = encoder.digits_bloom(azr_digits)

    out = out.join(encoder.name_encodings(_column_or_empty(checked, contract, "family_name"), "family_name",
                                          first_token_only=False))
    out = out.join(encoder.name_encodings(_column_or_empty(checked, contract, "given_name"), "given_name",
                                          first_token_only=True))

    birth = contract.by_role("birth_date")
    if birth is not None:
        dates = checked.parsed_dates[birth.name]
        out["birth_year"] = checked.parsed_dates[birth.name + "__year"].astype("Int64")
        iso = dates.dt.strftime("%Y-%m-%d").where(dates.notna(), "")
        out["birth_date_hash"] = encoder.pseudonym(iso, "birth_date", remember=True)
        out["birth_date_precision"] = checked.birth_precision
    else:
        out["birth_year"] = pd.array([None] * len(good), dtype="Int64")
        out["birth_date_hash"] = None
        out["birth_date_precision"] = "unknown"

    sex = contract.by_role("sex")
    out["sex"] = good[sex.name].map(sex.codes).astype("object") if sex is not None and sex.codes else None
    postcode = _column_or_empty(checked, contract, "postcode")
    out["postcode"] = postcode.where(postcode.str.fullmatch(r"\d{5}"), None)
    district = _column_or_empty(checked, contract, "district")
    out["district"] = district.where(district != "", None)

    for column in contract.columns:
        if column.target is None:
            continue
        values = good[column.name]
        if column.type == "date":
            out[column.target] = checked.parsed_dates[column.name].dt.date
        elif column.type == "boolean":
            out[column.target] = values.map(column.codes).astype("boolean")
        elif column.codes is not None:
            out[column.target] = values.map(column.codes).where(values != "", None)
        else:
            out[column.target] = values.where(values != "", None)
    return out.reset_index(drop=True)
