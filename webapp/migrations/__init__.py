"""Schema migrations. The schema changes only here, one named step at a time.

The steps live in the modules below, imported in the order they were written: that
order is the order they apply in.
"""

from sqlite_utils.migrations import Migrations

migrations = Migrations("wuye")

from . import (  # noqa: E402  (they register on `migrations`)
    m0001_0003_foundation,
    m0004_0005_sync_and_board,
    m0006_complaints_and_callbacks,
    m0007_0009_places_inspections_feedback,
    m0010_job_search,
    m0015_notifications,
    m0020_desk_and_field,
    m0030_figures_job_facts,
    m0030_figures_pages,
    m0031_figures_service,
    m0032_reports,
    m0033_surveys,
    m0034_board,
    m0035_notices,
    m0036_handovers,
    m0037_committee,
    m0038_deadlines_early_arrival,
    m0039_surveys_households,
    m0040_activities,
)

__all__ = [
    "migrations",
    "m0001_0003_foundation",
    "m0004_0005_sync_and_board",
    "m0006_complaints_and_callbacks",
    "m0007_0009_places_inspections_feedback",
    "m0010_job_search",
    "m0015_notifications",
    "m0020_desk_and_field",
    "m0030_figures_job_facts",
    "m0030_figures_pages",
    "m0031_figures_service",
    "m0032_reports",
    "m0033_surveys",
    "m0034_board",
    "m0035_notices",
    "m0036_handovers",
    "m0037_committee",
    "m0038_deadlines_early_arrival",
    "m0039_surveys_households",
    "m0040_activities",
]
