"""Per-estate settings. Every deadline and quota lives here, with their defaults:
docs/DOMAIN.md names each and the rule it drives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from sync import Invalid, fields

from .text import N_


@dataclass(frozen=True)
class Setting:
    key: str
    default: int
    # "minutes", "hours", "days", "working days", "percent", "choice", "reports",
    # "addresses", "answers", "day of month"
    unit: str
    label: str  # English msgid; translated where shown
    section: str = "jobs"
    choices: tuple[str, ...] = ()  # for unit "choice": labels of 0, 1, ...

    @property
    def bounds(self) -> tuple[int, int]:
        if self.unit == "choice":
            return 0, len(self.choices) - 1
        if self.unit == "percent":
            return 0, 100
        if self.unit == "day of month":  # a day every month has
            return 1, 28
        return 1, 10000


YES_NO = (N_("No"), N_("Yes"))
SECTIONS = {
    "jobs": N_("Repairs"),
    "complaints": N_("Complaints"),
    "callbacks": N_("Callbacks"),
    "routine": N_("Routine callbacks"),
    "public": N_("Reports from QR codes"),
    "figures": N_("Figures and targets"),
    "committee": N_("Owners' committee"),
    "handovers": N_("Shift handovers"),
    "activities": N_("Community activities"),
}
# Values the company's procedures lost or never gave are here too: every
# deadline and quota is an estate's setting, never a constant in code.
SETTINGS: tuple[Setting, ...] = (
    Setting("notify_minutes", 5, "minutes", N_("Desk notifies the technician within")),
    Setting("arrive_emergency_minutes", 15, "minutes", N_("Emergency: on site within")),
    Setting("arrive_ordinary_minutes", 30, "minutes", N_("Ordinary job: on site within")),
    Setting("complete_emergency_hours", 24, "hours", N_("Emergency repair done within")),
    Setting("complete_small_hours", 24, "hours", N_("Small repair done within")),
    Setting("complete_medium_days", 3, "days", N_("Medium repair done within")),
    Setting("deadline_warning_minutes", 10, "minutes",
            N_("Warn the assignee and the desk before a deadline passes, by")),
    Setting("complaint_major_hours", 24, "hours", N_("Major complaint handled within"),
            "complaints"),
    Setting("complaint_important_hours", 72, "hours",
            N_("Important complaint handled within"), "complaints"),
    Setting("complaint_minor_hours", 168, "hours", N_("Minor complaint handled within"),
            "complaints"),
    Setting("complaint_major_after_days", 30, "days",
            N_("Unresolved complaint becomes major after"), "complaints"),
    Setting("complaint_repeat_is_major", 1, "choice",
            N_("Same household, same matter again while open: major"), "complaints", YES_NO),
    Setting("callback_hours", 24, "hours", N_("Callback within, after handling"), "callbacks"),
    Setting("callback_max_working_days", 7, "working days",
            N_("Callback never later than"), "callbacks"),
    Setting("callback_retry_hours", 4, "hours", N_("Try again after a missed call"),
            "callbacks"),
    Setting("callback_policy", 0, "choice", N_("Who calls back"), "callbacks",
            (N_("Whoever received the item"), N_("The callback team"))),
    Setting("signature_counts_as_callback", 1, "choice",
            N_("Resident's signature on site counts as the callback"), "callbacks", YES_NO),
    Setting("routine_manager_month_pct", 1, "percent",
            N_("Manager: households a month"), "routine"),
    Setting("routine_service_year_pct", 50, "percent",
            N_("Service centre: households a year"), "routine"),
    Setting("routine_dept_month_pct", 2, "percent",
            N_("Each other department: households a month"), "routine"),
    Setting("routine_dept_year_min_pct", 20, "percent",
            N_("Each other department: at least, a year"), "routine"),
    Setting("routine_no_repeat_days", 365, "days",
            N_("A household is not sampled again within"), "routine"),
    # Per hour (docs/SECURITY.md): reports from one address, through any code; and the
    # addresses one code takes reports from (an address already counted keeps its own).
    Setting("public_reports_per_address_hour", 3, "reports",
            N_("Reports from one address in an hour"), "public"),
    Setting("public_report_addresses_per_code_hour", 10, "addresses",
            N_("Addresses reporting through one code in an hour"), "public"),
    # A survey's answers through personal links from one address (households behind one
    # network, a carrier's shared address, answer from the same address).
    Setting("survey_answers_per_address_hour", 30, "answers",
            N_("Survey answers from one address in an hour"), "public"),
    # The figures' windows and targets (docs/DOMAIN.md, "Figures and reports"). Targets
    # default to common practice in the trade; the callback rate's is the estate's to decide.
    Setting("rework_window_days", 30, "days",
            N_("Reopened within this long after completion counts as rework, and a new job "
               "of the same unit as a repeat repair"), "figures"),
    Setting("target_on_time_pct", 95, "percent", N_("Target: jobs on time"), "figures"),
    Setting("target_pass_pct", 98, "percent", N_("Target: jobs passed"), "figures"),
    Setting("target_rework_pct", 2, "percent", N_("Target: rework at most"), "figures"),
    Setting("target_callback_pct", 100, "percent", N_("Target: handled items called back"),
            "figures"),
    Setting("target_satisfaction_pct", 85, "percent", N_("Target: satisfaction"),
            "figures"),
    Setting("target_complaint_in_time_pct", 95, "percent",
            N_("Target: complaints handled within their deadline"), "figures"),
    # The month's report is drafted on this day (domain/reports.py), so the manager can
    # add the analysis and issue it by the 30th (docs/DOMAIN.md, "Figures and reports").
    Setting("report_day", 25, "day of month", N_("Draft the monthly report on day"),
            "figures"),
    # The owners' committee and residents' meetings (docs/DOMAIN.md, "Owners' committee").
    Setting("committee_chair_contact_days", 30, "days",
            N_("Contact the committee's chair at least every"), "committee"),
    Setting("committee_members_quarter_pct", 50, "percent",
            N_("Committee members contacted each quarter"), "committee"),
    Setting("committee_reply_working_days", 10, "working days",
            N_("Reply to the committee's written submissions within"), "committee"),
    Setting("meeting_minutes_days", 7, "days",
            N_("Publish a residents' meeting's minutes within"), "committee"),
    Setting("committee_reminder_days", 3, "days",
            N_("Remind the desk and managers of committee work due, before it falls due, by"),
            "committee"),
    # Shift handovers (docs/DOMAIN.md, "Shift handover").
    Setting("handover_reminder_hours", 2, "hours",
            N_("Remind the supervisor of a handover not acknowledged after"), "handovers"),
    # An activity's shared feedback link takes answers from the activity's day through
    # this many days after it (docs/DOMAIN.md, "Community activities").
    Setting("activity_feedback_days", 7, "days",
            N_("Activity feedback: the shared link takes answers for"), "activities"),
    # Everyone at an event answers from the venue's Wi-Fi or a carrier's shared address:
    # the shared link's own limit, well above a household link's.
    Setting("activity_answers_per_address_hour", 300, "answers",
            N_("Activity feedback: answers from one address in an hour"), "activities"),
)
BY_KEY = {s.key: s for s in SETTINGS}


def of_estates(db: Database, estate_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Each estate's settings (stored values over the defaults), in one read: the one
    place the stored settings are read, for one estate (`estate_settings`) or several
    (a list's rows, the figures' scope, the pages' version)."""
    ids = sorted(set(estate_ids))
    defaults = {s.key: s.default for s in SETTINGS}
    out = {e: dict(defaults) for e in ids}
    if not ids:
        return out
    # execute(), not query(): read on every list page, and query() adds a savepoint and
    # a dict per row.
    for estate, key, value in db.execute(
        "SELECT estate_id, key, value FROM estate_settings WHERE estate_id IN"
        f" ({','.join('?' * len(ids))})", ids
    ):
        if key in BY_KEY:
            out[estate][key] = int(value)
    return out


