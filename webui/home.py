"""The landing page: until the pages for people arrive, it says where the API is."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template_string

home_blueprint = Blueprint("home", __name__)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>HazardFlow 安全隐患闭环处置</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto; line-height: 1.6">
<h1>HazardFlow 安全隐患闭环处置</h1>
<p>上报 → 分类定级 → 派遣 → 整改 → 复查 → 销号归档，期限由定时器督办。</p>
<p>JSON API: <a href="{{ api }}">{{ api }}</a> ·
OpenAPI: <a href="{{ api }}/openapi.json">{{ api }}/openapi.json</a></p>
<p>已部署的流程 (deployed processes): {{ processes|join(", ") or "—" }}</p>
</body></html>"""


@home_blueprint.get("/")
def index() -> str:
    engine = current_app.extensions["hazardflow.engine"]
    processes = [f"{p['name']} ({p['process_id']} v{p['version']})" for p in engine.processes()]
    return render_template_string(PAGE, api="/api/v1", processes=processes)
