"""Recompute a ballot draw (SPEC §13) from its audit record, with nothing of Office Booker's code.

    python tools/replay_ballot.py record.json        # a record of GET /api/audit, or its `after`
    curl … /api/audit?office=alpha | python tools/replay_ballot.py -   # every ballot_drawn in a page

For each draw it prints the recomputed order and outcome and whether they equal the recorded ones;
exit status 0 when every draw replays exactly, 1 otherwise. The algorithm is docs/ballot.md's:

1. order the requests by `office_days` ascending, ties by SHA-256("<seed>:<request id>") in hex,
   ascending;
2. in that order, a request wins when it is `eligible`, a place is left (`places` > 0) and, if it
   asks for `parking`, a car space is left (`parking_places` > 0); a win takes one place (and one
   car space when it asked for parking); every other request is `waitlisted`, in that order.
"""
from __future__ import annotations

import hashlib
import json
import sys


def replay(record: dict) -> tuple[list[str], dict[str, str]]:
    """The draw order and outcome that `record` (a ballot_drawn audit record's `after`) implies."""
    seed = record["seed"]
    requests = record["requests"]
    order = sorted(requests, key=lambda rid: (requests[rid]["office_days"],
                                              hashlib.sha256(f"{seed}:{rid}".encode()).hexdigest()))
    places, parking = record["places"], record["parking_places"]
    outcome = {}
    for rid in order:
        wants_parking = requests[rid]["parking"]
        if requests[rid]["eligible"] and places > 0 and (not wants_parking or parking > 0):
            places -= 1
            parking -= 1 if wants_parking else 0
            outcome[rid] = "won"
        else:
            outcome[rid] = "waitlisted"
    return order, outcome


def draws(document) -> list[dict]:
    """The draws in a JSON document: one record's `after`, one audit record, or a page of them."""
    if isinstance(document, dict) and "records" in document:
        return [r["after"] for r in document["records"] if r.get("action") == "ballot_drawn"]
    if isinstance(document, list):
        return [r.get("after", r) for r in document if r.get("action", "ballot_drawn") == "ballot_drawn"]
    return [document.get("after", document) if document.get("action", "ballot_drawn") == "ballot_drawn" else {}]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    text = sys.stdin.read() if argv[1] == "-" else open(argv[1], encoding="utf-8").read()
    ok = True
    for record in draws(json.loads(text)):
        if not record:
            continue
        order, outcome = replay(record)
        same = order == record["order"] and outcome == record["outcome"]
        ok &= same
        won = [rid for rid in order if outcome[rid] == "won"]
        print(f"{record['office']} {record['date']} seed {record['seed']}: {len(order)} requests, "
              f"{len(won)} won: {'replays exactly' if same else 'DIFFERS from the record'}")
        print("  order:", " ".join(order))
        print("  won:  ", " ".join(won) or "-")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
