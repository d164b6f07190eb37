"""The supervising leaders' page (挂点领导), where they land: what was escalated to them, by
grid level and age, to give instructions on (督办, 批示), and the open cases they are named to
supervise (挂牌督办). Every case of their area is in the case list too."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from .context import current_actor, current_engine

supervise_blueprint = Blueprint("supervise", __name__)


@supervise_blueprint.get("/supervision")
@login_required
def escalated() -> ResponseReturnValue:
    engine, actor = current_engine(), current_actor()
    tasks = engine.escalated_to(actor)
    cases = engine.instance_summaries([t["instance_id"] for t in tasks])
    supervised = engine.supervised_cases(actor)
    return render_template(
        "supervise/escalated.html", tasks=tasks, cases=cases, supervised=supervised
    )
