"""Every string the pages show is in the Chinese catalog, the engine's worded findings too:
none left untranslated or fuzzy."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from engine.config import PROJECT_ROOT

WEBUI = PROJECT_ROOT / "webui"
ENGINE = PROJECT_ROOT / "engine"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def test_every_ui_string_has_its_chinese():
    with open(WEBUI / "translations" / "zh" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    keywords = {
        "_": None,
        "gettext": None,
        "_l": None,
        "lazy_gettext": None,
        "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2),  # a word that reads otherwise elsewhere ("Cases": 案件数)
    }
    used = {
        (message if isinstance(message, str) else message[0], context)
        for folder, methods, words in (
            (WEBUI, METHODS, keywords),
            (ENGINE, [("**.py", "python")], {"wording": None}),  # findings (engine/wording.py)
        )
        for _file, _line, message, _comments, context in extract_from_dir(
            str(folder), methods, keywords=words
        )
    }

    def translated(message: str, context: str | None) -> bool:
        found = catalog.get(message, context=context)
        return bool(
            found and all(found.string if isinstance(found.string, tuple) else [found.string])
        )

    missing = sorted(m for m, context in used if not translated(m, context))
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert missing == [], f"run `make translations` and translate: {missing}"
    assert fuzzy == [], f"check these translations and drop the fuzzy flag: {fuzzy}"
