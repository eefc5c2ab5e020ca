"""Import and export of the registries as CSV or XLSX.

An import reads the whole file, checks every row (the same cleaning as a single write),
and either writes all rows in one transaction or none, returning a report of every
problem as (row, column, value, problem). Duplicates of a stored record or of an earlier
row of the same file are problems too: they are shown, never written twice.

An export goes through the caller's scope, masks personal fields unless the caller may
reveal them and states a purpose, and writes one access-log row either way.
"""

from __future__ import annotations

import csv
import io
import operator
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from civicgrid.core import limits
from civicgrid.core.bulk import collector_paused, insert_objects, insert_rows, insert_values
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.people.models import AccessLog, User
from civicgrid.people.privacy import Channel, mask, personal_data_read_each, personal_fields
from civicgrid.registry import cleaning, columns, selectors, services
from civicgrid.registry.models import (
    House,
    LegalPerson,
    Licence,
    Person,
    RecordChange,
    Site,
    UrbanComponent,
)

KINDS = tuple(columns.COLUMNS)
MODELS: dict[str, type[models.Model]] = {
    "houses": House,
    "persons": Person,
    "legal-persons": LegalPerson,
    "components": UrbanComponent,
    "sites": Site,
}
# The column whose value identifies a record: a repeat is a duplicate.
NATURAL_KEYS = {
    "houses": "code",
    "persons": "id_number",
    "legal-persons": "credit_code",
    "components": "identifier",
    "sites": "code",
}
BATCH = 2000


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based line of the file; the header is row 1
    column: str
    value: str
    problem: str
    duplicate: bool = False


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    dry_run: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def duplicates(self) -> list[RowProblem]:
        return [p for p in self.problems if p.duplicate]

    def lines(self, limit: int | None = None) -> list[str]:
        shown = self.problems if limit is None else self.problems[:limit]
        return [
            f"{_('row')} {p.row}\t{p.column}\t{p.value!s}\t{p.problem}"
            + (f"\t[{_('duplicate')}]" if p.duplicate else "")
            for p in shown
        ]


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in {".csv", ".xlsx"}:
        return suffix[1:]
    raise ValidationFailed(_("Use a .csv or .xlsx file."), field="file")


# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): on export it is
# written with a leading apostrophe, which spreadsheets show as text; on import that
# apostrophe is taken off again, so an exported file imports to the values it came from.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A text cell that could start a formula, prefixed with an apostrophe; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored(value: Any) -> Any:
    """The inverse of ``neutralised`` for a value read back from an imported file."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _check_xlsx(stream: IO[bytes]) -> None:
    """Refuse a file that is no zip, or unpacks to more than the limit, before parsing it.

    An XLSX is a zip of XML files; a few MB can unpack to gigabytes of XML. The sizes come
    from the zip's directory, so nothing is unpacked to learn them (a lying directory is
    caught by the zip reader, which stops at the declared size).
    """
    limit = limits.import_max_unpacked_bytes()
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ValidationFailed(
            _("The file is not a valid XLSX workbook (an XLSX file is a zip archive)."),
            field="file",
        ) from None
    finally:
        stream.seek(0)
    if unpacked > limit:
        raise ValidationFailed(
            _(
                "The workbook unpacks to %(size)s MB, more than the %(max)s MB accepted. "
                "Split it, or import it as CSV."
            )
            % {"size": limits.megabytes(unpacked), "max": limits.megabytes(limit)},
            field="file",
        )


def _check_size(stream: IO[bytes]) -> None:
    limit = limits.import_max_bytes()
    try:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
    except (OSError, ValueError):
        return  # not seekable: the row cap still bounds the work
    if size > limit:
        raise ValidationFailed(
            _("The file is larger than %(mb)s MB. Split it into several imports.")
            % {"mb": limits.megabytes(limit)},
            field="file",
        )


def read_rows(stream: IO[bytes], name: str) -> Iterator[list[Any]]:
    """The rows of the first sheet (XLSX) or of the file (CSV, UTF-8 with or without BOM).

    Rows are read one at a time (openpyxl's read-only mode, the csv reader over a text
    wrapper), never the whole file at once.
    """
    fmt = file_format(name)
    _check_size(stream)
    if fmt == "xlsx":
        from openpyxl import load_workbook

        _check_xlsx(stream)
        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError):
            raise ValidationFailed(
                _("The file is not a valid XLSX workbook (an XLSX file is a zip archive)."),
                field="file",
            ) from None
        try:
            if not book.worksheets:
                return
            for row in book.worksheets[0].iter_rows(values_only=True):
                yield ["" if cell is None else restored(cell) for cell in row]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError, EOFError):
            # A broken sheet (XML parse errors are SyntaxErrors) or a corrupt zip entry.
            raise ValidationFailed(
                _("The file is not a valid XLSX workbook (an XLSX file is a zip archive)."),
                field="file",
            ) from None
        finally:
            book.close()
        return
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            yield [restored(cell) if cell[:1] == "'" else cell for cell in row]
    except UnicodeDecodeError:
        raise ValidationFailed(_("The CSV file is not UTF-8 text."), field="file") from None
    except csv.Error as exc:
        raise ValidationFailed(
            _("The CSV file cannot be read: %(problem)s") % {"problem": exc}, field="file"
        ) from None
    finally:
        text.detach()


def _normal(text: Any) -> str:
    return " ".join(str(text or "").split()).lower()


def _header_map(kind: str, header: list[Any]) -> tuple[dict[int, columns.Column], list[RowProblem]]:
    by_name: dict[str, columns.Column] = {}
    for column in columns.COLUMNS[kind]:
        for alias in (column.name, column.zh, column.en, column.header):
            by_name[_normal(alias)] = column
    mapping: dict[int, columns.Column] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(header):
        if not _normal(cell):
            continue
        found = by_name.get(_normal(cell))
        if found is None:
            problems.append(RowProblem(1, str(cell), "", _("Unknown column.")))
        elif not found.export_only:
            mapping[index] = found
    present = {c.name for c in mapping.values()}
    for column in columns.COLUMNS[kind]:
        if column.required and column.name not in present:
            problems.append(RowProblem(1, column.header, "", _("Required column missing.")))
    return mapping, problems


def registry_import(
    *,
    kind: str,
    stream: IO[bytes],
    name: str,
    actor: User | None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    written: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check every row, then write all of them or none. ``actor=None`` is the system.

    ``progress`` hears (rows checked, rows) while checking; ``written`` hears (records
    written, records) inside the write's transaction, after each batch.
    """
    if kind not in KINDS:
        raise ValidationFailed(_("Unknown registry %(kind)s.") % {"kind": kind}, field="kind")
    services.require_write_rights(actor)
    with collector_paused():
        return _import(kind, stream, name, actor, dry_run, progress, written)


