"""What the service figures read: indexes of callbacks by when the item was handled, when
they fall due and when they were done; of a task's records by whether they reached the
resident; of complaints and feedback by when they came in; of a routine plan's tasks.
And a callback's answer kept on its task."""

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
        CREATE INDEX callback_records_reached ON callback_records(task_id, reached);
        CREATE INDEX complaints_received ON complaints(estate_id, received_at);
        CREATE INDEX feedback_at ON feedback(estate_id, at);
        CREATE INDEX inspection_results_result ON inspection_results(inspection_id, result);
        """
    )


@migrations(name="0031_figures_service_callback_answer")
def figures_service_callback_answer(db: Database) -> None:
    # A callback's answer (its last record that reached the resident with ratings, kept
    # by records.add_callback) on the task: satisfaction is a range of an index.
    db.executescript(
        """
        ALTER TABLE callback_tasks ADD COLUMN answer_id INTEGER REFERENCES callback_records(id);
        ALTER TABLE callback_tasks ADD COLUMN answer_satisfied INTEGER;
        UPDATE callback_tasks SET answer_id = (SELECT r.id FROM callback_records r
            WHERE r.task_id = callback_tasks.id AND r.reached = 1
              AND r.satisfied IS NOT NULL ORDER BY r.at DESC, r.id DESC LIMIT 1);
        UPDATE callback_tasks SET answer_satisfied = (SELECT r.satisfied
            FROM callback_records r WHERE r.id = callback_tasks.answer_id)
            WHERE answer_id IS NOT NULL;
        DROP INDEX callback_tasks_done;
        CREATE INDEX callback_tasks_done ON callback_tasks(estate_id, done_at,
            answer_satisfied, answer_id);
        """
    )
