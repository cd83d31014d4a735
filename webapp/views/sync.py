"""The offline protocol's web side: service worker, manifest, file upload, batch replay.

The JSON endpoints are exempt from the form CSRF token (a page cached hours
ago carries a stale one) and instead accept only same-origin requests from a
signed-in session.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

import sync
from sync import Command, Invalid, clock

from .. import assets, layout, uploads
from ..auth import utcnow
from ..db import get_db
from ..domain import (
    access,
    callbacks,
    devices,
    feedback,
    files,
    handovers,
    inspections,
    jobs,
    notifications,
    page_versions,
    places,
)
from ..domain.handlers import HANDLERS
from ..domain.text import N_
from ..i18n import locale_name
from ..payloads import OUTBOX
from . import install

bp = Blueprint("sync", __name__)
MAX_BATCH = 100
# The static files every page loads; the phone keeps all of ASSETS for offline use (the
# joined page script too: kept_asset_urls). outbox.js stays for the service worker.
PAGE_ASSETS = ("app.css",)
ASSETS = PAGE_ASSETS + ("outbox.js", "vendor/signature_pad-5.1.4.umd.min.js", "signature.js",
                        "places.css", "places.js", "notices.css",
                        "vendor/jsqr-1.4.0.min.js", "intake.js",
                        "inspections.css", "feedback.css", "visit-stamp.js", "rest-pass.js",
                        "autosubmit.js", "swap-status.js",
                        *install.ICON_FILES)
# Kept at install of the service worker; the manifest too, so a page opened with no
# signal still has its name and icons.
SHELL_PAGES = ("/offline", "/outbox", install.MANIFEST_URL)


def _json_error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify(error=code, message=message, **extra), status


@bp.before_request
def guard():
    """Same-origin and signed-in, for the JSON endpoints only."""
    if not request.path.startswith("/sync/"):
        return None
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        return _json_error(403, "cross_origin", _("Requests from other sites are refused."))
    if origin is None and request.headers.get("Sec-Fetch-Site") not in (None, "same-origin"):
        return _json_error(403, "cross_origin", _("Requests from other sites are refused."))
    if not current_user.is_authenticated:
        return _json_error(401, "signed_out", _("Sign in to send what is saved on this phone."),
                           login=url_for("auth.login", next="/outbox"))
    return None


def kept_asset_urls() -> list[str]:
    """The versioned addresses of the static files a phone keeps (ASSETS)."""
    return layout.once(("kept_assets",), lambda: [
        *(url_for("static", filename=a) for a in ASSETS), assets.page_script_url()])


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the site root so its scope is the whole app; the asset
    version, the shell's files and the outbox script's address (versioned like every
    static file) are written in from here."""
    path = Path(current_app.static_folder or "") / "sw.js"
    shell = [*SHELL_PAGES, *kept_asset_urls()]
    body = (f'const VERSION = "{assets.version()}";\n'
            f"const SHELL_URLS = {json.dumps(shell)};\n"
            f"const OUTBOX_URL = {json.dumps(url_for('static', filename='outbox.js'))};\n"
            + path.read_text())
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline():
    """Shown by the service worker for a page that is not saved on this phone."""
    return render_template("sync/offline.html")


def outbox_kinds() -> dict[str, str]:
    """What each kind of item in the outbox is called (msgids), so the list reads in
    the language of today, not of the day the item was saved."""
    kinds = {f"job.{action}": label for action, label in jobs.ACTIONS.items()}
    kinds.update({"feedback.create": N_("Environment feedback"), "callback.record":
                  N_("Callback"), "inspection.record": N_("Inspection"),
                  "survey.record": N_("Survey answer"),
                  "handover.record": N_("Shift handover"),
                  "handover.acknowledge": N_("Acknowledge the handover")})
    return kinds


@bp.get("/outbox")
def outbox():
    """What this phone has saved and sent; the list itself lives on the phone."""
    return render_template("sync/outbox.html", kinds=outbox_kinds())