def estate_settings(db: Database, estate_id: int) -> dict[str, int]:
    """The estate's settings: stored values over the defaults."""
    return of_estates(db, (estate_id,))[estate_id]


def validate(form: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Parse a settings form; returns (values, errors keyed by setting)."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for s in SETTINGS:
        low, high = s.bounds
        message = (
            N_("Choose one of the options.") if s.unit == "choice"
            else N_("Enter a whole number from 0 to 100.") if s.unit == "percent"
            else N_("Enter a day of the month from 1 to 28.") if s.unit == "day of month"
            else N_("Enter a whole number between 1 and 10000.")
        )
        try:
            values[s.key] = fields.integer(form.get(s.key, ""), s.key, low, high, message)
        except Invalid:
            errors[s.key] = message
    return values, errors


def save(db: Database, estate_id: int, values: dict[str, int]) -> None:
    for key, value in values.items():
        db.execute(
            "INSERT INTO estate_settings (estate_id, key, value) VALUES (?,?,?) "
            "ON CONFLICT (estate_id, key) DO UPDATE SET value = excluded.value",
            [estate_id, key, str(value)],
        )


def save_command(db: Database, cmd, now) -> dict:  # noqa: ANN001 - sync.Handler signature
    """Handler for `estate.settings`: validate, check the admin's estate, store."""
    from sync import Invalid, fields

    from . import people

    user = people.actor(db, cmd, "estate.settings")
    estate_id = fields.target_id(cmd.target, "target", N_("Unknown estate."))
    people.require_estate(db, user["id"], estate_id)
    values, errors = validate(dict(cmd.payload))
    if errors:
        raise Invalid(errors)
    save(db, estate_id, values)
    from . import audit, board

    # The windows may have moved: the board's stored due times follow.
    board.recompute_estate(db, estate_id, now)

    audit.record(db, cmd, now, "settings", "estate", estate_id, values)
    return {"estate_id": estate_id}
