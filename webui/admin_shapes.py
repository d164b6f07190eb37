"""The grids' outlines for the map, uploaded by an administrator as GeoJSON: one grid's on
its page (a file or pasted text), or many grids' at once on the organisation page (a
FeatureCollection whose features name their grid in `properties.code`). The engine checks an
upload whole and stores nothing of a refused one; the page says what is wrong and where.
Under the admin blueprint, so its role check holds."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from engine import OrgRefused

from .admin import admin_blueprint
from .admin_org import grid_page, org_page, refused_messages
from .context import current_actor, current_engine


def _upload() -> bytes | str | None:
    """The GeoJSON sent: the chosen file, else the pasted text; None for neither."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read()
    pasted = request.form.get("geometry") or ""
    return pasted if pasted.strip() else None


def _shape_error(refused: OrgRefused) -> dict[str, str]:
    return {"geometry": refused_messages(refused)[refused.field]}


@admin_blueprint.post("/organisation/grids/<code>/shape")
def upload_grid_shape(code: str) -> ResponseReturnValue:
    content = _upload()
    if content is None:
        return grid_page(code, {"geometry": _("Choose a GeoJSON file or paste one.")}), 422
    try:
        current_engine().upload_grid_shapes(content, current_actor().username, grid=code)
    except OrgRefused as refused:
        return grid_page(code, _shape_error(refused)), 422
    flash(_("The outline of the grid is saved."), "ok")
    return redirect(url_for("admin.grid", code=code) + "#shape")


@admin_blueprint.post("/organisation/grids/<code>/shape/remove")
def remove_grid_shape(code: str) -> ResponseReturnValue:
    if current_engine().remove_grid_shape(code, current_actor().username):
        flash(_("The outline of the grid is removed."), "ok")
    return redirect(url_for("admin.grid", code=code) + "#shape")


@admin_blueprint.post("/organisation/shapes")
def upload_shapes() -> ResponseReturnValue:
    content = _upload()
    if content is None:
        errors = {"geometry": _("Choose a GeoJSON file or paste one.")}
        return org_page(errors, "shapes"), 422
    try:
        codes = current_engine().upload_grid_shapes(content, current_actor().username)
    except OrgRefused as refused:
        return org_page(_shape_error(refused), "shapes"), 422
    flash(
        ngettext(
            "The outline of %(num)d grid is saved.",
            "The outlines of %(num)d grids are saved.",
            len(codes),
        ),
        "ok",
    )
    return redirect(url_for("admin.organisation") + "#shapes")
