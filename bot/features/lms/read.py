"""Streaming the rows out of an export file: CSV in any common encoding, or ``.xlsx``.

Nothing here holds the whole file: a 1M-row export is read record by record. The encoding is
taken from a byte-order mark when there is one (Excel's "Unicode text" is UTF-16 with a BOM and
tab-separated), otherwise detected by charset-normalizer on the first 64 KiB; the delimiter is
sniffed from the header line.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from charset_normalizer import from_bytes

logger = logging.getLogger(__name__)

SAMPLE = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
CHAOS_TIE = 0.1
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class Unreadable(Exception):
    """The file is not a CSV or .xlsx export we can read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Record:
    """One data row: its line number in the file (1 = the header) and its cells as text."""

    line: int
    cells: list[str]
    error: str = ""


@dataclass(slots=True)
class Table:
    header: list[str]
    records: Iterator[Record]
    encoding: str
    size: int
    """Bytes in the file, for progress (``position`` says how far reading has got)."""
    stream: BinaryIO

    def position(self) -> int:
        try:
            return self.stream.tell()
        except (OSError, ValueError):
            return 0


def detect_encoding(sample: bytes) -> str:
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a multi-byte character cut at the end is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return "cp1252"
    # On a short sample many single-byte code pages decode equally well; Excel on Windows in the
    # Americas, Africa and Western Europe writes cp1252, so it wins a near tie.
    western = next((match for match in matches if match.encoding == "cp1252"), None)
    if western is not None and western.chaos <= best.chaos + CHAOS_TIE:
        return "cp1252"
    return best.encoding


def open_table(stream: BinaryIO, name: str) -> Table:
    """Open an export (a binary stream positioned at its start) for streaming."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    sample = stream.read(SAMPLE)
    stream.seek(0)
    if not sample.strip():
        raise Unreadable(f"{name} is empty")
    if sample.startswith(XLSX_MAGIC) or name.lower().endswith((".xlsx", ".xlsm")):
        return _open_xlsx(stream, name, size)
    encoding = detect_encoding(sample)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="", errors="strict")
    try:
        first = text.readline()
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{name}: line 1 is not {encoding} text ({exc.reason})") from None
    dialect = _dialect(first)
    header = next(csv.reader([first], dialect=dialect), [])
    return Table(
        [cell.strip() for cell in header], _csv_records(text, dialect, encoding), encoding, size, stream
    )


def _dialect(first_line: str) -> type[csv.Dialect] | csv.Dialect:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=lambda key: counts[key])
    if counts[delimiter] == 0:
        return csv.excel

    class Sniffed(csv.excel):
        pass

    Sniffed.delimiter = delimiter
    return Sniffed


def _csv_records(
    text: io.TextIOWrapper, dialect: type[csv.Dialect] | csv.Dialect, encoding: str
) -> Iterator[Record]:
    reader = csv.reader(text, dialect=dialect)
    offset = 1  # the header line was read before the reader started
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(reader.line_num + offset, [], _csv_problem(str(exc)))
            continue
        except UnicodeDecodeError as exc:
            yield Record(
                reader.line_num + offset + 1, [], f"not {encoding} text ({exc.reason}); save it as UTF-8"
            )
            return
        if "\x00" in "\x1f".join(cells):
            yield Record(reader.line_num + offset, [], _csv_problem("line contains NUL"))
            continue
        yield Record(reader.line_num + offset, cells)


def _csv_problem(error: str) -> str:
    if "NUL" in error:
        return "contains a NUL character (a byte 0): the file may be damaged or not a CSV export"
    return f"cannot be read as CSV ({error})"


def _open_xlsx(stream: BinaryIO, name: str, size: int) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise Unreadable(f"{name} is not a readable .xlsx workbook ({exc}); export it again") from None
    sheet = workbook.active
    if sheet is None:
        raise Unreadable(f"{name} has no worksheet")
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(value).strip() for value in next(rows, ())]
    return Table(header, _xlsx_records(rows), "xlsx", size, stream)


def _xlsx_records(rows: Iterator[tuple[object, ...]]) -> Iterator[Record]:
    for number, values in enumerate(rows, start=2):
        yield Record(number, [_cell(value) for value in values])


def _cell(value: object) -> str:
    """Excel cells come typed: dates as datetimes, numbers as floats (``12.0`` -> ``"12"``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
