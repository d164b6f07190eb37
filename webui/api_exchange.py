"""Data exchange through the API: hazards as records (a page, one, and the change feed),
photos (upload for forms, download), and the administrators' webhooks. Every read answers
only the cases the caller may see, by the one rule of the case pages (engine/visibility.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import Response as FlaskResponse
from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import AnyUrl, BaseModel, Field, RootModel
from spectree import Response

from engine import (
    DeliveryRecord,
    FeedPage,
    Forbidden,
    HazardPage,
    HazardRecord,
    NotFound,
    WebhookCreated,
    WebhookRecord,
)

from .api import ERRORS, MAX_OFFSET, _error, api_blueprint, spec, token_required
from .api_deployments import admins_only
from .api_models import model_of
from .context import current_engine
from .converters import BIGGEST_ID

Hazard = model_of(HazardRecord, "Hazard")
Hazards = model_of(HazardPage, "Hazards")
Feed = model_of(FeedPage, "Feed")
Webhook = model_of(WebhookRecord, "Webhook")
NewWebhook = model_of(WebhookCreated, "WebhookCreated")


class HazardQuery(BaseModel):
    status: Literal["open", "closed", "all", "running", "completed", "error"] = Field(
        "all", description="open: running; closed: completed or stopped with an error"
    )
    updated_since: datetime | None = Field(
        None, description="changed at or after this time (ISO 8601 with offset)"
    )
    process: str | None = Field(None, max_length=255, description="a process id")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class FeedQuery(BaseModel):
    since: str | None = Field(
        None,
        max_length=200,
        description="the `next` of the previous page; none: from the first change",
    )
    limit: int = Field(100, ge=1, le=500)


class PhotoForm(BaseModel):
    """multipart/form-data with one image in `file` (JPEG, PNG, GIF or WebP)."""

    file: Any = Field(
        None, description="the image", json_schema_extra={"type": "string", "format": "binary"}
    )


class PhotoCreated(BaseModel):
    id: str = Field(description="the photo's id: put it in a form's photo field")


class WebhookRequest(BaseModel):
    url: AnyUrl = Field(description="http(s), without user name or password", max_length=2000)
    events: list[Literal["started", "dispatched", "overdue", "escalated", "archived"]] = Field(
        min_length=1, max_length=20
    )


class WebhookList(RootModel[list[WebhookRecord]]):
    pass


class DeliveryQuery(BaseModel):
    subscription: int | None = Field(None, ge=1, le=BIGGEST_ID)
    limit: int = Field(100, ge=1, le=500)


class DeliveryList(RootModel[list[DeliveryRecord]]):
    pass


@api_blueprint.get("/hazards")
@spec.validate(query=HazardQuery, resp=Response(HTTP_200=Hazards, **ERRORS), tags=["hazards"])
@token_required
def list_hazards() -> ResponseReturnValue:
    """Hazards as a provincial system records them (the fields of config.yaml `records`),
    of the cases the caller may see, least recently changed first: by status, changed
    since, process; paged. Photos are ids with their download URL."""
    args = HazardQuery.model_validate(request.args.to_dict())
    if args.updated_since is not None and args.updated_since.tzinfo is None:
        fields = {"updated_since": "give the time with its offset (e.g. +08:00 or Z)"}
        return _error(422, "invalid", "request parameters are invalid", fields)
    page = current_engine().hazards(
        g.actor,
        status=args.status,
        updated_since=args.updated_since,
        process_id=args.process,
        limit=args.limit,
        offset=args.offset,
    )
    return jsonify(page)


@api_blueprint.get("/hazards/feed")
@spec.validate(query=FeedQuery, resp=Response(HTTP_200=Feed, **ERRORS), tags=["hazards"])
@token_required
def hazard_feed() -> ResponseReturnValue:
    """Every step of the cases the caller may see (start, a task done, timers fired, ...),
    once each, in the order they committed, with the case's record as it is now. Ask again
    with `since` = the answer's `next` (opaque); `more: true` says to ask at once."""
    args = FeedQuery.model_validate(request.args.to_dict())
    return jsonify(current_engine().hazard_feed(g.actor, args.since, args.limit))


