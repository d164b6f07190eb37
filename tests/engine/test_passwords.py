"""Password hashes: Argon2id, and werkzeug's older hashes still verify without werkzeug."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from engine.config import load_config
from engine.passwords import Passwords


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
