"""Indexes the service figures read: callbacks by when the item was handled, when they
fall due and when they were done; a task's records by whether they reached the resident
(covering: not reached, the last rated answer); complaints and feedback by when they
came in; a routine plan's tasks."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0031_figures_service_indexes")
def figures_service_indexes(db: Database) -> None:
    # A figure reads one estate's period as a range of one of these, never a scan; the
    # handled callbacks' and the results' cover the columns their rates compare.
    db.executescript(
        """
        CREATE INDEX callback_tasks_handled ON callback_tasks(estate_id, kind, created_at,
            status, done_at, due_at, latest_at);
        CREATE INDEX callback_tasks_due ON callback_tasks(estate_id, due_at);
        CREATE INDEX callback_tasks_plan ON callback_tasks(plan_id, sampler)
            WHERE plan_id IS NOT NULL;
        CREATE INDEX callback_tasks_done ON callback_tasks(estate_id, done_at);
        CREATE INDEX callback_records_reached ON callback_records(task_id, reached, satisfied);
        CREATE INDEX complaints_received ON complaints(estate_id, received_at);
        CREATE INDEX feedback_at ON feedback(estate_id, at);
        CREATE INDEX inspection_results_result ON inspection_results(inspection_id, result);
        """
    )
