"""Reports (月度报告, 年度报告): an estate's list, a report's page and PDF, the manager's
analysis, issuing and correcting. Managers only; what a report holds is
domain/reports.py, its commands domain/report_commands.py."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands, report_document
from ..auth import require, utcnow
from ..db import get_db
from ..domain import estates, people, periods, report_commands, reports
from ..domain.text import N_
from ..htmx import is_partial, render

bp = Blueprint("reports", __name__, url_prefix="/reports")
CONFIRM = N_("Tick the box to confirm: an issued report can no longer change.")
report_commands.use_renderer(report_document.render_html)


def _estate(args: Any) -> int:
    """The estate asked for (the user's first by default); 404 for one not served."""
    if not current_user.estate_ids:
        abort(404)
    estate_id = maybe_id(str(args.get("estate_id") or "")) or current_user.estate_ids[0]
    if estate_id not in current_user.estate_ids:
        abort(404)
    return estate_id


def _report(report_id: int) -> dict[str, Any]:
    report = reports.get(get_db(), report_id)
    if not people.in_estates(report, current_user.estate_ids):
        abort(404)
    return report


def _index(estate_id: int, errors: dict[str, str], status: int = 200,
           kind: str = "month", period: str = ""):
    db = get_db()
    today = periods.local_today(utcnow())
    return render("reports/index.html", "reports/_list.html", status,
                  estates=estates.list_estates(db, current_user.estate_ids),
                  estate_id=estate_id, rows=reports.list_for(db, estate_id), errors=errors,
                  kind=kind, period=period or periods.month(today).key,
                  KINDS=reports.KINDS, STATUSES=reports.STATUSES)


@bp.route("", methods=["GET", "POST"])
@require("report.manage")
def index():
    """The estate's reports; a draft made on demand."""
    if request.method == "GET":
        return _index(_estate(request.args), {})
    estate_id = _estate(request.form)
    kind = request.form.get("kind", "month")
    period = request.form.get("period", "").strip()
    try:
        outcome = commands.run("report.draft", f"estate:{estate_id}",
                               {"kind": kind, "period": period})
    except Invalid as exc:
        return _index(estate_id, exc.errors, 422, kind, period)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("reports.show", report_id=outcome.result["report_id"]), 303)


def snapshot_of(report: dict[str, Any]) -> dict[str, Any]:
    """An issued report's stored snapshot; a draft's contents computed now."""
    if report["status"] == "issued":
        return {**json.loads(report["snapshot"]), "sha256": report["sha256"],
                "status": "issued"}
    now = utcnow()
    period = reports.parse_period(report["kind"], report["period"], now)
    body = reports.contents(get_db(), report["estate_id"], report["kind"], period, now)
    return {**body, "version": report["version"], "analysis": report["analysis"],
            "measures": report["measures"], "status": "draft", "sha256": None}


def _page(report: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200,
          values: dict[str, str] | None = None, keep: str | None = None, saved: bool = False):
    """The report's page, or (htmx) only its analysis and issue forms. `keep`: the form
    whose post was invalid (nothing stored), which keeps its op_id for the resend; every
    other form starts with a new one."""
    db = get_db()
    early = reports.last_day_ahead(report["kind"], report["period"], utcnow()) \
        if report["status"] == "draft" else None
    context: dict[str, Any] = {
        "report": report, "errors": errors or {}, "keep": keep, "saved": saved,
        "ends": early,
        "values": values or {"analysis": report["analysis"], "measures": report["measures"]},
    }
    if not is_partial():  # the document is computed only when it is shown
        context.update(report_document.context(snapshot_of(report)))
        context["verified"] = reports.verified(report)
        context["newest"] = reports.latest(db, report["estate_id"], report["kind"],
                                           report["period"])
        context["versions"] = [r for r in reports.list_for(db, report["estate_id"])
                               if r["kind"] == report["kind"]
                               and r["period"] == report["period"]]
    return render("reports/report.html", "reports/_analysis.html", status, **context)


@bp.route("/<int:report_id>")
@require("report.manage")
def show(report_id: int):
    """A report as its PDF shows it, with the analysis form and issuing (a draft)."""
    return _page(_report(report_id))


def _refused(report: dict[str, Any], outcome, values: dict[str, str] | None = None):
    if outcome.result.get("reason") == "forbidden":
        abort(403)
    return _page(reports.get(get_db(), report["id"]) or report,
                 {"report": outcome.result.get("message", "")}, 409, values)


@bp.route("/<int:report_id>/text", methods=["POST"])
@require("report.manage")
def text(report_id: int):
    """The analysis and improvement measures saved (htmx: the form again, saved)."""
    report = _report(report_id)
    values = {k: request.form.get(k, "") for k in ("analysis", "measures")}
    try:
        outcome = commands.run("report.text", f"report:{report_id}", values)
    except Invalid as exc:
        return _page(report, exc.errors, 422, values, keep="text")
    if not outcome.ok:
        return _refused(report, outcome, values)
    if is_partial():
        fresh = reports.get(get_db(), report_id) or report
        return _page(fresh, {}, 200, saved=True)
    return redirect(url_for("reports.show", report_id=report_id, saved=1), 303)


@bp.route("/<int:report_id>/issue", methods=["POST"])
@require("report.manage")
def issue(report_id: int):
    """Issue the report: asked to confirm (a ticked box), since it never changes after."""
    report = _report(report_id)
    if request.form.get("confirm") != "1":
        return _page(report, {"confirm": CONFIRM}, 422, keep="issue")
    try:
        outcome = commands.run("report.issue", f"report:{report_id}",
                               {"early": request.form.get("early", "")[:1]})
    except Invalid as exc:  # the period has not ended and that was not confirmed
        return _page(report, exc.errors, 422, keep="issue")
    if not outcome.ok:
        return _refused(report, outcome)
    return redirect(url_for("reports.show", report_id=report_id, issued=1), 303)


@bp.route("/<int:report_id>/correct", methods=["POST"])
@require("report.manage")
def correct(report_id: int):
    """A corrected version of an issued report, as a new draft."""
    report = _report(report_id)
    outcome = commands.run("report.correct", f"report:{report_id}", {})
    if not outcome.ok:
        return _refused(report, outcome)
    return redirect(url_for("reports.show", report_id=outcome.result["report_id"]), 303)


@bp.route("/<int:report_id>/report.pdf")
@require("report.manage")
def pdf(report_id: int):
    """The PDF: an issued report's stored document, a draft's made now."""
    report = _report(report_id)
    document = reports.html(get_db(), report_id) if report["status"] == "issued" \
        else report_document.render_html(snapshot_of(report))
    if document is None:
        abort(404)
    name = f"{report['kind']}-{report['period']}-v{report['version']}"
    response = Response(report_document.pdf(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="report-{name}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
