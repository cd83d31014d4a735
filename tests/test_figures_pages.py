"""The managers' figures pages: cards, drill-down to the records, pickers, exports.

The pages are built from the registry; the figures and tables here are throwaway ones
registered for the test (and removed after it), counting jobs marked for the test, so
what each number must be is known by hand.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from webapp.db import connect
from webapp.domain import figures, figures_home
from webapp.domain.figures import Records, Result, Row, Scope

from .pages import Page

HOSTILE = '=HYPERLINK("http://evil.example/","x")'


def _marked(sc: Scope, where: str = "") -> Records:
    start, end = sc.bounds()
    return Records("jobs", f"SELECT id FROM jobs WHERE estate_id IN ({sc.marks}) AND "
                   f"description LIKE 'ZZ%' AND received_at >= ? AND received_at < ?{where}",
                   (*sc.estate_ids, start, end))


@pytest.fixture
def throwaway(monkeypatch):
    """A rate with a target (closed marked jobs / marked jobs), a count, and a table
    whose one row is named like a formula; shown on the home in place of its list."""

    @figures.figure("zz_closed", "ZZ closed", "repairs", "percent", "ZZ closed jobs " * 5,
                    target="target_on_time_pct")
    def zz_closed(db, sc):
        return figures.rate(_marked(sc, " AND status = 'closed'"), _marked(sc), db)

    @figures.figure("zz_count", "ZZ count", "complaints", "count", "ZZ marked jobs " * 5)
    def zz_count(db, sc):
        return figures.count(_marked(sc), db)

    @figures.table("zz_table", "ZZ table", "repairs", ("ZZ all", "ZZ closed"), "ZZ " * 20,
                   units=("count", "count"))
    def zz_table(db, sc):
        every, closed = _marked(sc), _marked(sc, " AND status = 'closed'")
        return [Row(HOSTILE, (Result(float(every.count(db)), records=every),
                              Result(float(closed.count(db)), records=closed)))]

    monkeypatch.setattr(figures_home, "HOME", ("zz_closed", "zz_count", "not_defined_yet"))
    monkeypatch.setattr(figures_home, "TRENDS", ("zz_closed",))
    monkeypatch.setattr(figures_home, "HOTSPOTS", ("zz_table",))
    yield
    for registry, key in ((figures.FIGURES, "zz_closed"), (figures.FIGURES, "zz_count"),
                          (figures.TABLES, "zz_table")):
        registry.pop(key)


def _jobs(app) -> dict[str, list[int]]:
    """November (local): four marked jobs in 翠湖花园, three closed, and one closed in
    锦绣家园; October: two, one closed. Returns the ids by what they are."""
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    made: dict[str, list[int]] = {}
    rows = [("nov_closed", 1, "2026-11-03T02:00:00", "closed"),
            ("nov_closed", 1, "2026-11-20T02:00:00", "closed"),
            ("nov_closed", 1, "2026-10-31T16:30:00", "closed"),  # 1 Nov 00:30 local
            ("nov_open", 1, "2026-11-05T02:00:00", "new"),
            ("nov_other", 2, "2026-11-06T02:00:00", "closed"),
            ("oct", 1, "2026-10-05T02:00:00", "closed"),
            ("oct", 1, "2026-10-31T15:30:00", "new")]  # still 31 October locally
    for n, (what, estate, at, status) in enumerate(rows):
        made.setdefault(what, []).append(db["jobs"].insert({
            "number": f"ZZ{n}", "estate_id": estate, "reporter_name": "王",
            "reporter_phone": "13800000000", "source": "phone", "category": "plumbing",
            "department": "maintenance", "job_class": "small", "description": f"ZZ {n}",
            "status": status, "received_at": at, "updated_at": at}).last_pk)
    db.conn.commit()
    db.close()
    return made


def page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return Page(response.get_data(as_text=True))


def test_cards_show_value_change_and_target(app, client, auth, throwaway):
    _jobs(app)
    auth.login("manager")
    home = page(client, "/figures?estate=1&period=2026-11")
    assert [c["data-card"] for c in home.find("data-card")] == ["zz_closed", "zz_count"]
    (value,) = home.find("data-open", "zz_closed")
    assert value["data-value"] == "75.0" and home.text("data-open", "zz_closed") == "75.0%"
    assert home.text("data-counted") == "3 / 4"
    (change,) = [c for c in home.find("data-change") if c["data-change"]][:1]
    assert change["data-change"] == "25.0"  # 3 of 4 against October's 1 of 2
    assert home.text("data-change", "25.0") == "▲ 25.0 个百分点"
    (target,) = home.find("data-target")
    assert (target["data-target"], target["data-meets"]) == ("95", "no")
    assert "未达标" in home.text("data-target")
    # Both estates: the other estate's closed job counts too.
    both = page(client, "/figures?period=2026-11")
    assert both.find("data-open", "zz_closed")[0]["data-value"] == "80.0"
    # The trend: a chart image and the same twelve months in a table.
    (img,) = home.find("data-chart")
    assert img["src"].startswith("data:image/svg+xml;base64,")
    points = home.find("data-point")
    assert len(points) == 12 and points[-1]["data-point"] == "2026-11"


def test_a_number_opens_exactly_the_records_it_counted(app, client, auth, throwaway):
    made = _jobs(app)
    auth.login("manager")
    home = page(client, "/figures?estate=1&period=2026-11")
    href = home.find("data-open", "zz_closed")[0]["href"]
    listed = page(client, href)
    assert listed.find("data-records-count")[0]["data-records-count"] == "3"
    assert sorted(int(r["data-record"]) for r in listed.find("data-record")) == \
        sorted(made["nov_closed"])
    base = page(client, home.find("data-open-base", "zz_closed")[0]["href"])
    assert sorted(int(r["data-record"]) for r in base.find("data-record")) == \
        sorted(made["nov_closed"] + made["nov_open"])
    # Each listed record links to its job page.
    links = sorted(a["href"] for a in base.find("data-open-record"))
    assert links == sorted(f"/jobs/{i}" for i in made["nov_closed"] + made["nov_open"])
    # A table's cell opens its records too.
    cell = page(client, home.find("data-cell", "0:1")[0]["href"])
    assert sorted(int(r["data-record"]) for r in cell.find("data-record")) == \
        sorted(made["nov_closed"])
    # A trend's month opens that month's records.
    (october,) = [p for p in home.find("data-point") if p["data-point"] == "2026-10"]
    assert october
    oct_list = page(client, "/figures/records?estate=1&period=2026-10&figure=zz_closed")
    assert [int(r["data-record"]) for r in oct_list.find("data-record")] == [made["oct"][0]]


def test_records_page_in_pages(app, client, auth, throwaway, monkeypatch):
    from webapp.domain import figures_lists

    made = _jobs(app)
    monkeypatch.setattr(figures_lists, "PAGE", 2)
    auth.login("manager")
    url = "/figures/records?estate=1&period=2026-11&figure=zz_closed&part=base"
    first, second = page(client, url), page(client, url + "&page=2")
    assert first.find("data-records-count")[0]["data-records-count"] == "4"
    ids = [int(r["data-record"]) for p in (first, second) for r in p.find("data-record")]
    assert sorted(ids) == sorted(made["nov_closed"] + made["nov_open"])
    assert first.find("data-page-next") and not second.find("data-page-next")
    beyond = page(client, url + "&page=9223372036854775807")
    assert not beyond.find("data-record") and beyond.find("data-records-count")


def test_a_bad_period_keeps_the_text_and_says_why(client, auth, throwaway):
    auth.login("manager")
    for typed in ("2026-13", "abc", "9999-12", "2026-03-01..2026-02-01"):
        shown = page(client, f"/figures?period={typed}", 400)
        assert shown.values["period"] == typed
        assert "不是" in shown.errors["period"] and typed in shown.errors["period"]
        assert not shown.find("data-card")
    area = page(client, "/figures/repairs?period=2026-99", 400)
    assert area.values["period"] == "2026-99" and area.errors["period"]
    drill = page(client, "/figures/records?figure=zz_closed&period=x", 400)
    assert drill.errors["period"]
    export = client.get("/figures/tables/zz_table.csv?period=x")
    assert export.status_code == 400 and "不是" in export.get_data(as_text=True)


@pytest.mark.parametrize("user", ["desk", "tech", "callback", "supervisor"])
def test_only_managers_see_the_figures(client, auth, user):
    auth.login(user)
    for url in ("/figures", "/figures/repairs", "/figures/records?figure=jobs_reported",
                "/figures/tables/hot_buildings.csv"):
        assert client.get(url).status_code == 403, url


def test_the_estate_picker_refuses_an_estate_the_user_does_not_serve(app, client, auth,
                                                                      throwaway):
    made = _jobs(app)
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    other = db["estates"].insert({"code": "ZZ", "name": "别的小区"}).last_pk
    db.conn.commit()
    db.close()
    auth.login("manager")
    response = client.get(f"/figures?estate={other}&period=2026-11")
    refused = Page(response.get_data(as_text=True))
    assert response.status_code == 403 and not refused.find("data-card")
    assert str(other) in refused.errors["estate"] and "不负责" in refused.errors["estate"]
    assert "别的小区" not in response.get_data(as_text=True)  # not even offered
    assert client.get(f"/figures/records?estate={other}&figure=zz_count").status_code == 403
    assert client.get("/figures/records?estate=abc&figure=zz_count").status_code == 403
    two = page(client, "/figures/records?estate=2&period=2026-11&figure=zz_count")
    assert [int(r["data-record"]) for r in two.find("data-record")] == made["nov_other"]


def test_an_area_page_lists_its_figures_and_tables_with_their_definitions(client, auth,
                                                                          throwaway):
    auth.login("manager")
    repairs = page(client, "/figures/repairs?period=2026-11")
    cards = {c["data-card"] for c in repairs.find("data-card")}
    assert {"zz_closed", "jobs_reported"} <= cards and "zz_count" not in cards
    assert {"zz_table", "hot_buildings", "repeat_repairs"} <= {
        t["data-table"] for t in repairs.find("data-table")}
    definitions = [repairs.texts[i] for i, d in enumerate(repairs.data)
                   if "data-definition" in d]
    assert "ZZ closed jobs ZZ closed jobs" in " ".join(definitions)
    assert any("不计已取消" in d or "取消" in d for d in definitions)  # translated
    assert page(client, "/figures/complaints").find("data-card", "zz_count")
    assert client.get("/figures/nowhere").status_code == 404


def test_exports_csv_with_bom_and_formula_safe(app, client, auth, throwaway):
    _jobs(app)
    auth.login("manager")
    response = client.get("/figures/tables/zz_table.csv?estate=1&period=2026-11")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[1] == ["'" + HOSTILE, "4", "3"]
    figures_csv = client.get("/figures/repairs/figures.csv?estate=1&period=2026-11")
    rows = list(csv.reader(io.StringIO(figures_csv.get_data(as_text=True)[1:])))
    closed = next(r for r in rows if r[-1] == "zz_closed")
    assert closed[1:8] == ["75.0", "3", "4", "50.0", "25.0", "95", "否"]
    assert closed[-2] == "%" and rows[0][-2] == "单位"  # what the value and target are in
    counted = next(r for r in rows if r[-1] == "jobs_reported")
    assert counted[-2] == ""  # a count names what it counts


def _xlsx_cells(data: bytes) -> tuple[list[str], str]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", book.read("xl/sharedStrings.xml")
                             .decode())
        return strings, book.read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_keeps_a_formula_like_name_as_text(app, client, auth, throwaway):
    _jobs(app)
    auth.login("manager")
    response = client.get("/figures/tables/zz_table.xlsx?estate=1&period=2026-11")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    strings, sheet = _xlsx_cells(response.data)
    assert HOSTILE.replace('"', "&quot;") in strings or HOSTILE in strings
    assert "<f>" not in sheet  # no formula anywhere
    assert "<v>4</v>" in sheet and "<v>3</v>" in sheet  # numbers stay numbers
    area = client.get("/figures/repairs/figures.xlsx?period=2026-11")
    assert area.status_code == 200 and zipfile.is_zipfile(io.BytesIO(area.data))


def test_the_service_centre_sees_its_own_areas_figures_only(client, auth):
    """The callback team compiles the month's callback and complaint statistics: those
    areas, their records and exports; not the repairs or the managers' home."""
    auth.login("callback")
    assert client.get("/figures/callbacks?period=2026-11").status_code == 200
    assert client.get("/figures/complaints?period=2026-11").status_code == 200
    assert client.get("/figures/callbacks/figures.csv?period=2026-11").status_code == 200
    assert client.get("/figures/records?figure=callback_rate&period=2026-11"
                      ).status_code == 200
    for url in ("/figures", "/figures/repairs", "/figures/inspections",
                "/figures/records?figure=on_time&period=2026-11",
                "/figures/tables/hot_buildings.csv?period=2026-11"):
        assert client.get(url).status_code == 403, url
    moved = client.get("/callbacks/stats?month=2026-11")
    assert moved.status_code == 302 and "/figures/callbacks" in moved.headers["Location"]


