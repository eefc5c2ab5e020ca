"""Activation refuses, naming every problem, what the manual forbids; import is an activation."""

import ast
import json
from pathlib import Path

import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import box, mapping

from civicgrid.geo.activation import (
    ActivationRefused,
    activation_plan,
    division_activate,
    division_reasons_set,
)
from civicgrid.geo.geojson import Feature
from civicgrid.geo.models import DivisionActivation, DivisionUnit, DivisionVersion, Grid
from civicgrid.geo.services import ImportRefused, boundaries_import, draft_unit_move
from civicgrid.geo.tests.test_divisions import SIDE, lattice_township  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def draft(township, rows):
    """A draft division of (village, households, polygon[, reason]) rows."""
    grids = [
        Feature(
            i + 1,
            {"village": row[0], "households": row[1], **({"reason": row[3]} if row[3:] else {})},
            row[2],
        )
        for i, row in enumerate(rows)
    ]
    return boundaries_import(
        township_code="441900123", township_name=None, villages=[], grids=grids, activate=False
    ).division


WHOLE = [
    ("001", 350, box(113.00, 23.00, 113.01, 23.02)),
    ("001", 420, box(113.01, 23.00, 113.02, 23.02)),
    ("002", 310, box(113.02, 23.00, 113.03, 23.02)),
    ("002", 480, box(113.03, 23.00, 113.04, 23.02)),
]


def active(township):
    return DivisionVersion.objects.get(township=township, status="active")


def test_activation_refuses_a_gap_an_overlap_and_an_unexplained_count_naming_each(township):
    before = active(township)
    bad = draft(
        township,
        [
            ("001", 350, box(113.00, 23.00, 113.009, 23.02)),  # a gap to its neighbour
            ("001", 420, box(113.01, 23.00, 113.02, 23.02)),
            ("002", 310, box(113.02, 23.00, 113.031, 23.02)),  # overlaps the next
            ("002", 520, box(113.03, 23.00, 113.04, 23.02)),  # above 500, no reason
        ],
    )
    with pytest.raises(ActivationRefused) as refused:
        division_activate(division=bad)
    problems = refused.value.problems
    assert len(problems) == 3
    assert "village 001 is covered by no grid" in problems[0]
    assert "grids 44190012300201 and 44190012300202 overlap" in problems[1]
    assert "grid 44190012300202 has 520 households, outside 300–500" in problems[2]
    assert all(p in refused.value.message for p in problems)
    assert active(township) == before
    bad.refresh_from_db()
    assert bad.status == "draft"
    assert not DivisionActivation.objects.filter(division=bad).exists()


def test_activation_refuses_a_grid_crossing_its_village(township):
    crossing = draft(
        township,
        [
            ("001", 350, box(113.00, 23.00, 113.01, 23.02)),
            ("001", 420, box(113.01, 23.00, 113.025, 23.02)),  # runs into village 002
            ("002", 310, box(113.025, 23.00, 113.03, 23.02)),
            ("002", 480, box(113.03, 23.00, 113.04, 23.02)),
        ],
    )
    problems = activation_plan(division=crossing).problems
    assert any("grid 44190012300102 extends" in p and "outside village 001" in p for p in problems)
    with pytest.raises(ActivationRefused):
        division_activate(division=crossing)


def test_activation_refuses_a_split_compound(township):
    clean = draft(township, WHOLE)
    school = ("school", box(113.008, 23.005, 113.012, 23.008))
    problems = activation_plan(division=clean, compounds=[school]).problems
    assert problems == ["compound school is split between grids 44190012300101, 44190012300102"]
    with pytest.raises(ActivationRefused):
        division_activate(division=clean, compounds=[school])
    assert activation_plan(division=clean).problems == []


