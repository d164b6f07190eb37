"""The real server and its people (tests/web/conftest.py), for attacks tried over HTTP."""

from tests.web.conftest import server, token_for, web_user  # noqa: F401
