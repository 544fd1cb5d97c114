"""Streamed CSV and XLSX exports: rows are fetched in batches and written as they come."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from lms.extensions import db

BATCH = 1000


def stream_rows(stmt: Select, batch: int = BATCH) -> Iterator[Any]:
    """Rows of ``stmt`` fetched ``batch`` at a time (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(stmt.execution_options(yield_per=batch, stream_results=True))
    try:
        yield from result
    finally:
        result.close()


def _csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas in text cells (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text in chunks of about 64 KB; memory stays constant whatever the number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_safe(v) for v in header])  # headers can hold authored titles too
    for row in rows:
        writer.writerow([_csv_safe(v) if isinstance(v, str) else v for v in row])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed ``text/csv`` download."""
    return Response(
        stream_with_context(csv_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def xlsx_response(
    filename: str,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: dict[int, str] | None = None,
    widths: Sequence[float] | None = None,
) -> Response:
    """An XLSX download written with openpyxl's write-only mode (rows are not kept in memory).

    The header row is bold and frozen (it stays while scrolling); columns get ``widths`` (in
    characters; by default wide enough for the header), since rows are streamed unmeasured."""
    # Imported here: openpyxl is heavy and only the exports need it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    _write_header(ws, header, widths)
    formats = formats or {}
    for row in rows:
        ws.append([_xlsx_cell(ws, WriteOnlyCell, i, v, formats) for i, v in enumerate(row)])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (closed by chunks)
    wb.save(spool)
    spool.seek(0)

    def chunks(read: Callable[[int], bytes] = spool.read) -> Iterator[bytes]:
        """Stream the spooled workbook in 64 KiB pieces, then discard it."""
        try:
            while data := read(65536):
                yield data
        finally:
            spool.close()

    return Response(
        chunks(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _write_header(ws, header: Sequence[str], widths: Sequence[float] | None) -> None:
    """A bold, frozen header row and the column widths (rows are streamed unmeasured)."""
    from openpyxl.cell import WriteOnlyCell  # imported here: see xlsx_response
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    for i, name in enumerate(header):
        width = widths[i] if widths and i < len(widths) else max(len(str(name)) + 4, 12)
        ws.column_dimensions[get_column_letter(i + 1)].width = width
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        head.append(cell)
    ws.append(head)


def _xlsx_cell(ws, cell_type, index: int, value: Any, formats: dict[int, str]) -> Any:
    """One value as written: with its number format, or text that can never become a formula."""
    if index in formats and value is not None:
        cell = cell_type(ws, value=value)
        cell.number_format = formats[index]
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores any text starting with "=" as a formula: an employee named
        # =HYPERLINK(...) would become a live formula in HR's workbook. Keep it text.
        cell = cell_type(ws, value=value)
        cell.data_type = "s"
        return cell
    return value