def test_a_grid_out_of_range_goes_live_only_with_a_recorded_reason(township):
    lopsided = draft(
        township,
        [
            ("001", 250, box(113.00, 23.00, 113.01, 23.02)),
            ("001", 520, box(113.01, 23.00, 113.02, 23.02)),
            *WHOLE[2:],
        ],
    )
    problems = activation_plan(division=lopsided).problems
    assert [p.split(":")[0] for p in problems] == [
        "grid 44190012300101 has 250 households, outside 300–500",
        "grid 44190012300102 has 520 households, outside 300–500",
    ]
    division_reasons_set(division=lopsided, reasons={"44190012300101": "a new estate opens"})
    with pytest.raises(ActivationRefused) as refused:
        division_activate(division=lopsided)
    assert refused.value.problems == problems[1:]
    division_reasons_set(division=lopsided, reasons={"44190012300102": "one compound"})
    division_activate(division=lopsided)
    reasons = dict(Grid.objects.filter(division=lopsided).values_list("code", "range_reason"))
    assert reasons["44190012300101"] == "a new estate opens"
    assert reasons["44190012300102"] == "one compound"
    assert reasons["44190012300201"] == ""
    plan = DivisionActivation.objects.get(division=lopsided).plan
    assert {g["code"]: g["reason"] for g in plan["grids"]}["44190012300102"] == "one compound"


def test_reasons_name_only_grids_of_the_draft(township):
    clean = draft(township, WHOLE)
    with pytest.raises(Exception, match="no grid 44190012300199"):
        division_reasons_set(division=clean, reasons={"44190012300199": "x"})


def test_only_a_draft_is_activated(township):
    with pytest.raises(Exception, match="only a draft"):
        division_activate(division=active(township))


def write(path: Path, features) -> str:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": mapping(geom)}
                    for props, geom in features
                ],
            }
        )
    )
    return str(path)


