"""Per-estate settings. Every deadline and quota lives here, with DOMAIN.md's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from .text import N_


@dataclass(frozen=True)
class Setting:
    key: str
    default: int
    unit: str  # "minutes", "hours", "days"
    label: str  # English msgid; translated where shown


SETTINGS: tuple[Setting, ...] = (
    Setting("notify_minutes", 5, "minutes", N_("Desk notifies the technician within")),
    Setting("arrive_emergency_minutes", 15, "minutes", N_("Emergency: on site within")),
    Setting("arrive_ordinary_minutes", 30, "minutes", N_("Ordinary job: on site within")),
    Setting("complete_emergency_hours", 24, "hours", N_("Emergency repair done within")),
    Setting("complete_small_hours", 24, "hours", N_("Small repair done within")),
    Setting("complete_medium_days", 3, "days", N_("Medium repair done within")),
)
BY_KEY = {s.key: s for s in SETTINGS}


def estate_settings(db: Database, estate_id: int) -> dict[str, int]:
    """The estate's settings: stored values over the defaults."""
    values = {s.key: s.default for s in SETTINGS}
    for row in db.query(
        "SELECT key, value FROM estate_settings WHERE estate_id = ?", [estate_id]
    ):
        if row["key"] in BY_KEY:
            values[row["key"]] = int(row["value"])
    return values


def validate(form: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Parse a settings form; returns (values, errors keyed by setting)."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for s in SETTINGS:
        raw = str(form.get(s.key, "")).strip()
        if not raw.isdigit() or not 0 < int(raw) <= 10000:
            errors[s.key] = N_("Enter a whole number between 1 and 10000.")
        else:
            values[s.key] = int(raw)
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
    from sync import Invalid, Rejected

    from . import people

    user = people.get_user(db, cmd.user_id)
    if user is None or not people.can(user, "estate.settings"):
        raise Rejected("forbidden", N_("Your role may not do this."))
    estate_id = int(cmd.target.split(":", 1)[1])
    if estate_id not in people.estate_ids(db, user["id"]):
        raise Rejected(
            "forbidden", N_("This record belongs to an estate you do not serve.")
        )
    values, errors = validate(dict(cmd.payload))
    if errors:
        raise Invalid(errors)
    save(db, estate_id, values)
    from . import audit

    audit.record(db, cmd, now, "settings", "estate", estate_id, values)
    return {"estate_id": estate_id}
