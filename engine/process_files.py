"""Process files that come from outside the processes folder, and go back to one: uploaded
files (one by one, or in a zip) named as a deployment names them, each checked before
anything parses it; and a deployment's files as a zip or written to a folder."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .definitions import SourceFile, kind_of
from .errors import DeployRefused, Problem
from .texts import TRANSLATIONS_DIR
from .wording import Wording, wording

MAX_FILES = 500
MAX_BYTES = 20 * 1024 * 1024  # every file of one upload together, unpacked
LANGUAGE = re.compile(r"[a-z]{2,3}([_-][A-Za-z]{2,4})?")  # en, zh_TW: a translations file
KINDS = "BPMN (.bpmn), DMN (.dmn), forms/*.json, calendar.yaml, translations/<language>.yaml"


def _name(raw: str) -> str | None:
    """The name a file has in a deployment, from the name it was sent with; None for one that
    reaches out of the deployment (absolute, `..`)."""
    path = PurePosixPath(raw.replace("\\", "/").lstrip("/"))
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts or ".." in parts or ":" in parts[0]:
        return None
    name = PurePosixPath(*parts)
    if len(parts) == 1:  # a single file sent without its folder: where its kind lives
        if name.suffix == ".json":
            name = PurePosixPath("forms", name)
        elif name.suffix == ".yaml" and LANGUAGE.fullmatch(name.stem):
            name = PurePosixPath(TRANSLATIONS_DIR, name)
    return name.as_posix()


def _ignored(name: str) -> bool:
    """What archivers add besides the files: macOS's resource forks, hidden files."""
    parts = PurePosixPath(name).parts
    hidden = (p for p in parts if p not in (".", ".."))
    return parts[0] == "__MACOSX" or any(p.startswith(".") for p in hidden)


def _too_many() -> Wording:
    return wording("more than %(files)s files or %(bytes)s bytes", files=MAX_FILES, bytes=MAX_BYTES)


def _unzipped(data: bytes, problems: list[Problem], label: str) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [i for i in archive.infolist() if not i.is_dir() and not _ignored(i.filename)]
        if len(entries) > MAX_FILES or sum(i.file_size for i in entries) > MAX_BYTES:
            problems.append(Problem(label, None, _too_many()))
            return []
        found = [(i.filename, archive.read(i)) for i in entries]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        problems.append(
            Problem(label, None, wording("not a readable zip file: %(error)s", error=str(exc)))
        )
        return []
    # a zip of a folder: its files are named within the folder
    tops = {PurePosixPath(name).parts[0] for name, _ in found}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n, _ in found):
        top = tops.pop()
        if top not in ("forms", TRANSLATIONS_DIR):
            found = [(name[len(top) + 1 :], content) for name, content in found]
    return found


def uploaded_sources(
    uploads: Iterable[tuple[str, bytes]], left_out: list[Problem] | None = None
) -> list[SourceFile]:
    """The deployment's files from uploaded ones (a zip is unpacked), or DeployRefused naming
    every file that cannot be one: a name out of the deployment, text that is not UTF-8, too
    many or too large. A file of no process kind (a README) is left out, as deploying a folder
    leaves it out, with a warning in `left_out`."""
    problems: list[Problem] = []
    files: list[tuple[str, bytes]] = []
    for raw, data in uploads:
        if raw.lower().endswith(".zip"):
            files.extend(_unzipped(data, problems, raw))
        elif not _ignored(raw):
            files.append((raw, data))
    if len(files) > MAX_FILES or sum(len(d) for _, d in files) > MAX_BYTES:
        raise DeployRefused([Problem("", None, _too_many())])
    found: dict[str, SourceFile] = {}
    for raw, data in files:
        name = _name(raw)
        if name is None:
            problems.append(Problem(raw, None, wording("a file name may not leave its folder")))
            continue
        kind = kind_of(Path(name))
        if kind is None:
            if left_out is not None:
                said = wording("left out: not a process file (these are %(kinds)s)", kinds=KINDS)
                left_out.append(Problem(name, None, said, "warning"))
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(name, None, wording("not UTF-8 text")))
            continue
        if name in found:
            problems.append(Problem(name, None, wording("sent twice")))
        found[name] = SourceFile(name, kind, text)
    if not found and not problems:
        problems.append(Problem("", None, wording("no file was sent")))
    if problems:
        raise DeployRefused(problems)
    return list(found.values())


def overlaid(base: list[SourceFile], changed: list[SourceFile]) -> list[SourceFile]:
    """A deployment's files with some of them replaced or added."""
    files = {s.name: s for s in base}
    files.update((s.name, s) for s in changed)
    return sorted(files.values(), key=lambda s: s.name)


def zip_of(sources: Iterable[SourceFile]) -> bytes:
    """The files as a zip, named as in the deployment (what `uploaded_sources` reads back)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted(sources, key=lambda s: s.name):
            archive.writestr(source.name, source.content.encode("utf-8"))
    return buffer.getvalue()


def write_folder(sources: Iterable[SourceFile], folder: Path) -> list[str]:
    """Write the files into `folder` (replacing those of the same names), exactly as deployed,
    so that deploying the folder again changes nothing; returns the process files already in
    the folder that are not among them (deploying the folder would deploy those too)."""
    names = set()
    for source in sources:
        path = folder / source.name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(source.content)
        names.add(source.name)
    strays = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and kind_of(Path(name)) and name not in names:
            strays.append(name)
    return strays