def test_import_refuses_what_check_coverage_rejects_and_leaves_the_active_division(
    township, tmp_path
):
    before = active(township)
    grids = write(
        tmp_path / "grids.geojson",
        [
            ({"village": "001", "households": 350}, box(113.00, 23.00, 113.009, 23.02)),
            ({"village": "001", "households": 420}, box(113.01, 23.00, 113.025, 23.02)),
            ({"village": "002", "households": 310}, box(113.025, 23.00, 113.031, 23.02)),
            ({"village": "002", "households": 700}, box(113.03, 23.00, 113.04, 23.02)),
        ],
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_boundaries", township="441900123", grids=grids)
    text = str(refused.value)
    assert text.startswith("nothing imported:")
    assert "covered by no grid" in text  # the gap in village 001
    assert "extends" in text and "outside village 001" in text  # the crossing
    assert "overlap" in text  # 002's grids
    assert "700 households" in text  # out of range, no reason
    assert active(township) == before
    assert DivisionVersion.objects.count() == 1


def test_import_names_a_village_with_too_many_grids(township):
    strips = [
        Feature(i + 1, {"village": "001", "households": 350},
                box(113.0 + i * 0.0002, 23.0, 113.0 + (i + 1) * 0.0002, 23.02))
        for i in range(100)
    ]  # fmt: skip
    with pytest.raises(ImportRefused, match="split the village into communities"):
        boundaries_import(township_code="441900123", township_name=None, villages=[], grids=strips)


def test_import_accepts_the_output_of_divide_unchanged(lattice_township, tmp_path):  # noqa: F811
    units = write(
        tmp_path / "units.geojson",
        [
            (
                {"id": f"u{r}{c}", "village": "001", "households": 60},
                box(113.0 + c * SIDE, 23.0 + r * SIDE, 113.0 + (c + 1) * SIDE,
                    23.0 + (r + 1) * SIDE),
            )
            for r in range(4)
            for c in range(6)
        ],
    )  # fmt: skip
    out = tmp_path / "grids.geojson"
    call_command("divide", units, count_field="households", village_field="village", out=str(out))
    written = json.loads(out.read_text())["features"]
    assert {"village", "seq", "households", "units"} <= set(written[0]["properties"])
    call_command("import_boundaries", township="441900123", grids=str(out))
    live = Grid.objects.filter(division__status="active").order_by("sequence")
    assert [g.sequence for g in live] == sorted(int(f["properties"]["seq"]) for f in written)
    assert sum(g.households for g in live) == 1440
    assert {u for g in live for u in g.units} == {f"u{r}{c}" for r in range(4) for c in range(6)}


def a_legal_move(version: DivisionVersion) -> tuple[str, Grid, Grid]:
    """A unit on the edge of one grid whose move to a neighbour keeps both grids whole
    (the lattice township's draft; the browser test of the division page uses it too)."""
    shapes = {u.key: u.geometry for u in DivisionUnit.objects.all()}
    grids = list(Grid.objects.filter(division=version).order_by("sequence"))
    for source in grids:
        for key in source.units:
            rest = [shapes[k] for k in source.units if k != key]
            if not rest or shapely.union_all(rest).geom_type != "Polygon":
                continue
            for target in grids:
                if target.pk != source.pk and shapes[key].intersection(target.geometry).length:
                    return key, source, target
    raise AssertionError("the lattice always has a legal move")


def test_the_report_is_recomputed_after_every_move(lattice_township):  # noqa: F811
    from civicgrid.geo.services import division_draft_create

    draft_version = division_draft_create(township=lattice_township)
    key, source, target = a_legal_move(draft_version)
    result = draft_unit_move(division=draft_version, unit_key=key, to_grid_code=target.code)
    assert result.moved
    draft_version.refresh_from_db()
    report = draft_version.report["villages"]["001"]
    grids = list(Grid.objects.filter(division=draft_version))
    households = [g.households for g in grids]
    assert report["grids"] == len(grids)
    assert report["households"] == sum(households) == 1440
    assert report["grids_in_range"] == sum(300 <= h <= 500 for h in households)
    assert report["grids_below_min"] == sum(h < 300 for h in households)
    assert report["grids_above_max"] == sum(h > 500 for h in households)
    # Move it back: the report follows again.
    draft_unit_move(division=draft_version, unit_key=key, to_grid_code=source.code)
    draft_version.refresh_from_db()
    assert draft_version.report["villages"]["001"]["grids_in_range"] == len(grids)


def test_activate_division_dry_run_prints_the_preview_and_changes_nothing(township, capsys):
    clean = draft(township, WHOLE)
    call_command("activate_division", str(clean.number), dry_run=True)
    printed = capsys.readouterr().out
    assert "Division v2 replaces v1." in printed
    assert "44190012300101\t44190012300101\t350 → 350" in printed
    clean.refresh_from_db()
    assert clean.status == "draft"
    call_command("activate_division", str(clean.number))
    clean.refresh_from_db()
    assert clean.status == "active"


def test_activate_division_exits_naming_every_problem_and_keeps_reasons_of_a_dry_run_out(
    township,
):
    lopsided = draft(township, [("001", 770, box(113.00, 23.00, 113.02, 23.02)), *WHOLE[2:]])
    with pytest.raises(CommandError, match="770 households"):
        call_command("activate_division", str(lopsided.number), dry_run=True)
    call_command(
        "activate_division", str(lopsided.number), dry_run=True,
        reason=["44190012300101=one village school"],
    )  # fmt: skip
    assert Grid.objects.get(division=lopsided, village__code="001").range_reason == ""
    call_command(
        "activate_division", str(lopsided.number), reason=["44190012300101=one village school"]
    )
    assert Grid.objects.get(division=lopsided, village__code="001").range_reason == (
        "one village school"
    )


def test_geo_names_no_higher_app_in_the_activation_modules():
    folder = Path(__file__).resolve().parents[1]
    for name in ("activation.py", "rehoming.py"):
        tree = ast.parse((folder / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        higher = {m for m in imported if m.split(".")[:2][-1] in {"people", "registry", "cases"}}
        assert higher == set(), name
