"""GX suites validate row by row only the rows not found valid before, and still reach the verdict a
validation of every row reaches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.quality import checks
from pipelines.quality.checks import (
    SuiteTarget,
    read_relation,
    readable_columns,
    suite_check_result,
    suite_targets,
    validate_target,
)
from pipelines.quality.gx_suites import load_suite_file, run_suite
from pipelines.quality.validated import PRUNE_FACTOR, STATE_TABLE, plan_suite
from pipelines.resources import WarehouseResource
from pipelines.warehouse import table_exists

RAW_ABH = next(t for t in suite_targets() if t.suite == "raw__abh__residence_status")
STG_ABH = next(t for t in suite_targets() if t.suite == "staging__stg_abh__residence_status")


@pytest.fixture
def warehouse(pipeline_city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WarehouseResource:
    """A copy of the pipeline city's warehouse (its name kept: the staging views name their catalog), whose
    small tables are validated as large ones are."""
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(checks, "MIN_INCREMENTAL_ROWS", 0)
    copy = tmp_path / "warehouse" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(pipeline_city.warehouse, copy)
    return WarehouseResource(path=str(copy))


def _validate(warehouse: WarehouseResource, target: SuiteTarget, revalidate_all: bool = False):
    validation, deliveries = validate_target(warehouse, target, run_id=None, revalidate_all=revalidate_all)
    return validation, suite_check_result(validation.result, validation.rows, deliveries, target.agency, validation)


def _verdict(validation) -> tuple:
    result = validation.result
    return (result.success, sorted(result.failed_blocking), sorted(result.failed_warning), result.failing_rows)


def _full_verdict(warehouse: WarehouseResource, target: SuiteTarget) -> tuple:
    """The verdict of the whole suite on every row, as the checks gave it before ``validated.py``."""
    with warehouse.connect(read_only=True) as con:
        result = run_suite(target.suite, read_relation(con, target.relation))
    return (result.success, sorted(result.failed_blocking), sorted(result.failed_warning), result.failing_rows)


def _recorded(warehouse: WarehouseResource, suite: str) -> int:
    with warehouse.connect(read_only=True) as con:
        return con.execute(f"select count(*) from {STATE_TABLE} where suite = ?", [suite]).fetchone()[0]


def _distinct_rows(warehouse: WarehouseResource, relation: str) -> int:
    with warehouse.connect(read_only=True) as con:
        columns = ", ".join(readable_columns(con, relation))
        return con.execute(f"select count(*) from (select distinct {columns} from {relation})").fetchone()[0]


def _deliveries(warehouse: WarehouseResource, relation: str) -> list[str]:
    with warehouse.connect(read_only=True) as con:
        return [r[0] for r in con.execute(f"select distinct delivery_id from {relation} order by 1").fetchall()]


def test_row_level_expectations_are_told_apart_from_those_about_the_whole_table():
    plan = plan_suite(load_suite_file("staging__stg_abh__residence_status")["expectations"])
    whole = {e["type"] for e in plan.whole_table}
    assert whole == {"expect_table_row_count_to_be_between", "expect_column_values_to_be_unique"}
    assert "event_ref" in plan.whole_table_columns
    assert {e["type"] for e in plan.row_level} >= {"expect_column_values_to_match_regex",
                                                    "expect_column_pair_values_a_to_be_greater_than_b"}
    raw = plan_suite(load_suite_file("raw__abh__residence_status")["expectations"])
    mostly = [e for e in raw.whole_table if e["kwargs"].get("mostly")]
    assert [e["kwargs"]["column"] for e in mostly] == ["azr_hash"], "a share is judged over the whole column"
    assert not raw.table_shape
    journey = plan_suite(load_suite_file("marts__person_journey")["expectations"])
    assert [e["type"] for e in journey.table_shape] == ["expect_table_columns_to_match_set"]
    assert journey.incremental and journey.table_shape[0] not in journey.whole_table


MILESTONES = next(t for t in suite_targets() if t.suite == "marts__person_milestones")
JOURNEY = next(t for t in suite_targets() if t.suite == "marts__person_journey")


@pytest.mark.parametrize("target", [RAW_ABH, STG_ABH, MILESTONES, JOURNEY], ids=lambda t: t.table)
def test_a_second_validation_reads_no_row_twice_and_gives_the_same_verdict(warehouse, target):
    first, _ = _validate(warehouse, target)
    assert first.recorded and first.rows_validated == first.rows
    assert _recorded(warehouse, target.suite) == _distinct_rows(warehouse, target.relation) > 0, \
        "every valid row is recorded, once per distinct content"
    second, check = _validate(warehouse, target)
    assert second.rows_validated == 0 and second.rows == first.rows > 0
    assert check.metadata["rows"].value == first.rows and check.metadata["rows_validated"].value == 0
    assert f"row by row: 0 of {first.rows} rows" in check.description
    everything, _ = _validate(warehouse, target, revalidate_all=True)
    assert everything.rows_validated == first.rows
    assert _verdict(everything) == _verdict(second) == _full_verdict(warehouse, target)


def test_rows_changed_in_place_are_validated_again_and_failing_rows_are_not_recorded(warehouse):
    _validate(warehouse, RAW_ABH)
    old, other = _deliveries(warehouse, RAW_ABH.relation)[:2]
    with warehouse.connect() as con:
        planted = len(con.execute("update raw.abh__residence_status set status_code = 'ZZPLANTED' "
                                  "where delivery_id = ? and source_row <= 4 returning 1", [old]).fetchall())
        # a new delivery: a clean copy of another delivery's rows under a new id
        added = len(con.execute("insert into raw.abh__residence_status select * replace ('abh-new-delivery' as "
                                "delivery_id) from raw.abh__residence_status where delivery_id = ? returning 1",
                                [other]).fetchall())
    assert planted > 0 and added > 0

    validation, check = _validate(warehouse, RAW_ABH)
    assert not check.passed
    assert validation.result.failed_blocking == [f"expect_column_values_to_be_in_set(status_code) ({planted} rows)"]
    assert validation.rows_validated == planted + added
    assert {e["delivery_id"] for e in validation.result.examples} == {old}
    with warehouse.connect(read_only=True) as con:
        file_name = con.execute("select file_name from meta.deliveries where delivery_id = ?", [old]).fetchone()[0]
    assert file_name in check.metadata["deliveries"].value

    again, _ = _validate(warehouse, RAW_ABH)
    assert again.rows_validated == planted, "the failing rows, and only they, are validated and reported again"
    assert _verdict(again) == _verdict(validation) == _full_verdict(warehouse, RAW_ABH)


def test_a_new_row_repeating_a_recorded_rows_key_fails_the_uniqueness_of_the_whole_table(warehouse):
    _validate(warehouse, RAW_ABH)
    with warehouse.connect() as con:  # the same (delivery_id, event_ref) again, in a row of new content
        con.execute("insert into raw.abh__residence_status select * replace (source_row + 100000 as source_row) "
                    "from raw.abh__residence_status order by delivery_id, source_row limit 1")
    validation, check = _validate(warehouse, RAW_ABH)
    assert not check.passed and validation.rows_validated == 1
    assert any(f.startswith("expect_compound_columns_to_be_unique(delivery_id, event_ref)")
               for f in validation.result.failed_blocking)
    assert _verdict(validation) == _full_verdict(warehouse, RAW_ABH)


def test_uniqueness_and_null_shares_are_judged_on_hashes_first_and_a_collision_leaves_it_to_the_values(
        warehouse, monkeypatch: pytest.MonkeyPatch):
    raw = plan_suite(load_suite_file("raw__abh__residence_status")["expectations"])
    assert raw.hashed_columns == ("delivery_id", "event_ref", "azr_hash"), "keys compared, a share of nulls"
    parts = []

    def counting(suite, frame, *args, **kwargs):
        if kwargs.get("part") == "whole_table":
            parts.append(frame["event_ref"].dtype.kind)
        return run_suite(suite, frame, *args, **kwargs)

    monkeypatch.setattr(checks, "run_suite", counting)
    _validate(warehouse, STG_ABH)
    parts.clear()
    validation, check = _validate(warehouse, STG_ABH)
    assert check.passed and parts == ["u"], "unique hashes settle it: one run, on integers"
    # every hash one of two values: the hashes collide, the values do not
    monkeypatch.setattr(checks, "hashed_column_sql",
                        lambda column: f"case when {column} is not null then hash({column}) % 2 end as {column}")
    parts.clear()
    validation, check = _validate(warehouse, STG_ABH)
    assert check.passed and len(parts) == 2 and parts[1] != "u", "the values decided, and found no duplicate"
    assert _verdict(validation) == _full_verdict(warehouse, STG_ABH)


def test_only_text_columns_read_for_equality_or_nulls_reach_the_suite_as_hashes(
        warehouse, monkeypatch: pytest.MonkeyPatch):
    suite = load_suite_file(STG_ABH.suite)
    # a share of codes in a set, judged over the whole table: it needs the values
    extra = {"type": "expect_column_values_to_be_in_set",
             "kwargs": {"column": "status_code", "value_set": ["ZZ"], "mostly": 0.5}, "meta": {"severity": "warning"}}
    extended = {**suite, "expectations": [*suite["expectations"], extra]}
    monkeypatch.setattr(checks, "load_suite_file", lambda name: extended)
    frames = []

    def recording(name, frame, *args, **kwargs):
        if kwargs.get("part") == "whole_table":
            frames.append({column: frame[column].dtype.kind for column in frame.columns})
        return run_suite(name, frame, *args, **kwargs)

    monkeypatch.setattr(checks, "run_suite", recording)
    _validate(warehouse, STG_ABH)
    frames.clear()
    validation, check = _validate(warehouse, STG_ABH)
    assert frames[0]["event_ref"] == "u" and frames[0]["status_code"] != "u"
    assert any(f.startswith("expect_column_values_to_be_in_set(status_code)") for f in validation.result.failed_warning)


def test_a_changed_row_is_added_to_the_record_until_stale_hashes_are_many(warehouse):
    _validate(warehouse, RAW_ABH)
    rows = _distinct_rows(warehouse, RAW_ABH.relation)
    with warehouse.connect() as con:
        con.execute("update raw.abh__residence_status set source_row = source_row + 100000 where rowid = 0")
    validation, _ = _validate(warehouse, RAW_ABH)
    assert validation.rows_validated == 1
    assert _recorded(warehouse, RAW_ABH.suite) == rows + 1, "appended: the changed row's old hash stays for now"


def test_a_column_whose_type_changes_has_every_row_validated_again(warehouse):
    first, _ = _validate(warehouse, RAW_ABH)
    with warehouse.connect() as con:  # DuckDB hashes 5::INTEGER and 5::BIGINT alike: the digest holds the types
        con.execute("alter table raw.abh__residence_status alter birth_year type bigint")
    assert _validate(warehouse, RAW_ABH)[0].rows_validated == first.rows


def test_a_share_allowed_to_be_missing_is_judged_over_the_whole_table_not_the_new_rows(warehouse):
    _validate(warehouse, RAW_ABH)
    other = _deliveries(warehouse, RAW_ABH.relation)[0]
    with warehouse.connect() as con:  # a small new delivery without any AZR number: 100 % missing in it
        con.execute("insert into raw.abh__residence_status select * replace ('abh-no-azr' as delivery_id, "
                    "null as azr_hash) from raw.abh__residence_status where delivery_id = ? limit 5", [other])
    validation, check = _validate(warehouse, RAW_ABH)
    assert check.passed, check.description  # azr_hash may be missing on up to 5 % of all rows
    assert validation.rows_validated == 5
    assert _verdict(validation) == _full_verdict(warehouse, RAW_ABH)
    with warehouse.connect() as con:  # now one in ten rows: the share, read as hashes, is the same and fails
        con.execute("update raw.abh__residence_status set azr_hash = null where source_row % 10 = 0")
    validation, check = _validate(warehouse, RAW_ABH)
    assert not check.passed  # a warning
    assert any(f.startswith("expect_column_values_to_not_be_null(azr_hash)") for f in validation.result.failed_warning)
    assert _verdict(validation) == _full_verdict(warehouse, RAW_ABH)


def test_a_staging_row_changed_by_a_rebuild_is_validated_again(warehouse):
    _validate(warehouse, STG_ABH)
    assert _validate(warehouse, STG_ABH)[0].rows_validated == 0
    with warehouse.connect() as con:  # the staging table as rebuilt after a seed edit that leaves a status
        con.execute("update staging.stg_abh__residence_status set legal_circle = null "  # code without circle
                    "where status_code = 'DULD'")
        changed = con.execute("select count(*) from staging.stg_abh__residence_status "
                              "where status_code = 'DULD'").fetchone()[0]
    assert changed > 0
    validation, check = _validate(warehouse, STG_ABH)
    assert not check.passed and validation.rows_validated == changed
    assert f"expect_column_values_to_not_be_null(legal_circle) ({changed} rows)" in validation.result.failed_blocking


def test_an_edited_suite_validates_every_row_again(warehouse, monkeypatch: pytest.MonkeyPatch):
    first, _ = _validate(warehouse, RAW_ABH)
    suite = load_suite_file(RAW_ABH.suite)
    for expectation in suite["expectations"]:
        if expectation["type"] == "expect_column_values_to_be_in_set" and expectation["kwargs"]["column"] == "sex":
            expectation["kwargs"]["value_set"] = ["m", "f"]  # stricter: "x" no longer allowed
    monkeypatch.setattr(checks, "load_suite_file", lambda name: suite)
    edited, _ = _validate(warehouse, RAW_ABH)
    assert edited.rows_validated == first.rows
    with warehouse.connect(read_only=True) as con:
        full = run_suite(RAW_ABH.suite, read_relation(con, RAW_ABH.relation), expectations=suite["expectations"])
    assert _verdict(edited)[:3] == (full.success, sorted(full.failed_blocking), sorted(full.failed_warning))


def test_a_small_table_is_validated_whole_without_a_record(warehouse, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(checks, "MIN_INCREMENTAL_ROWS", 10**9)
    for _ in range(2):
        validation, check = _validate(warehouse, RAW_ABH)
        assert check.passed and not validation.recorded and validation.rows_validated == validation.rows > 0
        assert "row by row" not in check.description
    with warehouse.connect(read_only=True) as con:
        assert not table_exists(con, "meta", "validated_rows") or _recorded(warehouse, RAW_ABH.suite) == 0


def test_the_record_is_rewritten_once_it_holds_many_rows_that_have_since_changed(warehouse):
    _validate(warehouse, RAW_ABH)
    rows = _distinct_rows(warehouse, RAW_ABH.relation)
    for round_ in range(3):  # every round changes every row: the old hashes go stale
        with warehouse.connect() as con:
            con.execute("update raw.abh__residence_status set source_row = source_row + 100000")
        validation, _ = _validate(warehouse, RAW_ABH)
        assert validation.rows_validated == validation.rows
        assert _recorded(warehouse, RAW_ABH.suite) <= PRUNE_FACTOR * rows, f"round {round_}: pruned"
    assert _validate(warehouse, RAW_ABH)[0].rows_validated == 0


def test_a_column_added_to_the_journey_fails_its_column_set_expectation(warehouse):
    first, _ = _validate(warehouse, JOURNEY)
    with warehouse.connect() as con:
        con.execute("alter table marts.person_journey add column unexpected_column integer")
    validation, check = _validate(warehouse, JOURNEY)
    assert not check.passed and validation.rows_validated == first.rows, "a new column changes every row"
    assert any(f.startswith("expect_table_columns_to_match_set")
               for f in validation.result.failed_blocking + validation.result.failed_warning)