def _by_id(endpoint: str, key: str) -> str:
    """`url_for(endpoint, key=…)` as a format string with `{}` for the id (or code), built
    once:
    the manifest names a hundred pages, and the routing map's build is most of its cost."""
    mark = 987654321

    def build() -> str:
        url = url_for(endpoint, **{key: mark})
        assert url.count(str(mark)) == 1, url
        return url.replace(str(mark), "{}")

    return layout.once(("url_by_id", endpoint), build)


def page_context(db) -> str:
    """What every kept page shows around its content, as one token: who is signed in
    (name, role, estates, language), this release's code and files, the estates'
    settings and staff, the session (a page's forms carry its CSRF token), and the
    header's count of new feedback where it shows."""
    generate_csrf()  # the session's token exists before the pages are fetched
    user = current_user
    return page_versions.token(
        [user.id, user.role, user.department, user.display_name, user.estate_ids,
         locale_name()], assets.release(),
        hashlib.sha256(str(session.get(current_app.config.get(
            "WTF_CSRF_FIELD_NAME", "csrf_token"))).encode()).hexdigest(),
        page_versions.reference(db, user.estate_ids),
        # The header's count of new feedback, for those who handle it (every page).
        feedback.new_count(db, user.estate_ids) if user.can("feedback.handle") else None)


@bp.get("/sync/manifest")
def manifest():
    """The pages and assets this user's phone should keep for working offline, and
    `codes`: which kept page a scanned code opens when there is no signal (the code's
    own address needs the server), for the places of the worker's jobs and rounds.

    `versions` gives a kept page's version (domain/page_versions.py): the phone
    fetches it again only when that differs from the one it holds. A page without one
    is fetched on every refresh."""
    db, now = get_db(), utcnow()
    context = page_context(db)
    pages = list(SHELL_PAGES)
    parts: dict[str, str] = {p: "" for p in SHELL_PAGES}  # page -> its data's token
    opens: dict[tuple[str, int], str] = {}  # place -> the kept page its code opens
    photos: list[str] = []  # the jobs' photos: named by content, fetched once
    if current_user.is_field:
        mine = jobs.my_jobs(db, current_user.row, current_user.estate_ids)
        listed = url_for("jobs.mine")
        pages.append(listed)
        parts[listed] = page_versions.job_list(
            mine, jobs.pool_hidden(db, current_user.row, current_user.estate_ids, mine))
        job_tokens = page_versions.job_pages(db, mine)
        unit_ids = list(dict.fromkeys(j["unit_id"] for j in mine if j["unit_id"]))
        unit_tokens = page_versions.unit_pages(db, unit_ids, access.full_units(
            db, current_user.row, current_user.estate_ids, unit_ids, now))
        detail, sign = _by_id("jobs.detail", "job_id"), _by_id("jobs.sign", "job_id")
        unit_page = _by_id("units.detail", "unit_id")
        for job in mine:
            for url in (detail.format(job["id"]), sign.format(job["id"])):
                pages.append(url)
                parts[url] = job_tokens[job["id"]]
            if job["unit_id"]:
                pages.append(unit_page.format(job["unit_id"]))
                parts[pages[-1]] = unit_tokens[job["unit_id"]]
                opens[("unit", job["unit_id"])] = pages[-1]
        photos = [url_for("files.show", sha256=sha)
                  for sha in jobs.photo_hashes(db, [j["id"] for j in mine])]
    if current_user.can("feedback.send"):
        pages += [url_for("feedback.new"), url_for("feedback.mine")]
        parts[pages[-2]] = page_versions.feedback_form(db, current_user.estate_ids)
        parts[pages[-1]] = page_versions.feedback_sent(db, current_user.id)
    if current_user.can("handover.record"):
        # The post's handover form and log, and each handover waiting for this person's
        # signature: a field post often has no signal. The form's version follows the
        # log (its window starts at the post's last handover) and the estates'
        # checklists; the shift's counts it shows are a preview the server makes again
        # when the handover arrives, so they do not refetch the page on every refresh.
        form = url_for("handovers.new")
        pages.append(form)
        log, waiting = page_versions.handover_pages(db, current_user.row,
                                                    current_user.estate_ids)
        parts[form] = page_versions.token(log, [handovers.checklist(db, e)
                                                for e in current_user.estate_ids])
        pages.append(url_for("handovers.index"))
        parts[pages[-1]] = log
        one = _by_id("handovers.detail", "handover_id")
        for handover_id, part in waiting.items():
            pages.append(one.format(handover_id))
            parts[pages[-1]] = part
    if current_user.can("place.scan"):
        pages.append(url_for("places.scan"))
        parts[pages[-1]] = ""  # the scanner shows nothing of the data
    if current_user.can("inspection.do"):
        pages.append(url_for("inspections.index"))
        for p in inspections.my_round_places(db, current_user.id, inspections.local_day(now)):
            pages.append(url_for("inspections.visit", place_type=p["place_type"],
                                 place_id=p["place_id"]))
            opens[(p["place_type"], p["place_id"])] = pages[-1]  # the round's checklist
    if current_user.can("callback.work"):
        pages.append(url_for("callbacks.today"))
        for task in callbacks.today(db, current_user.row, current_user.estate_ids, now):
            pages.append(url_for("callbacks.task", task_id=task["id"]))
    assets_ = kept_asset_urls()
    code = _by_id("places.qr", "token")
    codes = {code.format(token): opens[place]
             for place, token in places.live_tokens(db, opens).items()}
    versions = {p: page_versions.page_token(context, p, part) for p, part in parts.items()}
    # server_time: the phone measures its clock error on every refresh, not only
    # when it has steps to send (pages count deadlines down on the server's clock).
    return jsonify(version=assets.version(), user_id=current_user.id,
                   pages=list(dict.fromkeys(pages)), versions=versions, assets=assets_,
                   codes=codes, files=photos,
                   server_time=now.isoformat(timespec="seconds") + "Z")


