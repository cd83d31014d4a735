"""The web side of the command path: build a Command from a form and apply it."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

import sync
from sync import Command, Invalid, Outcome, fields

from . import uploads
from .auth import utcnow
from .db import get_db
from .domain.handlers import HANDLERS
from .domain.jobs import N_


def run(kind: str, target: str, payload: dict[str, Any]) -> Outcome:
    """Apply one command from the current form. Raises sync.Invalid on bad input."""
    form = request.form
    try:
        # The browser makes the op_id when the form is sent. A form sent before the page's
        # script ran (or without scripts) has none: it still counts, once, just without
        # the protection against a resend.
        op_id = fields.op_id(form.get("op_id") or str(uuid.uuid4()))
        base_version = fields.optional_integer(form.get("base_version"), "base_version", 0,
                                               fields.MAX_ID, fields.DAMAGED)
    except Invalid:
        # Hidden fields no person types: the page was tampered with or damaged, so there
        # is no field to show the message next to.
        abort(422, description=_(fields.DAMAGED))
    cmd = Command(
        op_id=op_id,
        kind=kind,
        target=target,
        payload=payload,
        user_id=current_user.id,
        device_id=fields.text(form.get("device_id"), 64),
        device_time=sync.parse_device_time(form.get("device_time")),
        base_version=base_version,
    )
    return sync.apply(get_db(), cmd, HANDLERS, utcnow())


def save_photos(field: str = "photos") -> list[str]:
    """Store uploaded photos, re-encoded (upright, long side 1600 px, no EXIF or GPS);
    returns their hashes."""
    hashes = []
    for upload in request.files.getlist(field):
        if not upload or not upload.filename:
            continue
        try:
            hashes.append(uploads.keep(upload.read(), reencode=True))
        except uploads.Refused as exc:
            raise Invalid({field: exc.message}) from None
    return hashes


def save_data_url(value: str, field: str) -> str:
    """Store a `data:image/png;base64,...` value (a drawn signature) as sent; its hash."""
    if not value:
        return ""
    header, _, encoded = value.partition(",")
    unreadable = Invalid({field: N_("The signature could not be read. Please sign again.")})
    if not header.startswith("data:image/"):
        raise unreadable
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise unreadable from None
    try:
        return uploads.keep(data, reencode=False)
    except uploads.Refused as exc:
        if exc.status == 429:
            raise Invalid({field: exc.message}) from None
        raise unreadable from None