def _import(
    kind: str,
    stream: IO[bytes],
    name: str,
    actor: User | None,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    written: Callable[[int, int], None] | None,
) -> ImportReport:
    report = ImportReport(kind=kind, dry_run=dry_run)
    rows = iter(read_rows(stream, name))
    header = next(rows, None)
    if header is None:
        report.problems.append(RowProblem(1, "", "", _("The file is empty.")))
        return report
    mapping, report.problems = _header_map(kind, header)
    if report.problems:
        return report
    by_field = {c.name: c for c in columns.COLUMNS[kind]}
    max_rows = limits.import_max_rows()
    raw_rows: list[tuple[int, dict[str, Any]]] = []
    cells = [(i, column.name) for i, column in mapping.items()]
    names = [name for _i, name in cells]
    # A full row is read by one call (a tuple of its cells); a short one cell by cell.
    full = max(mapping, default=-1) + 1
    read = operator.itemgetter(*mapping) if len(mapping) > 1 else lambda r: [r[i] for i in mapping]
    for number, row in enumerate(rows, start=2):
        if not "".join(map(str, row)).strip():  # nothing but blanks
            continue
        if len(raw_rows) >= max_rows:
            raise ValidationFailed(
                _("The file has more than %(rows)s rows. Split it into several imports.")
                % {"rows": max_rows},
                field="file",
            )
        if len(row) >= full:
            raw_rows.append((number, dict(zip(names, read(row), strict=True))))
        else:
            width = len(row)
            raw_rows.append((number, {name: row[i] if i < width else "" for i, name in cells}))
    report.rows = len(raw_rows)
    lookups = cleaning.Lookups(preload=True)
    key = NATURAL_KEYS[kind]
    if kind == "persons":
        # Stored numbers are upper case, resident ID numbers without spaces; every kind of
        # document shares one lookup.
        numbers = {str(raw.get(key) or "").strip().upper() for _n, raw in raw_rows}
        lookups.preload_persons(numbers | {n.replace(" ", "") for n in numbers if " " in n})
    if kind == "components":
        lookups.preload_components(str(raw.get(key) or "").strip() for _n, raw in raw_rows)
    writable = None if actor is None else selectors.writable_grid_ids(actor)
    clean = cleaning.CLEANERS[kind]
    seen: dict[Any, int] = {}
    checked: list[cleaning.Cleaned] = []
    for done, (number, raw) in enumerate(raw_rows, start=1):
        cleaned = clean(raw, lookups=lookups)
        for field_name, message in cleaned.problems:
            column = by_field.get(field_name)
            report.problems.append(
                RowProblem(
                    number,
                    column.header if column else field_name,
                    str(raw.get(field_name, "")),
                    message,
                    duplicate=field_name in cleaned.duplicate_of,
                )
            )
        identity = _identity(kind, cleaned)
        if identity is not None:
            if identity in seen:
                report.problems.append(
                    RowProblem(
                        number,
                        by_field[key].header,
                        str(raw.get(key, "")),
                        _("Same as row %(row)d of this file.") % {"row": seen[identity]},
                        duplicate=True,
                    )
                )
            else:
                seen[identity] = number
        if writable is not None and cleaned.grid_id is not None and cleaned.grid_id not in writable:
            report.problems.append(
                RowProblem(number, "", "", _("This record would lie outside your grids."))
            )
        checked.append(cleaned)
        if progress is not None and (done % 5000 == 0 or done == len(raw_rows)):
            progress(done, len(raw_rows))
    if report.problems or dry_run:
        return report
    report.created = _write(kind, checked, actor, written)
    return report


def _identity(kind: str, cleaned: cleaning.Cleaned) -> Any:
    values = cleaned.values
    if kind == "persons":
        number = values.get("id_number")
        return (values.get("document_type"), number) if number else None
    return values.get(NATURAL_KEYS[kind]) or None


@transaction.atomic
def _write(
    kind: str,
    rows: list[cleaning.Cleaned],
    actor: User | None,
    written: Callable[[int, int], None] | None = None,
) -> int:
    """Insert the checked records, then one history row each, as plain tuples."""
    model: Any = MODELS[kind]
    records: list[dict[str, Any]] = []
    for cleaned in rows:
        if kind in {"houses", "components", "sites"}:
            records.append({**cleaned.values, "grid_id": cleaned.grid_id})
        else:
            records.append(cleaned.values)
    ids = insert_rows(model, records, batch=BATCH, after_batch=written)
    if kind == "legal-persons":
        licences = [
            Licence(legal_person_id=pk, **entry)
            for pk, cleaned in zip(ids, rows, strict=True)
            for entry in cleaned.extra.get("licences", [])
        ]
        insert_objects(Licence, licences, batch=BATCH)
    changes = services.created_changes_json(model)
    label = model._meta.label
    actor_id = actor.pk if actor is not None else None
    action = RecordChange.Action.IMPORT.value
    history = [
        {"record_id": pk, "changes": changes(values)}
        for pk, values in zip(ids, records, strict=True)
    ]
    same = {"model": label, "action": action, "actor_id": actor_id}
    insert_values(RecordChange, history, batch=BATCH, same=same)
    return len(records)


# ---- export -----------------------------------------------------------------------------