def _known(sha256: str) -> bool:
    """Whether this user sent this file or may read it: nobody learns of others' files."""
    return access.known_file(get_db(), current_user.row, current_user.estate_ids, sha256)


@bp.route("/sync/files/<sha256>", methods=["GET"])
def file_status(sha256: str):
    """Whether the server already has this file of the user's (HEAD works too): uploads
    resume by file."""
    stored = _known(sha256)
    return jsonify(stored=stored), 200 if stored else 404


@bp.put("/sync/files/<sha256>")
def file_upload(sha256: str):
    """Store one photo or signature by its hash, as the phone sent it: the outbox names it
    by this hash, so it is not re-encoded (the phone's canvas already drew it without
    EXIF). Sending it again is harmless."""
    data = request.get_data(cache=False)
    if hashlib.sha256(data).hexdigest() != sha256:
        return _json_error(400, "hash_mismatch",
                           _("The file arrived damaged. It will be sent again."))
    existed = files.uploaded_by(get_db(), current_user.id, sha256)
    try:
        uploads.keep(data, reencode=False)
    except uploads.Refused as exc:
        code = "over_quota" if exc.status == 429 else "not_an_image"
        return _json_error(exc.status, code, _(exc.message))
    return jsonify(sha256=sha256), 200 if existed else 201


def _target_url(target: str, result: dict[str, Any]) -> str | None:
    """The page of what the item was about: its job, or its handover (a new one's once
    the server made it)."""
    kind, _sep, ident = target.partition(":")
    if kind == "handover" and ident == "new":
        made = result.get("handover_id")
        return url_for("handovers.detail", handover_id=made) if isinstance(made, int) else None
    if not (ident.isascii() and ident.isdigit() and len(ident) <= 18):
        return None
    if kind == "job":
        return url_for("jobs.detail", job_id=int(ident))
    if kind == "handover":
        return url_for("handovers.detail", handover_id=int(ident))
    return None


def _invalid(answer: dict[str, Any], exc: Invalid) -> dict[str, Any]:
    errors = {str(k): _(v) for k, v in exc.errors.items() if isinstance(v, str)}
    return {**answer, "status": "invalid", "errors": errors,
            "message": " ".join(errors.values())}


