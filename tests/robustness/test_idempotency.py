"""Idempotency at the warehouse's door: the same delivery twice changes nothing; a correction replaces its month.

The whole-pipeline statement (the same deliveries run again give the same release aggregates) is
tested in test_faults.py, where the deliveries are run again after three crashed runs and the
release is compared with the first, undisturbed run's.
"""

from __future__ import annotations

from robustness.support import CORPUS, MONTH, ingest, landing_copy


def test_ingesting_the_same_delivery_again_leaves_the_same_rows(tmp_path, con, encoder):
    path = landing_copy(CORPUS / "redelivery" / "first.csv", tmp_path, "ABH_Wuppertal_201603.csv", MONTH)
    ingest(path, "abh", con, encoder)
    raw = con.execute("select * from raw.abh__residence_status order by source_row").fetchall()
    quarantine = con.execute("select * from meta.quarantine order by source_row").fetchall()

    again = ingest(path, "abh", con, encoder)

    assert again.status == "loaded"
    assert con.execute("select * from raw.abh__residence_status order by source_row").fetchall() == raw
    assert con.execute("select * from meta.quarantine order by source_row").fetchall() == quarantine
    assert con.execute("select count(*), count(*) filter (where not superseded) from meta.deliveries"
                       ).fetchone() == (2, 1), "the register shows both attempts, one of them current"


def test_a_corrected_redelivery_replaces_the_month_and_the_register_shows_both(tmp_path, con, encoder):
    name = "ABH_Wuppertal_201603.csv"
    first = ingest(landing_copy(CORPUS / "redelivery" / "first.csv", tmp_path, name, MONTH), "abh", con, encoder)
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (3, 2, 1)
    corrected = ingest(landing_copy(CORPUS / "redelivery" / "corrected.csv", tmp_path, name, MONTH), "abh", con,
                       encoder)

    assert (corrected.rows_read, corrected.rows_loaded, corrected.rows_quarantined) == (4, 4, 0)
    assert con.execute("select count(*), count(distinct event_ref) from raw.abh__residence_status "
                       "where delivery_month = ?", [MONTH]).fetchone() == (4, 4)
    assert con.execute("select distinct delivery_id from raw.abh__residence_status").fetchall() == [
        (corrected.delivery.delivery_id,)]
    assert con.execute("select count(*) from meta.quarantine where delivery_month = ? and delivery_id <> ?",
                       [MONTH, corrected.delivery.delivery_id]).fetchone()[0] == 0
    register = con.execute("select sha256, rows_read, rows_loaded, rows_quarantined, superseded "
                           "from meta.deliveries order by ingested_at").fetchall()
    assert register == [(first.delivery.sha256, 3, 2, 1, True), (corrected.delivery.sha256, 4, 4, 0, False)]
