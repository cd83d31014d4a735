"""Every CSV export: a name a spreadsheet would run as a formula arrives as text."""

import csv
import io

import pytest

from webapp.csvexport import FORMULA_START, neutralise
from webapp.db import connect

HOSTILE = '=HYPERLINK("http://evil.example/","click")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_starts_a_formula_is_prefixed(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["地下车库", "a=b", "", 14.3, -2, None])
def test_other_cells_are_left_as_they_are(value):
    assert neutralise(value) == value


def csv_routes(app) -> list[str]:
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if r.rule.endswith(".csv") and "GET" in r.methods and not r.arguments)


def test_every_export_neutralises_hostile_names(app, client, auth):
    db = connect(app.config["DATABASE"])
    # The demo's car park was inspected in November; its estate and buildings are named
    # in the exports too.
    db.execute("UPDATE common_areas SET name = ? WHERE id = 1", [HOSTILE])
    db.execute("UPDATE estates SET name = ?", ["@" + HOSTILE[1:]])
    db.execute("UPDATE buildings SET name = ? || id", ["-" + HOSTILE[1:]])
    db.conn.commit()
    auth.login("manager")
    # The figures' exports: every table, and an area's figures as a table.
    from webapp.domain.figures import AREAS, TABLES

    routes = [*csv_routes(app), *(f"/figures/tables/{k}.csv" for k in TABLES),
              *(f"/figures/{a}/figures.csv" for a in AREAS)]
    assert "/figures/tables/hot_buildings.csv" in routes
    cells = []
    for route in routes:
        response = client.get(f"{route}?month=2026-11&period=2026-11", follow_redirects=True)
        assert response.status_code == 200, route
        text = response.get_data(as_text=True).lstrip("\ufeff")
        cells += [c for row in csv.reader(io.StringIO(text)) for c in row]
    # A building's name as the hot spots show it: "estate · building".
    assert any(c.startswith("'@") and "· -HYPERLINK" in c for c in cells)
    assert not [c for c in cells if c.startswith(FORMULA_START)]