@api_blueprint.get("/hazards/<int:instance_id>")
@spec.validate(resp=Response(HTTP_200=Hazard, **ERRORS), tags=["hazards"])
@token_required
def get_hazard(instance_id: int) -> ResponseReturnValue:
    """One hazard's record; 404 alike for no case and a case the caller may not see."""
    return jsonify(current_engine().hazard(g.actor, instance_id))


@api_blueprint.post("/photos")
@spec.validate(form=PhotoForm, resp=Response(HTTP_201=PhotoCreated, **ERRORS), tags=["photos"])
@token_required
def upload_photo() -> ResponseReturnValue:
    """Upload a photo (multipart, field `file`; the limits of the web forms): its id goes
    into a form's photo field. A form takes only photos its sender uploaded or that belong
    to a case they may see; 422 names the field otherwise."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _error(
            422, "invalid", "send the image as multipart field 'file'", {"file": "required"}
        )
    photo_id = current_engine().store_photo(upload.read(), g.actor, "file")
    return jsonify(id=photo_id), 201


@api_blueprint.get("/photos/<photo_id>")
@spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["photos"])
@token_required
def download_photo(photo_id: str) -> ResponseReturnValue:
    """A photo's image, if the caller uploaded it or may see its case."""
    if not photo_id.isalnum() or len(photo_id) > 64:
        return _error(404, "not_found", "photo not found")
    try:
        path, content_type = current_engine().photo(photo_id, g.actor)
    except NotFound:
        return _error(404, "not_found", "photo not found")
    except Forbidden:
        return _error(403, "forbidden", "this photo belongs to a case you cannot see")
    # bytes, not send_file's passthrough: spectree reads the answer it validates
    headers = {"Cache-Control": "private, max-age=86400"}
    return FlaskResponse(path.read_bytes(), mimetype=content_type, headers=headers)


@api_blueprint.get("/webhooks")
@spec.validate(resp=Response(HTTP_200=WebhookList, **ERRORS), tags=["webhooks"])
@token_required
@admins_only
def list_webhooks() -> ResponseReturnValue:
    """The registered webhooks, newest first (administrators)."""
    return jsonify(current_engine().webhooks())


@api_blueprint.post("/webhooks")
@spec.validate(json=WebhookRequest, resp=Response(HTTP_201=NewWebhook, **ERRORS), tags=["webhooks"])
@token_required
@admins_only
def add_webhook() -> ResponseReturnValue:
    """Register an address for case events (administrators). The answer holds the secret
    that signs every delivery (header X-HazardFlow-Signature, see docs/api.md): it is not
    shown again."""
    body = WebhookRequest.model_validate(request.get_json(silent=True) or {})
    created = current_engine().add_webhook(str(body.url), body.events, g.actor)
    return jsonify(created), 201


@api_blueprint.post("/webhooks/<int:subscription_id>/deactivate")
@spec.validate(resp=Response(HTTP_204=None, **ERRORS), tags=["webhooks"])
@token_required
@admins_only
def deactivate_webhook(subscription_id: int) -> ResponseReturnValue:
    """Stop sending to a webhook (administrators); its deliveries stay listed."""
    current_engine().deactivate_webhook(subscription_id, g.actor)
    return "", 204


@api_blueprint.get("/webhooks/deliveries")
@spec.validate(
    query=DeliveryQuery, resp=Response(HTTP_200=DeliveryList, **ERRORS), tags=["webhooks"]
)
@token_required
@admins_only
def list_deliveries() -> ResponseReturnValue:
    """The newest deliveries (of one webhook, or all) with status, attempts, last error."""
    args = DeliveryQuery.model_validate(request.args.to_dict())
    return jsonify(current_engine().webhook_deliveries(args.subscription, args.limit))
