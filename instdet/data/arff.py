"""Tolerant ARFF reading for AAM's annotation files.

AAM's ``beatinfo.arff`` files have no ``@DATA`` line, which strict parsers (liac-arff
included) reject; the missing line is restored before parsing.
"""

from __future__ import annotations

import os
import re

import arff

from instdet.audio import regular_file
from instdet.errors import InstdetError

_DATA_LINE = re.compile(r"^\s*@data\s*$", re.IGNORECASE | re.MULTILINE)
_ATTR_LINE = re.compile(r"^\s*@attribute\b.*$", re.IGNORECASE | re.MULTILINE)


def read_arff(path: str | os.PathLike) -> tuple[list[str], list[list]]:
    """Read an ARFF file into ``(attribute_names, rows)``.

    Raises
    ------
    InstdetError
        Missing or not a regular file, or text that is not ARFF even after restoring a
        missing ``@DATA`` line.
    """
    path = regular_file(path, what="ARFF file")  # a named pipe would block read_text
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InstdetError(f"{path}: cannot read ({exc.strerror})") from None
    if not _DATA_LINE.search(text):
        attrs = list(_ATTR_LINE.finditer(text))
        if not attrs:
            raise InstdetError(f"{path.name}: not an ARFF file (no @ATTRIBUTE line)")
        end = attrs[-1].end()
        text = text[:end] + "\n@DATA\n" + text[end:]
    try:
        parsed = arff.loads(text)
    except Exception as exc:
        raise InstdetError(f"{path.name}: malformed ARFF ({str(exc).strip()[:120]})") from None
    names = [a[0] for a in parsed["attributes"]]
    return names, parsed["data"]
