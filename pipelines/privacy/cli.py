"""``python -m pipelines.privacy``: key rotation and deletion, for the city's data engineers.

    python -m pipelines.privacy new-key /secure/keys/pseudonymisation-2027.key
    python -m pipelines.privacy rotate-key --new-key-file /secure/keys/pseudonymisation-2027.key
    python -m pipelines.privacy delete-expired --retention-months 60 --dry-run
    python -m pipelines.privacy delete-records --agency abh --city wuppertal --record-id ABH-W-0012345 \\
        --request DSB-2026-017

Every command works on the data folder of ``$INTEGRATION_DATA_DIR`` with the key of
``$INTEGRATION_PSEUDONYM_KEY_FILE`` (or ``$INTEGRATION_PSEUDONYM_KEY``), holds the run lock, and prints
what it did (counts, never identifiers). Exit status 0: done; 1: refused or failed, nothing half done;
75: another run holds the data folder, try again later.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from pipelines.ingest.keys import KeyMismatchError, MissingKeyError, create_key_file, load_key, load_new_key
from pipelines.privacy.deletion import delete_expired, delete_records
from pipelines.privacy.rekey import RotationError, rotate_key
from pipelines.runlock import RunLockedError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.privacy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    new_key = commands.add_parser("new-key", help="write a new random key to a new file (mode 0600)")
    new_key.add_argument("path", type=Path)

    rotate = commands.add_parser("rotate-key", help="re-key every stored pseudonym; person keys stay")
    rotate.add_argument("--new-key-file", type=Path,
                        help="the new key (default: $INTEGRATION_PSEUDONYM_NEW_KEY_FILE or _NEW_KEY)")
    rotate.add_argument("--no-republish", action="store_true",
                        help="do not rebuild the models and publish a release afterwards")

    expired = commands.add_parser("delete-expired", help="delete deliveries older than the retention period")
    expired.add_argument("--retention-months", type=int, required=True,
                         help="keep this many delivery months, counting back from --as-of")
    expired.add_argument("--as-of", help="YYYY-MM (default: the current month)")
    _common(expired)

    records = commands.add_parser("delete-records", help="delete everything derived from given source records")
    records.add_argument("--agency", required=True, help="abh, jobcenter, jugendamt, ...")
    records.add_argument("--city", required=True, help="wuppertal, solingen, muelheim, ...")
    records.add_argument("--record-id", action="append", default=[],
                         help="the agency's id of the record (Aktenzeichen, Kundennummer, Fall-Nr.); repeatable")
    records.add_argument("--from-file", type=Path,
                         help="a CSV with a column record_id (one request, several records)")
    records.add_argument("--request", required=True,
                         help="the reference of the deletion request (kept in meta.deletions; not a person's id)")
    _common(records)
    return parser


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    command.add_argument("--no-rebuild", action="store_true",
                         help="do not relink, rebuild and publish afterwards (the next build does it)")


def _record_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.record_id)
    if args.from_file:
        with args.from_file.open(encoding="utf-8-sig", newline="") as handle:
            ids += [row["record_id"] for row in csv.DictReader(handle) if row.get("record_id")]
    return ids


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "new-key":
            create_key_file(args.path)
            print(f"Wrote a new key to {args.path} (mode 0600). Keep it outside the repository and the warehouse.")
            return
        if args.command == "rotate-key":
            report = rotate_key(load_key(), load_new_key(args.new_key_file), republish=not args.no_republish)
            lines = [*report.lines(),
                     "Now configure the new key for every run (INTEGRATION_PSEUDONYM_KEY_FILE) and destroy the "
                     "old key once no backup made before this rotation is kept: with it, the pseudonyms in such "
                     "a backup could still be recomputed."]
            failed = report.release_run_success is False
        elif args.command == "delete-expired":
            report = delete_expired(args.retention_months, args.as_of, dry_run=args.dry_run,
                                    rebuild=not args.no_rebuild)
            lines, failed = report.lines(), report.build_success is False
        else:
            report = delete_records(args.agency, args.city, _record_ids(args), load_key(), args.request,
                                    dry_run=args.dry_run, rebuild=not args.no_rebuild)
            lines, failed = report.lines(), report.build_success is False
    except RunLockedError as refused:
        print(refused, file=sys.stderr)
        sys.exit(75)
    except (MissingKeyError, KeyMismatchError, RotationError, ValueError, FileExistsError) as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        sys.exit(1)
    print("\n".join(lines))
    sys.exit(1 if failed else 0)
