"""Every command kind the server knows, and the function that applies it."""

from __future__ import annotations

from sync import Handler

from . import (
    account,
    callback_commands,
    complaint_commands,
    estates,
    imports,
    notification_reading,
    robots,
    routine_commands,
    settings,
    survey_commands,
    users,
    workdays,
)
from .activity_commands import HANDLERS as ACTIVITY_HANDLERS
from .committee_commands import HANDLERS as COMMITTEE_HANDLERS
from .feedback_commands import HANDLERS as FEEDBACK_HANDLERS
from .handover_commands import HANDLERS as HANDOVER_HANDLERS
from .inspection_commands import HANDLERS as INSPECTION_HANDLERS
from .job_commands import HANDLERS as JOB_HANDLERS
from .job_field_commands import HANDLERS as JOB_FIELD_HANDLERS
from .notice_commands import HANDLERS as NOTICE_HANDLERS
from .place_commands import HANDLERS as PLACE_HANDLERS
from .report_commands import HANDLERS as REPORT_HANDLERS
from .tracking import HANDLERS as TRACKING_HANDLERS

HANDLERS: dict[str, Handler] = {
    **JOB_HANDLERS,
    **JOB_FIELD_HANDLERS,
    **complaint_commands.HANDLERS,
    **callback_commands.HANDLERS,
    **PLACE_HANDLERS,
    **TRACKING_HANDLERS,
    **FEEDBACK_HANDLERS,
    **INSPECTION_HANDLERS,
    **NOTICE_HANDLERS,
    **COMMITTEE_HANDLERS,
    **HANDOVER_HANDLERS,
    **account.HANDLERS,
    **robots.HANDLERS,
    **notification_reading.HANDLERS,
    **survey_commands.HANDLERS,
    **ACTIVITY_HANDLERS,
    **REPORT_HANDLERS,
    "estate.settings": settings.save_command,
    "estate.calendar": workdays.calendar_command,
    "unit.flags": estates.flags_command,
    "estate.import": imports.import_command,
    "user.save": users.save_command,
    "routine.plan": routine_commands.plan_command,
}