def _command(item: dict[str, Any], kind: str, device_id: str, offset: float, now) -> Command:
    """The queued item as a command, every field read through the kit (sync.fields), so
    wrong types and sizes are Invalid for this item only."""
    fields = item.get("fields")
    device_time = sync.parse_device_time(item.get("device_time"))
    return Command(
        op_id=sync.fields.text(item.get("op_id"), 64), kind=kind,
        target=sync.fields.text(item.get("target"), 200),
        payload=OUTBOX[kind](fields if isinstance(fields, dict) else {}),
        user_id=current_user.id, device_id=device_id, device_time=device_time,
        base_version=sync.fields.optional_integer(
            item.get("base_version"), "base_version", 0, sync.fields.MAX_ID,
            sync.fields.DAMAGED),
        replayed=bool(item.get("queued")),
        acted_at=clock.corrected(device_time, offset, now),
    )


HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _files_to_send(item_fields: Any) -> list[str]:
    """The files an item refers to that this user must send (again) before it can apply:
    pruned after the phone sent them, sent under another user on a shared phone, or sent
    before the server kept who sent what. The phone uploads them and resends the item."""
    hashes = sorted(set(HASH.findall(json.dumps(item_fields, ensure_ascii=True))))[:50]
    return access.unusable_files(get_db(), current_user.id, hashes) if hashes else []


def apply_item(item: Any, device_id: str, offset: float, now) -> dict[str, Any]:
    """Apply one queued command and say what became of it. Whatever the item holds, the
    answer is about it alone: a bad item is invalid and the batch goes on."""
    if not isinstance(item, dict):
        return _invalid({"op_id": ""}, Invalid({"item": sync.fields.DAMAGED}))
    op_id = item.get("op_id")
    answer: dict[str, Any] = {"op_id": op_id[:200] if isinstance(op_id, str) else ""}
    if item.get("user_id") not in (None, current_user.id):
        return {**answer, "status": "held",
                "message": _("Saved by another user on this phone; it waits for them.")}
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in OUTBOX:
        return {**answer, "status": "invalid", "errors": {}, "message": _("Unknown action.")}
    try:
        cmd = _command(item, kind, device_id, offset, now)
        # A step refused here tells its worker why (the phone may be put away by now).
        outcome = sync.apply(get_db(), cmd, HANDLERS, now, on_rejected=notifications.refused)
    except Invalid as exc:
        # Fields that no longer read (a rule changed since) on a command applied before:
        # the resend still gets the first answer.
        earlier = sync.already(get_db(), op_id, current_user.id, kind)
        if earlier is None:
            resend = _files_to_send(item.get("fields"))
            if resend:
                return {**answer, "status": "upload", "files": resend,
                        "message": _("A photo has not been uploaded yet.")}
            return _invalid(answer, exc)
        outcome = earlier
    rejected = (outcome.first_status or outcome.status) == "rejected"
    result = outcome.result
    return {
        **answer,
        "status": outcome.status,
        "first_status": outcome.first_status,
        "message": _(result.get("message", "")) if rejected else "",
        "kept": bool(result.get("kept")),
        "current": result.get("current", {}),
        "redirect": _target_url(str(item.get("target") or ""), result),
    }


@bp.post("/sync/batch")
def batch():
    """Apply a batch of queued commands in the order the worker acted; answer for each."""
    try:
        data = sync.fields.loads(request.get_data(cache=False))
    except ValueError:  # not JSON, not text, or nested past any form's depth
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
        return _json_error(400, "bad_batch", _("The phone sent something unreadable."))
    items = data["commands"][:MAX_BATCH]
    now = utcnow()
    device_id = sync.fields.text(data.get("device_id"), 64)
    offset = clock.offset_seconds(sync.parse_device_time(data.get("sent_at")), now)
    # The batch in one transaction: one commit for all its commands (sync.together).
    with sync.together(get_db()):
        devices.seen(get_db(), device_id, current_user.id, offset, now,
                     sync.fields.text(request.headers.get("User-Agent", ""), 300))
        results = [apply_item(i, device_id, offset, now) for i in items]
    return jsonify(server_time=now.isoformat(timespec="seconds") + "Z",
                   clock_offset_seconds=offset, results=results)
