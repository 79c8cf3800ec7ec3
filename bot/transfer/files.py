"""Reading and writing the files: CSV (comma, semicolon or tab separated), JSON (a list, or an
object with `items`) and JSON Lines, chosen by extension or, failing that, by content."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.i18n import N_
from bot.transfer.problems import ImportFailed, Problem

REQUIRED = ("ref", "kind", "organization", "title", "description")
EXPORT_COLUMNS = (
    "ref", "kind", "organization", "title", "description", "topics", "language", "status",
    "contact", "city", "country", "format", "available_until",
)  # fmt: skip
_ALIASES = {"organisation": "organization", "org": "organization", "type": "kind"}
# A CSV cell starting like a formula runs as one when a spreadsheet opens the export (CSV injection),
# and a spreadsheet that splits on ";" or "," starts a new cell after each: every such part whose
# first visible character could start a formula (after spaces and invisible characters such as a
# zero-width space) gets an apostrophe. Parts already starting with one get another, so import can
# take exactly one off every part that starts with it and give back what was exported.
_FORMULA_START = frozenset("=+-@\t\r")
_PARTS = re.compile(r"([;,])")


@dataclass(frozen=True, slots=True)
class Record:
    """A row as read from the file, before any checking."""

    line: int
    values: dict[str, Any]


def read_records(path: Path) -> list[Record]:
    """The rows of a CSV, JSON or JSON Lines file, chosen by extension or, failing that, content."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([Problem(N_("transfer.problem_encoding"))]) from exc
    return parse_text(text, kind=_kind_of(path, text))


def parse_text(text: str, *, kind: str) -> list[Record]:
    records = {"json": _json_records, "jsonl": _jsonl_records, "csv": _csv_records}[kind](text)
    if not records:
        raise ImportFailed([Problem(N_("transfer.problem_no_items"))])
    return records


def _kind_of(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix in {".json", ".jsonl", ".ndjson"}:
        return "jsonl" if suffix != ".json" else "json"
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return "jsonl"  # several objects, one per line
        return "json" if isinstance(document, dict) and "items" in document else "jsonl"
    return "csv"


def _csv_records(text: str) -> list[Record]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)  # European spreadsheets export with `;`
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    header: list[str] | None = None
    header_line = end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num  # a quoted newline spans several lines
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [_column(cell) for cell in cells], start
                continue
            records.append(Record(start, dict(zip(header, map(_from_csv_cell, cells), strict=False))))
    except csv.Error as exc:
        raise ImportFailed([Problem(N_("transfer.problem_csv"), line=reader.line_num)]) from exc
    if header is not None:
        _check_header(header, header_line)
    return records


def _check_header(header: list[str], line: int) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFailed([Problem(N_("transfer.problem_missing_column"), line, name) for name in missing])


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return _ALIASES.get(key, key)


def _jsonl_records(text: str) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFailed([Problem(N_("transfer.problem_json"), line=number)]) from exc
        records.append(_json_record(number, item))
    return records


def _json_records(text: str) -> list[Record]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([Problem(N_("transfer.problem_json"), line=exc.lineno)]) from exc
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ImportFailed([Problem(N_("transfer.problem_json_shape"), line=1)])
    lines = _item_lines(text)
    return [_json_record(lines[index], item) for index, item in enumerate(items)]


def _json_record(line: int, item: Any) -> Record:
    if not isinstance(item, dict):
        raise ImportFailed([Problem(N_("transfer.problem_not_object"), line=line)])
    return Record(line, {_column(str(key)): value for key, value in item.items()})


def _item_lines(text: str) -> list[int]:
    """The line each item of the posts array starts on, so a problem names a line in any format."""
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    if text[position] == "{":
        position = _array_in_object(text, position, decoder)
    position = _skip(text, position + 1)  # past `[`
    lines: list[int] = []
    while text[position] != "]":
        lines.append(text.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(text, position)
        position = _skip(text, position)
        if text[position] == ",":
            position = _skip(text, position + 1)
    return lines


def _array_in_object(text: str, position: int, decoder: json.JSONDecoder) -> int:
    """Where the `items` array of the top-level object begins (the text is valid JSON)."""
    position = _skip(text, position + 1)
    while True:
        key, position = decoder.raw_decode(text, position)
        position = _skip(text, _skip(text, position) + 1)  # past `:`
        if key == "items":
            return position
        _, position = decoder.raw_decode(text, position)
        position = _skip(text, _skip(text, position) + 1)  # past `,`


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def write_json(rows: Sequence[dict[str, Any]], stream: TextIO) -> None:
    json.dump(list(rows), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def write_csv(rows: Sequence[dict[str, Any]], stream: TextIO) -> None:
    """RFC 4180 quoting keeps commas, quotes and newlines inside their cells."""
    writer = csv.DictWriter(stream, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        cells = {**row, "topics": ";".join(row["topics"])}
        writer.writerow({name: _to_csv_cell(value) for name, value in cells.items()})


def _first_visible(part: str) -> str:
    for char in part:
        if char in _FORMULA_START:
            return char
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return char
    return ""


def _neutral(part: str) -> str:
    return "'" + part if part.startswith("'") or _first_visible(part) in _FORMULA_START else part


def _to_csv_cell(value: str) -> str:
    return "".join(_neutral(part) for part in _PARTS.split(value))


def _from_csv_cell(value: str) -> str:
    return "".join(part[1:] if part.startswith("'") else part for part in _PARTS.split(value))