def _cells(kind: str, obj: Any, values: dict[str, Any] | None) -> list[Any]:
    """One record as the export's cells; ``values`` are the revealed personal fields."""
    personal = personal_fields(obj)
    cells: list[Any] = []
    for column in columns.COLUMNS[kind]:
        name = column.name
        if name == "crs":
            value: Any = "wgs84"
        elif name == "grid":
            value = obj.grid.code if hasattr(obj, "grid") else ""
        elif name == "house":
            value = obj.house.code
        elif name == "employer":
            value = obj.employer.credit_code if obj.employer_id else ""
        elif name == "licences":
            value = columns.format_licences(
                [
                    {
                        "kind": x.kind,
                        "number": x.number,
                        "issuer": x.issuer,
                        "expires_on": x.expires_on,
                    }
                    for x in obj.licences.all()
                ]
            )
        elif name in {"owner_department", "maintenance_department"}:
            department = getattr(obj, name)
            value = department.code if department else ""
        elif name in personal:
            value = values[name] if values is not None else mask(personal[name], getattr(obj, name))
        else:
            value = getattr(obj, name)
        if isinstance(value, bool):
            value = 1 if value else 0
        cells.append("" if value is None else neutralised(value))
    return cells


def export_queryset(kind: str, actor: User) -> models.QuerySet[Any]:
    qs = selectors.records_for(kind, actor)
    if kind == "persons":
        qs = qs.select_related("house", "employer")
    if kind == "legal-persons":
        qs = qs.select_related("house")
    return qs


def registry_export(
    *,
    kind: str,
    actor: User,
    out: IO[bytes],
    fmt: str,
    purpose: str = "",
    unmasked: bool = False,
    records: Iterable[Any] | None = None,
) -> int:
    """Write the registry in the actor's scope; one access-log row per record written (per
    person, house or legal person), in one bulk insert.

    ``records`` narrows the export to a filtered list the caller took from the selectors
    (in the actor's scope already); by default the whole registry in scope is written.
    """
    if kind not in KINDS:
        raise ValidationFailed(_("Unknown registry %(kind)s.") % {"kind": kind}, field="kind")
    records = list(export_queryset(kind, actor) if records is None else records)
    revealed: list[dict[str, Any]] | None = None
    model = MODELS[kind]
    if unmasked and personal_fields(model):
        if not selectors.can_reveal(actor):
            raise PermissionDenied(_("Your role may not see these personal data unmasked."))
        revealed = personal_data_read_each(
            actor=actor, records=records, purpose=purpose, channel=Channel.EXPORT
        )
    elif personal_fields(model):
        # Masked, but who is on the file is still read: one row per record written.
        personal_data_read_each(
            actor=actor,
            records=records,
            purpose=purpose or _("masked export"),
            channel=Channel.EXPORT,
            masked=True,
        )
    else:
        AccessLog.objects.create(
            actor=actor,
            model=model._meta.label,
            record_ids=[r.pk for r in records],
            fields=[],
            purpose=(purpose or _("masked export"))[:200],
            channel=str(Channel.EXPORT),
        )
    table = (
        _cells(kind, obj, None if revealed is None else revealed[i])
        for i, obj in enumerate(records)
    )
    write_table(out, fmt, [c.header for c in columns.COLUMNS[kind]], table, kind=kind)
    return len(records)


def write_table(
    out: IO[bytes], fmt: str, header: list[str], rows: Iterable[list[Any]], *, kind: str
) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(kind)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        notes = book.create_sheet(_("Notes"))
        notes.append([_("column"), _("accepted values")])
        for column in columns.COLUMNS[kind]:
            notes.append([column.header, _column_note(column)])
        book.save(out)
        return
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    text.flush()
    text.detach()


def _column_note(column: columns.Column) -> str:
    if column.export_only:
        return _("filled in on export; ignored on import")
    return _("required") if column.required else ""


def template(kind: str, fmt: str) -> bytes:
    """An empty file with the Chinese / English headers of a registry."""
    if kind not in KINDS:
        raise ValidationFailed(_("Unknown registry %(kind)s.") % {"kind": kind}, field="kind")
    buffer = io.BytesIO()
    header = [c.header for c in columns.COLUMNS[kind] if not c.export_only]
    write_table(buffer, fmt, header, [], kind=kind)
    return buffer.getvalue()