def test_the_area_tabs_are_only_those_the_person_may_open(client, auth):
    auth.login("supervisor")
    page = Page(client.get("/figures/inspections?period=2026-11").get_data(as_text=True))
    assert [a["data-area-link"] for a in page.find("data-area-link")] == ["inspections"]
    auth.logout()
    auth.login("manager")
    page = Page(client.get("/figures/inspections?period=2026-11").get_data(as_text=True))
    assert len(page.find("data-area-link")) == len(figures.AREAS)


def test_a_period_not_begun_is_refused_with_the_text_kept(client, auth):
    auth.login("manager")
    response = client.get("/figures?period=2099-01")
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert "2099-01" in page.errors["period"] and "尚未开始" in page.errors["period"]


def test_a_callback_in_the_records_says_when_it_was_done_or_is_due(client, auth):
    auth.login("manager")
    page = Page(client.get("/figures/records?figure=callback_rate&part=base&period=2026-11"
                           ).get_data(as_text=True))
    times = [page.texts[i] for i, d in enumerate(page.data) if "data-record-time" in d]
    assert times and all(t.endswith("已回访") or t.endswith("前") for t in times), times


def test_a_trends_target_line_is_named_in_the_readers_language(client, auth, throwaway):
    import base64

    _jobs(client.application)
    auth.login("manager")
    home = page(client, "/figures?estate=1&period=2026-11")
    (img,) = home.find("data-chart")
    svg = base64.b64decode(img["src"].split(",", 1)[1]).decode()
    assert "目标" in svg and ">—<" not in svg


