"""Field errors in the reader's language: the engine says why a field was refused as a code
with its title and limit; the catalogs phrase it (zh: the engine's own words)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from engine import FieldError, FormInvalid

from .process_texts import process_text

_PHRASES: dict[str, Callable[[dict[str, Any]], str]] = {
    "required": lambda p: _("Please fill in “%(title)s”", **p),
    "type": lambda p: _("“%(title)s” is not in the right format", **p),
    "pattern": lambda p: _("“%(title)s” is not in the right format", **p),
    "choice": lambda p: _("“%(title)s”: choose one of the options", **p),
    "minimum": lambda p: _("“%(title)s” must be at least %(limit)s", **p),
    "exclusiveMinimum": lambda p: _("“%(title)s” must be more than %(limit)s", **p),
    "maximum": lambda p: _("“%(title)s” must be at most %(limit)s", **p),
    "minLength": lambda p: _("“%(title)s” needs at least %(limit)s characters", **p),
    "maxLength": lambda p: _("“%(title)s” takes at most %(limit)s characters", **p),
    "minItems": lambda p: _("“%(title)s” needs at least %(limit)s items", **p),
    "date": lambda p: _("“%(title)s” must be a date (YYYY-MM-DD)", **p),
    "format": lambda p: _("“%(title)s” must be in %(limit)s format", **p),
    "readonly": lambda p: _("“%(title)s” cannot be filled in on this form", **p),
    "maxItems": lambda p: _("“%(title)s” takes at most %(limit)s items", **p),
    "photo_too_large": lambda p: _("“%(title)s”: a photo may be at most %(limit)s MB", **p),
    "photo_too_many_pixels": lambda p: _(
        "“%(title)s”: a photo may have at most %(limit)s megapixels", **p
    ),
    "not_an_image": lambda p: _("“%(title)s”: only JPEG, PNG, GIF or WebP images", **p),
    "photo_unknown": lambda p: _(
        "“%(title)s” names a photo that does not exist or is not yours to use: upload it", **p
    ),
    "webhook_url": lambda p: _("Give an address that starts with http:// or https://"),
    "webhook_credentials": lambda p: _("The address may not hold a user name or password"),
    "webhook_events": lambda p: _("Choose at least one event"),
    "cursor": lambda p: _("This is not a cursor the feed gave"),
    "not_a_colleague": lambda p: _("This colleague is not in the group that works this task"),
    "view_name": lambda p: _("Give the view a name"),
    "own_grid": lambda p: _("You can report only within your own grids"),
    "too_large": lambda p: _("This is too much data for one field"),
    "case_unknown": lambda p: _("“%(title)s” is not the number of an existing case", **p),
    "case_not_earlier": lambda p: _("“%(title)s” must be a case reported before this one", **p),
    "wrong_password": lambda p: _("This is not your current password"),
    "password_too_short": lambda p: _("The new password needs at least %(limit)s characters", **p),
    # the organisation (engine/org_edit.py, engine/org_import.py)
    "org_not_a_code": lambda p: _(
        "“%(value)s” is not a code: use letters, digits, “-”, “_” or “.” (up to 64)", **p
    ),
    "org_not_a_username": lambda p: _(
        "“%(value)s” is not a user name: use letters, digits, “-”, “_”, “.” or “@” (up to 80)",
        **p,
    ),
    "org_name_needed": lambda p: _("A name of 1 to %(limit)s characters is needed", **p),
    "org_department_exists": lambda p: _("There is already a department %(value)s", **p),
    "org_grid_exists": lambda p: _("There is already a grid %(value)s", **p),
    "org_user_exists": lambda p: _("There is already a user %(value)s", **p),
    "org_unknown_department": lambda p: _("There is no department %(value)s", **p),
    "org_unknown_grid": lambda p: _("There is no grid %(value)s", **p),
    "org_unknown_user": lambda p: _("There is no user %(value)s", **p),
    "org_not_a_leader": lambda p: _(
        "%(value)s does not have the role “Supervising leader”: give it on their page first", **p
    ),
    "org_grid_under_itself": lambda p: _(
        "A grid cannot be put under itself or a grid below it (%(value)s)", **p
    ),
    "org_unknown_level": lambda p: _("“%(value)s” is not a level: one of %(limit)s", **p),
    "org_roles_needed": lambda p: _("Choose at least one role"),
    "org_not_an_email": lambda p: _("This is not an e-mail address"),
    "org_file_too_large": lambda p: _("The file is larger than %(limit)s MB", **p),
    "org_file_kind": lambda p: _("Choose an XLSX workbook or a CSV file"),
    "org_file_too_many_rows": lambda p: _("The file has more than %(limit)s rows", **p),
    "org_file_unpacks_too_large": lambda p: _("The workbook unpacks to more than 50 MB"),
    "org_file_unreadable": lambda p: _("This is not a readable XLSX workbook"),
    "org_file_no_sheet": lambda p: _(
        "The workbook has no sheet named 部门, 网格 or 用户 (departments, grids, users)"
    ),
    "org_file_not_utf8": lambda p: _("A CSV file must be saved as UTF-8"),
    "org_file_empty": lambda p: _("The CSV file is empty"),
    "org_file_no_code_column": lambda p: _("The header row needs a code (编码) column"),
    # grid outlines for the map (engine/grid_shapes.py); `where` is a path in the GeoJSON
    "shape_too_large": lambda p: _("The GeoJSON is larger than %(limit)s MB", **p),
    "shape_not_utf8": lambda p: _("The GeoJSON file must be UTF-8 text"),
    "shape_empty": lambda p: _("No GeoJSON was given"),
    "shape_too_deep": lambda p: _("The GeoJSON is nested more than %(limit)s levels deep", **p),
    "shape_not_json": lambda p: _("This is not JSON (line %(line)s, column %(column)s)", **p),
    "shape_not_finite": lambda p: _("%(where)s: coordinates must be finite numbers", **p),
    "shape_bad_position": lambda p: _(
        "%(where)s: a position must be [longitude, latitude] in numbers", **p
    ),
    "shape_longitude": lambda p: _(
        "%(where)s: the longitude %(value)s is not between -180 and 180", **p
    ),
    "shape_latitude": lambda p: _(
        "%(where)s: the latitude %(value)s is not between -90 and 90", **p
    ),
    "shape_bad_coordinates": lambda p: _("%(where)s: the coordinates are not a polygon's", **p),
    "shape_ring_short": lambda p: _("%(where)s: a ring needs at least 4 positions", **p),
    "shape_ring_open": lambda p: _(
        "%(where)s: the ring is not closed (its first and last positions differ)", **p
    ),
    "shape_not_geometry": lambda p: _("%(where)s: this is not a GeoJSON geometry", **p),
    "shape_wrong_type": lambda p: _(
        "%(where)s: a “%(value)s” is not a Polygon or MultiPolygon (nor a Feature or "
        "FeatureCollection of them)",
        **p,
    ),
    "shape_too_many_positions": lambda p: _(
        "%(where)s: one grid's outline may have at most %(limit)s positions", **p
    ),
    "shape_upload_too_many_positions": lambda p: _(
        "One upload may have at most %(limit)s positions", **p
    ),
    "shape_no_features": lambda p: _("The FeatureCollection has no features"),
    "shape_too_many_features": lambda p: _("One upload may have at most %(limit)s features", **p),
    "shape_not_feature": lambda p: _("%(where)s: this is not a GeoJSON Feature", **p),
    "shape_not_collection": lambda p: _(
        "Many grids at once need a FeatureCollection whose features have properties.code"
    ),
    "shape_no_code": lambda p: _("%(where)s: properties.code (the grid's code) is missing", **p),
    "shape_unknown_grid": lambda p: _("%(where)s: there is no grid %(value)s", **p),
    # moving a case to another version (engine/migration.py): `element` and `title` name the
    # step, `where` the stage it is inside
    "migration_unsettled": lambda p: _(
        "%(where)s%(element)s (%(title)s) is %(state)s: only settled steps move", **p
    ),
    "migration_ahead_gone": lambda p: _(
        "%(where)s%(element)s (%(title)s), a step the case may still reach, is not in the new "
        "version",
        **p,
    ),
    "migration_passed_gone": lambda p: _(
        "%(where)s%(element)s (%(title)s), a step the case has passed or stands on, is not in "
        "the new version",
        **p,
    ),
    "migration_loop_changed": lambda p: _(
        "%(where)s%(element)s (%(title)s) runs an instance per item and the new version changed "
        "its loop: %(what)s",
        **p,
    ),
    "migration_renamed": lambda p: _("%(where)s%(element)s (%(title)s) becomes %(new)s", **p),
    "migration_keeps_time": lambda p: _(
        "%(where)s%(element)s (%(title)s) keeps the time it waits for; changed: %(what)s", **p
    ),
    "migration_redefined": lambda p: _(
        "%(where)s%(element)s (%(title)s) takes the new definition: %(what)s", **p
    ),
    "migration_other_process": lambda p: _(
        "Version %(version)s is of another process (%(process)s)", **p
    ),
    "migration_stage_gone": lambda p: _(
        "The stage %(stage)s, which the case is inside, is not in the new version", **p
    ),
    "migration_closed": lambda p: _("The case is closed"),
    "migration_same_version": lambda p: _("The case is on version %(version)s already", **p),
}


def note_message(note: dict[str, Any], text: str) -> str:
    """A refusal or change the engine gave as {"code": ..., params...}; `text` is its own
    (English) words, shown when the code is one this page does not know."""
    params = {k: v for k, v in note.items() if k != "code"}
    if note.get("code") not in _PHRASES:
        return text
    return field_message(FieldError(str(note["code"]), text, params))


def field_message(reason: FieldError) -> str:
    phrase = _PHRASES.get(reason.code)
    if phrase is None:  # a form's own check message, or a text only the engine knows
        return process_text(reason.text)
    params = dict(reason.params)
    if "title" in params:
        params["title"] = process_text(params["title"])
    return phrase(params)


def field_messages(invalid: FormInvalid) -> dict[str, str]:
    """Field name -> message, for showing beside each field."""
    return {name: field_message(reason) for name, reason in invalid.reasons.items()}
