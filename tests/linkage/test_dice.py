"""The model's Dice similarity over 64-bit words equals the Dice similarity of the BIT filters it replaced."""

from __future__ import annotations

import random

import duckdb

from pipelines.ingest.encodings import BLOOM_BITS
from pipelines.linkage.model import BLOOM_COLUMNS, bloom_words_sql, dice


def _filter(rng: random.Random, density: float) -> str:
    return "".join("1" if rng.random() < density else "0" for _ in range(BLOOM_BITS))


def test_dice_on_words_equals_dice_on_bit_strings_straight_and_crosswise_with_nulls_and_empty_filters() -> None:
    rng = random.Random(5)
    filters = [_filter(rng, rng.choice([0.01, 0.03, 0.1, 0.5])) for _ in range(150)]
    filters += ["0" * BLOOM_BITS, "1" * BLOOM_BITS, "1" + "0" * (BLOOM_BITS - 1), "0" * (BLOOM_BITS - 1) + "1", None]
    con = duckdb.connect()
    # The filters as the warehouse holds them: BIT.
    con.execute("create table t as select unnest(?)::bit as family_name_bloom, unnest(?)::bit as given_name_bloom",
                [filters, list(reversed(filters))])
    words = ", ".join(bloom_words_sql(c) for c in ("family_name_bloom", "given_name_bloom"))
    con.execute(f"create table w as select *, {words} from t")
    columns = [c for (c,) in con.execute("select column_name from (describe w)").fetchall()]
    sides = ", ".join(f"{side}.{c} as {c}_{side}" for side in ("l", "r") for c in columns)
    con.execute(f"create table pairs as select {sides} from w l, w r")

    def reference(a: str, b: str) -> str:  # the formula of the model before, on BIT
        a, b = f"{a}_l::bit", f"{b}_r::bit"
        return f"(2.0 * bit_count({a} & {b}) / nullif(bit_count({a}) + bit_count({b}), 0))"

    for left, right in (("family_name_bloom", None), ("given_name_bloom", None),
                        ("family_name_bloom", "given_name_bloom"), ("given_name_bloom", "family_name_bloom")):
        differing, compared, nulls = con.execute(f"""
            select count(*) filter (where {dice(left, right)} is distinct from {reference(left, right or left)}),
                   count(*), count(*) filter (where {dice(left, right)} is null)
            from pairs""").fetchone()
        assert differing == 0, (left, right)
        assert compared == len(filters) ** 2
        assert nulls >= 2 * len(filters)  # a null filter on either side, and two empty filters: no similarity
    assert "azr_bloom" in BLOOM_COLUMNS and BLOOM_BITS % 64 == 0


def test_bloom_words_are_the_filters_text_read_64_bits_at_a_time_left_to_right() -> None:
    rng = random.Random(11)
    filters = [_filter(rng, rng.choice([0.02, 0.5])) for _ in range(200)]
    filters += ["0" * BLOOM_BITS, "1" * BLOOM_BITS, "1" + "0" * (BLOOM_BITS - 1), "0" * (BLOOM_BITS - 1) + "1"]
    con = duckdb.connect()
    con.execute("create table t as select unnest(?)::bit as family_name_bloom", [filters])
    rows = con.execute(f"select family_name_bloom::varchar, {bloom_words_sql('family_name_bloom')} from t").fetchall()
    for text, *words, ones in rows:
        assert words == [int(text[64 * i:64 * (i + 1)], 2) for i in range(BLOOM_BITS // 64)]
        assert ones == text.count("1")
    assert con.execute(f"select {bloom_words_sql('family_name_bloom')} from (select null::bit as family_name_bloom)"
                       ).fetchone() == (None,) * (BLOOM_BITS // 64 + 1)
