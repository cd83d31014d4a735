"""People: the technicians' figures (done, on time, rework, satisfaction), each cell
opening the jobs behind it. Built on the repairs figures' conditions
(figures_repairs.py), so a technician's "on time" is the estate's "on time"."""

from __future__ import annotations

from sqlite_utils import Database

from .figures import Result, Row, Scope, table
from .figures_repairs import Where, all_of, done_in, jobs, reworked
from .text import N_

# The job's callback reached the resident with ratings; and nobody was unsatisfied
# (job_facts.callback_answer).
REACHED = "callback_answer IS NOT NULL"
SATISFIED = "callback_answer = 1"


def _pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


@table("technicians", N_("Per technician"), "people",
       (N_("Done"), N_("On time"), N_("Rework"), N_("Satisfaction")), N_(
    "Per technician, the jobs they completed first in the period (the person the job was "
    "with at its first completion; cancelled jobs never count). Done: those jobs. On "
    "time and rework: as the repairs figures of the same names, over those jobs. "
    "Satisfaction: of those jobs whose callback reached the resident with ratings, the "
    "ones with no unsatisfied answer."),
       units=("count", "percent", "percent", "percent"))
def technicians(db: Database, sc: Scope) -> list[Row]:
    done, rework = done_in(sc), reworked(sc)
    found = db.execute(
        f"SELECT first_completed_by, count(*), coalesce(sum(on_time = 1), 0),"
        f" coalesce(sum(CASE WHEN {rework[0]} THEN 1 END), 0),"
        f" coalesce(sum({REACHED}), 0), coalesce(sum({SATISFIED}), 0)"
        f" FROM jobs WHERE {done[0]} AND first_completed_by IS NOT NULL GROUP BY 1",
        (*rework[1], *done[1])).fetchall()
    names = dict(db.execute(
        f"SELECT id, display_name FROM users WHERE id IN ({','.join('?' * len(found))})",
        [r[0] for r in found]).fetchall()) if found else {}
    rows = []
    for user, n, ok, again, reached, satisfied in sorted(
            found, key=lambda r: (-r[1], names.get(r[0], ""), r[0])):
        base: Where = all_of(done, ("first_completed_by = ?", (user,)))
        asked = all_of(base, (REACHED, ()))
        rows.append(Row(names.get(user, str(user)), (
            Result(float(n), n, None, jobs(base)),
            Result(_pct(ok, n), ok, n, jobs(all_of(base, ("on_time = 1", ()))), jobs(base)),
            Result(_pct(again, n), again, n, jobs(all_of(base, rework)), jobs(base)),
            Result(_pct(satisfied, reached), satisfied, reached,
                   jobs(all_of(base, (SATISFIED, ()))), jobs(asked)),
        )))
    return rows
