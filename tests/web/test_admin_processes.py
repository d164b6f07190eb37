"""The process files page over real HTTP: validating shows each problem by file and element
and stores nothing; deploying with a comment makes the new version, shown with who, when and
why; an older version's files download as a zip and roll back; pages need a CSRF token."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.engine.test_deployment_versions import DMN, shorter_deadline

pytestmark = pytest.mark.slow
BROKEN = DMN.read_text(encoding="utf-8").replace(
    "<text>10</text>", "<text>__import__('os')</text>", 1
)


def send(admin, path: str, files: list[tuple[str, bytes]], **fields):
    page = admin.get("/admin/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    return admin.session.post(
        admin.base + path,
        data={"csrf_token": token, **fields},
        files=[("files", f) for f in files],
        allow_redirects=False,
        timeout=60,
    )


def test_validate_deploy_download_and_roll_back_in_the_page(web_user, engine):
    admin = web_user("admin")
    checked = send(
        admin, "/admin/deployments/check", [("dispatch.dmn", BROKEN.encode())], base="1", on_top="1"
    )
    assert checked.status_code == 422
    row = re.search(r'<tr class="error">(.*?)</tr>', checked.text, re.S).group(1)
    assert "dispatch.dmn" in row and "__import__" in row
    assert re.search(r"<code>[\w-]+</code>", row.split("</td>", 2)[1])  # the element's id
    refused = send(
        admin, "/admin/deployments", [("dispatch.dmn", BROKEN.encode())], base="1", on_top="1"
    )
    assert refused.status_code == 422 and "未部署" in refused.text
    assert len(engine.deployments()) == 1

    fine = send(admin, "/admin/deployments/check", [shorter_deadline()], base="1", on_top="1")
    assert fine.status_code == 200 and "未发现问题" in fine.text
    no_token = admin.session.post(
        admin.base + "/admin/deployments", files=[("files", shorter_deadline())], timeout=30
    )
    assert no_token.status_code == 400 and len(engine.deployments()) == 1

    done = send(
        admin, "/admin/deployments", [shorter_deadline()], base="1", on_top="1", comment="期限缩短"
    )
    assert done.status_code == 302
    page = admin.get("/admin/").text
    assert "已部署为第 2 次部署" in page and "期限缩短" in page
    assert engine.deployments()[0]["deployed_by"] == "admin"

    zipped = admin.get("/admin/deployments/1/files.zip")
    assert zipped.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(zipped.content)).read("dispatch.dmn") == DMN.read_bytes()
    assert admin.get("/admin/deployments/99/files.zip").status_code == 404

    older = re.search(r'id="deployment-1".*?</section>', page, re.S).group(0)
    assert "回退到此版本" in older
    assert "回退到此版本" not in re.search(r'id="deployment-2".*?</section>', page, re.S).group(0)
    back = admin.post("/admin/deployments/1/redeploy", page=admin.get("/admin/"))
    assert back.status_code == 302
    newest = engine.deployments()[0]
    assert newest["id"] == 3 and newest["comment"] == "回退到第 1 次部署"
    assert newest["versions"][0]["version"] == 3 and newest["versions"][0]["current"]
