"""The administrator's home over real HTTP: an administrator lands on the administration,
whatever waits in a work queue, and the header offers their entries (process files, users),
not the dispatcher's; someone who is an administrator besides keeps their own menu."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def menu(html: str) -> list[str]:
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S).group(1)
    return [
        " ".join(re.sub(r"<[^>]+>", "", label).split())
        for label in re.findall(r"<a [^>]*>(.*?)</a>", nav)
    ]


def test_an_administrator_lands_on_the_administration_with_its_menu(web_user, engine):
    admin = web_user("admin")
    assert admin.landed.url.endswith("/admin/")
    assert menu(admin.landed.text)[:2] == ["流程文件", "用户"]
    assert "待办" not in menu(admin.landed.text)
    english = web_user("admin", "en")
    assert menu(english.landed.text)[:2] == ["Process files", "Users"]
    assert admin.get("/").headers["Location"].endswith("/admin/")  # the brand link, too


def test_an_administrator_with_another_role_keeps_that_menu(web_user, engine):
    engine.add_user("admin_dispatcher", roles=["admin", "dispatcher"], password="hazard2026")
    both = web_user("admin_dispatcher")
    entries = menu(both.landed.text)
    assert "待办" in entries and "系统管理" in entries
    assert "流程文件" not in entries
    dispatcher = web_user("dispatcher")
    assert "系统管理" not in menu(dispatcher.landed.text)