@pytest.fixture
def shares(throwaway):
    """A table with a count and a percentage column (closed marked jobs / marked jobs)."""

    @figures.table("zz_shares", "ZZ shares", "repairs", ("ZZ all", "ZZ share closed"),
                   "ZZ " * 20, units=("count", "percent"))
    def zz_shares(db, sc):
        every, closed = _marked(sc), _marked(sc, " AND status = 'closed'")
        return [Row("ZZ row", (figures.count(every, db), figures.rate(closed, every, db)))]

    yield
    figures.TABLES.pop("zz_shares")


def test_a_tables_headings_say_each_columns_unit(app, client, auth, shares):
    _jobs(app)
    auth.login("manager")
    repairs = page(client, "/figures/repairs?estate=1&period=2026-11")
    i = next(i for i, d in enumerate(repairs.data) if d.get("data-table") == "zz_shares")
    headings = [(d["data-unit"], repairs.texts[j]) for j, d in enumerate(repairs.data)
                if j > i and "data-unit" in d][:2]
    assert headings == [("count", "ZZ all"), ("percent", "ZZ share closed（%）")]
    cells = {d["data-cell"]: repairs.texts[j] for j, d in enumerate(repairs.data)
             if j > i and "data-cell" in d and d["href"].count("table=zz_shares")}
    assert cells == {"0:0": "4", "0:1": "75.0"}  # 3 of 4, not cut to a whole number
    # Minutes say so too (a real table).
    times = [repairs.texts[j] for j, d in enumerate(repairs.data) if "data-unit" in d
             and d["data-unit"] == "minutes"]
    assert times and all(t.endswith("（分钟）") for t in times)

    text = client.get("/figures/tables/zz_shares.csv?estate=1&period=2026-11").get_data(
        as_text=True)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["", "ZZ all", "ZZ share closed（%）"] and rows[1][1:] == ["4", "75.0"]

    book = client.get("/figures/tables/zz_shares.xlsx?estate=1&period=2026-11").data
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    # The share is the fraction 0.75 in a cell whose style shows it as a percentage.
    share = re.search(r'<c r="C2" s="(\d+)"[^>]*><v>([^<]+)</v>', sheet)
    assert share and float(share.group(2)) == 0.75
    fmt_id = re.findall(r"<xf [^>]*numFmtId=\"(\d+)\"", styles.split("<cellXfs")[1])[
        int(share.group(1))]
    assert re.search(rf'numFmtId="{fmt_id}" formatCode="0\.0%"', styles)
    assert re.search(r'<c r="B2"[^>]*><v>4</v>', sheet)
