"""Password hashes: Argon2id, werkzeug's older hashes still verify and are replaced at the next
sign-in, every demo user has a salt of their own, and the engine does without werkzeug."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from engine.config import PROJECT_ROOT, load_config
from engine.models import User
from engine.passwords import Passwords

ENGINE_DIR = PROJECT_ROOT / "engine"


def stored_hash(engine, username: str) -> str:
    with engine.db.reading() as session:
        return session.get(User, username).password_hash


def store_hash(engine, username: str, password_hash: str) -> None:
    with engine.db.transaction() as session:
        session.get(User, username).password_hash = password_hash


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2", "pbkdf2:sha256:1000", "scrypt:16384:8:1"])
def test_werkzeug_hashes_verify_without_werkzeug(method):
    passwords = Passwords(time_cost=1, memory_cost=1024, parallelism=1)
    old = generate_password_hash("s3cret", method=method)
    assert passwords.verify(old, "s3cret")
    assert not passwords.verify(old, "s3cret ")
    assert passwords.needs_rehash(old)


def test_unreadable_hashes_match_nothing():
    passwords = Passwords(time_cost=1, memory_cost=1024, parallelism=1)
    for damaged in ("", "plain", "md5$salt$abc", "$argon2id$v=19$garbage", "scrypt:x$s$00"):
        assert not passwords.verify(damaged, "anything")


def test_a_werkzeug_hash_signs_in_and_is_replaced_by_argon2id(bare_engine):
    engine = bare_engine
    old = generate_password_hash("old-pw")
    store_hash(engine, "dispatcher", old)
    assert engine.sign_in("dispatcher", "wrong") is None
    assert engine.password_is("dispatcher", "old-pw")
    assert stored_hash(engine, "dispatcher") == old  # neither a wrong one nor a check rehashes

    actor = engine.sign_in("dispatcher", "old-pw")
    assert actor is not None and actor.username == "dispatcher" and "dispatcher" in actor.roles
    renewed = stored_hash(engine, "dispatcher")
    assert renewed.startswith("$argon2id$")
    assert engine.sign_in("dispatcher", "old-pw") is not None
    assert stored_hash(engine, "dispatcher") == renewed  # current already: left as it is


def test_an_argon2_hash_with_other_costs_is_renewed_at_sign_in(bare_engine):
    engine = bare_engine
    costlier = Passwords(time_cost=2, memory_cost=2048, parallelism=1).hash("pw")
    store_hash(engine, "dept_yjj", costlier)
    assert engine.sign_in("dept_yjj", "pw") is not None
    renewed = stored_hash(engine, "dept_yjj")
    assert renewed != costlier and not engine.passwords.needs_rehash(renewed)


def test_unknown_inactive_and_passwordless_users_do_not_sign_in(bare_engine):
    engine = bare_engine
    engine.add_user("robot", roles=["enterprise"])  # API tokens only
    assert engine.sign_in("robot", "") is None
    assert engine.sign_in("nobody", "hazard2026") is None
    with engine.db.transaction() as session:
        session.get(User, "dept_zjj").active = False
    assert engine.sign_in("dept_zjj", "hazard2026") is None
    assert engine.sign_in("dept_yjj", "hazard2026") is not None


def test_every_demo_user_has_a_hash_and_salt_of_their_own(bare_engine):
    with bare_engine.db.reading() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    assert len(hashes) > 30 and all(h.startswith("$argon2id$") for h in hashes)
    salts = {h.rsplit("$", 2)[1] for h in hashes}
    assert len(set(hashes)) == len(salts) == len(hashes)
    assert bare_engine.sign_in("member_d1_t1_v1", "hazard2026") is not None


def test_users_added_through_the_engine_sign_in(bare_engine):
    bare_engine.add_user("inspector", roles=["township"], password="pw", grids=["ap-d1-t1"])
    assert stored_hash(bare_engine, "inspector").startswith("$argon2id$")
    assert bare_engine.sign_in("inspector", "pw").grids == ("ap-d1-t1",)
    record = next(u for u in bare_engine.users() if u["name"] == "inspector")
    assert record == {
        "name": "inspector",
        "display_name": "inspector",
        "roles": ["township"],
        "department": None,
        "grids": ["ap-d1-t1"],
        "email": None,
        "active": True,
    }


def test_the_costs_come_from_config_and_the_environment(tmp_path, monkeypatch):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("security:\n  password_hash: {time_cost: 4, memory_cost: 4096}\n")
    monkeypatch.delenv("HAZARDFLOW_PASSWORD_HASH", raising=False)
    config = load_config(config_file)
    assert (config.password_time_cost, config.password_memory_cost) == (4, 4096)
    assert config.password_parallelism == 4  # the default
    monkeypatch.setenv("HAZARDFLOW_PASSWORD_HASH", "{memory_cost: 2048, parallelism: 2}")
    config = load_config(config_file)
    assert config.password_time_cost == 4
    assert (config.password_memory_cost, config.password_parallelism) == (2048, 2)


def test_the_engine_does_not_import_werkzeug_or_flask():
    for path in ENGINE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"werkzeug", "flask"}, f"{path}: {name}"
    # and nothing the engine imports brings them in either
    check = "import sys, engine.facade; print(sorted(m for m in sys.modules if 'werkzeug' in m))"
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=Path(PROJECT_ROOT)
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_a_person_changes_their_own_password_and_it_is_on_their_audit_chain(bare_engine):
    from engine import FormInvalid
    from engine.models import AuditEvent

    before = stored_hash(bare_engine, "dept_yjj")
    with pytest.raises(FormInvalid) as refused:
        bare_engine.change_password("dept_yjj", "wrong", "short")
    assert refused.value.reasons["current_password"].code == "wrong_password"
    assert refused.value.reasons["new_password"].code == "password_too_short"
    assert refused.value.reasons["new_password"].params == {"limit": 10}
    assert stored_hash(bare_engine, "dept_yjj") == before  # nothing changed

    bare_engine.change_password("dept_yjj", "hazard2026", "a longer secret")
    assert bare_engine.sign_in("dept_yjj", "hazard2026") is None
    assert bare_engine.sign_in("dept_yjj", "a longer secret") is not None
    with bare_engine.db.reading() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.chain == "user:dept_yjj"))
        assert [(e.actor, e.action, e.changes) for e in events] == [
            ("dept_yjj", "password_changed", None)
        ]
    assert bare_engine.verify_audit().ok


def test_a_user_with_the_longest_name_changes_their_password(engine):
    """Their audit chain ("user:" and 80 characters) fits on both databases."""
    name = "u" * 80
    engine.add_user(name, roles=["grid_member"], password="first-pass-2026")
    engine.change_password(name, "first-pass-2026", "second-pass-2026")
    assert engine.password_is(name, "second-pass-2026")
    engine.deactivate_user(name)
