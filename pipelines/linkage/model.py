"""The probabilistic linkage model (Splink) over pseudonymised identity encodings.

Every comparison works on what ingestion stored: keyed hashes (exact agreement),
keyed phonetic codes, and keyed Bloom filters of name bigrams compared by Dice
similarity. No clear text is ever available here. Placeholder birth dates carry no
day, so two placeholder dates agree on the year only, never on the full date.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

MODEL_NAME = "identity-v1"
MATCH_THRESHOLD = 0.95  # posterior probability from which a pair is linked


def dice(column: str) -> str:
    """Dice similarity of two Bloom filters, in DuckDB SQL."""
    left, right = f"{column}_l", f"{column}_r"
    return (f"(2.0 * bit_count({left} & {right}) / "
            f"nullif(bit_count({left}) + bit_count({right}), 0))")


def _name_comparison() -> cl.CustomComparison:
    fam_l, fam_r, giv_l, giv_r = ("family_name_hash_l", "family_name_hash_r", "given_name_hash_l",
                                  "given_name_hash_r")
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="Family and given name: exact, swapped, phonetic, Bloom-filter similarity",
        comparison_levels=[
            cll.CustomLevel(f"{fam_l} is null or {fam_r} is null", "null").configure(is_null_level=True),
            cll.CustomLevel(f"{fam_l} = {fam_r} and {giv_l} = {giv_r}", "both names exact"),
            cll.CustomLevel(f"{fam_l} = {giv_r} and {giv_l} = {fam_r}", "names swapped, exact"),
            cll.CustomLevel("family_name_phonetic_l = family_name_phonetic_r and "
                            "given_name_phonetic_l = given_name_phonetic_r", "both names phonetic"),
            cll.CustomLevel("family_name_phonetic_l = given_name_phonetic_r and "
                            "given_name_phonetic_l = family_name_phonetic_r", "names swapped, phonetic"),
            cll.CustomLevel(f"{dice('family_name_bloom')} >= 0.75 and {dice('given_name_bloom')} >= 0.75",
                            "both names similar (Dice >= 0.75)"),
            cll.CustomLevel(f"{fam_l} = {fam_r} or family_name_phonetic_l = family_name_phonetic_r",
                            "family name agrees, given name differs"),
            cll.CustomLevel(f"{dice('family_name_bloom')} >= 0.6 or "
                            "(family_name_bloom_l is not null and given_name_bloom_r is not null and "
                            "2.0 * bit_count(family_name_bloom_l & given_name_bloom_r) / "
                            "nullif(bit_count(family_name_bloom_l) + bit_count(given_name_bloom_r), 0) >= 0.75)",
                            "family name somewhat similar"),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="Birth date; a placeholder date (day unknown) agrees on the year only",
        comparison_levels=[
            cll.CustomLevel("birth_year_l is null or birth_year_r is null", "null").configure(is_null_level=True),
            cll.CustomLevel("birth_date_hash_l = birth_date_hash_r", "full date exact"),
            cll.CustomLevel("birth_year_l = birth_year_r and (birth_date_hash_l is null or birth_date_hash_r is null)",
                            "same year, day unknown on one side"),
            cll.CustomLevel("birth_year_l = birth_year_r", "same year, different day"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "year differs by one"),
            cll.ElseLevel(),
        ],
    )


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="identity_id",
        probability_two_random_records_match=1e-4,
        comparisons=[
            _name_comparison(),
            _birth_date_comparison(),
            cl.ExactMatch("azr_hash"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("family_name_phonetic", "birth_year"),
            block_on("given_name_phonetic", "birth_year"),
            "l.family_name_phonetic = r.given_name_phonetic and l.given_name_phonetic = r.family_name_phonetic",
            block_on("azr_hash"),
            block_on("birth_date_hash", "sex"),
            block_on("family_name_hash", "given_name_hash"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["agency", "record_ref"],
    )


TRAINING_BLOCKS = [block_on("azr_hash"), block_on("family_name_phonetic", "given_name_phonetic")]
DETERMINISTIC_RULES = [
    block_on("azr_hash"),
    block_on("family_name_hash", "given_name_hash", "birth_date_hash"),
]
