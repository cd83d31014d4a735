"""Importing units and residents from CSV: parsing, all-or-nothing, the CLI and the admin page."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from html.parser import HTMLParser

import pytest

import sync
from webapp.db import connect
from webapp.domain import imports
from webapp.domain.handlers import HANDLERS

NOW = datetime(2026, 11, 10, 9, 0, 0)

HEADER = "estate_code,building,unit,floor,resident_name,resident_phone,is_owner\n"
GOOD = HEADER + (
    "CH,9栋,101,1,张三,13800000001,是\n"
    "CH,9栋,101,1,李四,13800000002,否\n"
    "CH,9栋,102,1,,,\n"
    "JX,1栋,101,1,王五,0571-88880000,1\n"
)
ESTATES = {"CH": 1, "JX": 2}


def parse(body: str, allowed=(1, 2)):
    return imports.parse(HEADER + body, ESTATES, allowed)


def uid(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def counts(db) -> tuple[int, int, int]:
    return tuple(
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("buildings", "units", "residents")
    )


def run_import(db, text: str, username: str = "admin", op_id: str | None = None):
    cmd = sync.Command(op_id=op_id or str(uuid.uuid4()), kind="estate.import",
                       target="estates", payload={"filename": "units.csv", "text": text},
                       user_id=uid(db, username), device_id="test")
    return sync.apply(db, cmd, HANDLERS, NOW)


# -- parsing: every reason, with the line a spreadsheet shows ---------------------------------

@pytest.mark.parametrize(
    ("row", "msgid", "params"),
    [
        ("XX,1栋,101,,,,", "Unknown estate code %(code)s.", {"code": "XX"}),
        (",1栋,101,,,,", "The estate code is missing.", {}),
        ("JX,1栋,101,,,,", "Estate %(code)s is not one of your estates.", {"code": "JX"}),
        ("CH,,101,,,,", "The building is missing.", {}),
        ("CH,1栋,,,,,", "The unit number is missing.", {}),
        ("CH,1栋,101,三楼,,,", "Floor %(floor)s is not a whole number.", {"floor": "三楼"}),
        ("CH,1栋,101,1.5,,,", "Floor %(floor)s is not a whole number.", {"floor": "1.5"}),
        ("CH,1栋,101,,张三,1.38E+10,", "Phone number %(phone)s is not valid.",
         {"phone": "1.38E+10"}),
        ("CH,1栋,101,,张三,123,", "Phone number %(phone)s is not valid.", {"phone": "123"}),
        ("CH,1栋,101,,张三,,maybe", "is_owner must be 1, 0, 是 or 否, not %(value)s.",
         {"value": "maybe"}),
        ("CH,1栋,101,,,13800000000,", "A phone number or owner flag needs a resident name.", {}),
        ("CH," + "楼" * 51 + ",101,,,,", "%(column)s is too long (at most %(max)s characters).",
         {"column": "building", "max": "50"}),
        ("CH,1栋,101,,,,,extra", "This row has values outside the named columns.", {}),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_reason(row, msgid, params):
    rows, errors = parse("CH,1栋,102,1,张三,13800000000,1\n" + row + "\n", allowed=(1,))
    assert rows == []
    assert [(e.line, e.msgid, e.params) for e in errors] == [(3, msgid, params)]


def test_duplicate_rows_and_conflicting_floors_name_the_first_line():
    _, errors = parse(
        "CH,1栋,101,1,张三,13800000000,1\n"
        "CH,1栋,102,2,,,\n"
        "ch, 1栋 ,101,1,张三,138 0000 0000,0\n"  # same unit and resident, written differently
        "CH,1栋,102,3,李四,,\n"
    )
    assert [(e.line, e.msgid, e.params) for e in errors] == [
        (4, "Duplicate of line %(line)s.", {"line": "2"}),
        (5, "Floor differs from line %(line)s for the same unit.", {"line": "3"}),
    ]


def test_every_bad_row_is_reported_not_just_the_first():
    _, errors = parse("XX,1栋,101,,,,\nCH,1栋,101,,,,\nCH,,,,,,\n")
    assert [e.line for e in errors] == [2, 4, 4]


def test_lines_count_spreadsheet_rows_blank_rows_and_multiline_cells_included():
    _, errors = parse('CH,1栋,101,,"张\n三",,\n\n,,,,,,\nCH,1栋,101,x,,,\n')
    assert [(e.line, e.msgid) for e in errors] == [(5, "Floor %(floor)s is not a whole number.")]


@pytest.mark.parametrize(
    ("text", "msgid", "params"),
    [
        ("", "The file is empty: it needs a header row.", {}),
        (HEADER, "The file has a header but no rows.", {}),
        ("estate_code,building\nCH,1栋\n", "Column %(column)s is missing from the header.",
         {"column": "unit"}),
        ("estate_code,building,unit,room\n", "Unknown column %(column)s.", {"column": "room"}),
        ("estate_code,building,unit,unit\n", "Column %(column)s appears twice.",
         {"column": "unit"}),
    ],
)
def test_header_problems_are_on_line_one(text, msgid, params):
    rows, errors = imports.parse(text, ESTATES, (1, 2))
    assert rows == []
    assert [(e.line, e.msgid, e.params) for e in errors] == [(1, msgid, params)]


def test_optional_columns_may_be_left_out_and_cells_are_normalised():
    rows, errors = imports.parse("Unit,ESTATE_CODE,building\n１２０２,ｃｈ,3栋\n", ESTATES, (1,))
    assert errors == []
    (row,) = rows
    assert (row.estate_id, row.building, row.unit, row.floor, row.resident_name,
            row.is_owner) == (1, "3栋", "1202", None, "", True)


def test_gbk_and_bom_files_decode_to_the_same_rows():
    plain = imports.decode(GOOD.encode("utf-8"))
    assert imports.decode(GOOD.encode("gbk")) == plain
    assert imports.decode(b"\xef\xbb\xbf" + GOOD.encode("utf-8")) == plain
    rows, errors = imports.parse(plain, ESTATES, (1, 2))
    assert errors == [] and rows[0].resident_name == "张三"


@pytest.mark.parametrize(
    ("data", "msgid"),
    [(b"PK\x03\x04rest-of-a-zip", imports.WORKBOOK),
     ("estate_code".encode("utf-16"), imports.UNREADABLE)],
)
def test_files_that_are_not_csv_text_are_refused(data, msgid):
    with pytest.raises(imports.Unreadable) as exc:
        imports.decode(data)
    assert str(exc.value) == msgid


# -- applying: through the command path, all or nothing ---------------------------------------

def test_import_creates_buildings_units_and_residents(db):
    before = counts(db)
    op_id = str(uuid.uuid4())
    out = run_import(db, GOOD, op_id=op_id)
    assert out.status == "applied"
    assert out.result == {"buildings": 1, "units": 2, "residents": 3, "rows": 4,
                          "estates": ["CH", "JX"]}
    assert counts(db) == (before[0] + 1, before[1] + 2, before[2] + 3)
    lisi = db.execute(
        "SELECT r.phone, r.is_owner, u.floor, b.name, u.estate_id FROM residents r "
        "JOIN units u ON u.id = r.unit_id JOIN buildings b ON b.id = u.building_id "
        "WHERE r.name = '李四' AND b.name = '9栋'").fetchall()
    assert lisi == [("13800000002", 0, 1, "9栋", 1)]
    wangwu = db.execute("SELECT phone FROM residents WHERE name = '王五'").fetchone()
    assert wangwu == ("057188880000",)  # reused JX 1栋 101, phone without separators
    audit = db.execute("SELECT action, op_id FROM audit_log WHERE action = 'import'").fetchall()
    assert audit == [("import", op_id)]


def test_reimporting_the_same_file_adds_nothing(db):
    run_import(db, GOOD)
    after_first = counts(db)
    out = run_import(db, GOOD)
    assert out.status == "applied"
    assert (out.result["buildings"], out.result["units"], out.result["residents"]) == (0, 0, 0)
    assert counts(db) == after_first


def test_one_bad_row_at_the_end_leaves_the_database_unchanged(db):
    before = counts(db)
    text = GOOD + "CH,9栋,103,abc,,,\n"
    with pytest.raises(sync.Invalid) as exc:
        run_import(db, text)
    assert exc.value.errors["rows"] == [
        {"line": 6, "msgid": "Floor %(floor)s is not a whole number.", "params": {"floor": "abc"}}
    ]
    assert counts(db) == before
    assert db.execute("SELECT count(*) FROM commands WHERE kind = 'estate.import'"
                      ).fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_an_estate_the_user_does_not_serve_is_refused(db):
    admin = uid(db, "admin")
    db.execute("DELETE FROM user_estates WHERE user_id = ? AND estate_id = 2", [admin])
    before = counts(db)
    with pytest.raises(sync.Invalid) as exc:
        run_import(db, GOOD)
    assert exc.value.errors["rows"] == [
        {"line": 5, "msgid": "Estate %(code)s is not one of your estates.",
         "params": {"code": "JX"}}
    ]
    assert counts(db) == before


@pytest.mark.parametrize("username", ["manager", "desk"])
def test_only_admins_may_import(db, username):
    before = counts(db)
    out = run_import(db, GOOD, username=username)
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert counts(db) == before


def test_the_same_op_id_imports_once(db):
    op_id = str(uuid.uuid4())
    first = run_import(db, GOOD, op_id=op_id)
    after_first = counts(db)
    second = run_import(db, GOOD.replace("9栋", "10栋"), op_id=op_id)
    assert second.status == "duplicate" and second.result == first.result
    assert counts(db) == after_first


# -- the CLI ----------------------------------------------------------------------------------

def test_cli_imports_a_gbk_file_and_prints_counts(app, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(GOOD.encode("gbk"))
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 buildings, 2 units, 3 residents created" in result.output
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM residents WHERE name IN ('张三', '李四', '王五')"
                      ).fetchone()[0] == 3
    user = db.execute("SELECT u.username FROM commands c JOIN users u ON u.id = c.user_id "
                      "WHERE c.kind = 'estate.import'").fetchone()[0]
    db.close()
    assert user == "admin"


def test_cli_prints_bad_rows_and_fails(app, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(GOOD + "XX,1栋,101,,,,\nCH,1栋,101,,,12,\n", encoding="utf-8-sig")
    db = connect(app.config["DATABASE"])
    before = counts(db)
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code != 0
    assert "line 6: Unknown estate code XX." in result.output
    assert "line 7: Phone number 12 is not valid." in result.output
    assert counts(db) == before
    db.close()


def test_cli_as_a_user_who_may_not_import_fails(app, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["import-units", str(path), "--as", "desk"])
    assert result.exit_code != 0
    assert "Your role may not do this." in result.output
    result = runner.invoke(args=["import-units", str(path), "--as", "nobody"])
    assert result.exit_code != 0


# -- the admin page ---------------------------------------------------------------------------

VOID = {"input", "br", "img", "meta", "link", "hr"}


class Page(HTMLParser):
    """Elements with their attributes and text, to check structure rather than bytes."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "children": []}
        self.elements.append(element)
        if self._open:
            self._open[-1]["children"].append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open and self._open.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, attr: str, value: str | None = None) -> list[dict]:
        return [e for e in self.elements
                if attr in e["attrs"] and (value is None or e["attrs"][attr] == value)]


def upload(client, data: bytes, op_id: str | None = None, **headers):
    return client.post("/admin/import", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "units.csv"),
                             "op_id": op_id or str(uuid.uuid4())})


def test_admin_page_has_an_upload_form_with_progress(client, auth):
    auth.login("admin")
    index = Page(client.get("/admin").get_data(as_text=True))
    assert index.find("data-nav", "import")[0]["attrs"]["href"] == "/admin/import"
    page = Page(client.get("/admin/import").get_data(as_text=True))
    (form,) = page.find("data-form", "import")
    assert form["attrs"]["enctype"] == "multipart/form-data"
    assert form["attrs"]["hx-indicator"] == "#import-progress"
    assert page.find("id", "import-progress")[0]["attrs"]["class"] == "htmx-indicator"
    assert page.find("name", "file")[0]["attrs"]["type"] == "file"
    assert page.find("name", "op_id")[0]["attrs"]["value"] == ""


def test_upload_shows_counts(app, client, auth):
    auth.login("admin")
    response = upload(client, GOOD.encode("gbk"))
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    shown = {e["attrs"]["data-count"]: e["text"] for e in page.find("data-count")}
    assert shown == {"buildings": "1", "units": "2", "residents": "3"}
    assert not page.find("data-form", "import")  # a fresh form (and op_id) is one click away


def test_bad_upload_lists_lines_and_reasons_in_the_users_language(app, client, auth):
    auth.login("admin")
    client.post("/locale", data={"locale": "en"})
    db = connect(app.config["DATABASE"])
    before = counts(db)
    text = GOOD + "XX,1栋,101,,,,\nCH,1栋,101,,张三,<b>1</b>,\n"
    response = upload(client, ("\ufeff" + text).encode("utf-8"))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    rows = [[cell["text"].strip() for cell in row["children"]] for row in page.find("data-line")]
    assert rows == [["6", "Unknown estate code XX."], ["7", "Phone number <b>1</b> is not valid."]]
    assert not any(e["tag"] == "b" for e in page.elements)  # parameters are escaped
    assert page.find("data-error", "file")
    assert counts(db) == before
    db.close()


def test_reasons_are_translated_with_their_parameters(client, auth, monkeypatch):
    """The page passes each reason's msgid through gettext, then fills in its parameters."""
    import flask_babel
    from babel.support import NullTranslations

    class Chinese(NullTranslations):
        def ugettext(self, message):
            return {"Unknown estate code %(code)s.": "未知的小区代码 %(code)s。"}.get(message,
                                                                                  message)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: Chinese())
    auth.login("admin")
    response = upload(client, (GOOD + "XX,1栋,101,,,,\n").encode())
    assert response.status_code == 422
    (row,) = Page(response.get_data(as_text=True)).find("data-line", "6")
    assert row["children"][1]["text"] == "未知的小区代码 XX。"


def test_bad_upload_keeps_the_op_id_for_the_corrected_file(client, auth):
    auth.login("admin")
    op_id = str(uuid.uuid4())
    response = upload(client, (GOOD + "CH,,,,,,\n").encode(), op_id=op_id)
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.find("name", "op_id")[0]["attrs"]["value"] == op_id
    assert upload(client, GOOD.encode(), op_id=op_id).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04zip", "这是 Excel 工作簿。请另存为 CSV（逗号分隔）后重试。"),
        (None, "请选择要导入的 CSV 文件。"),
    ],
)
def test_no_file_or_a_workbook_is_explained(client, auth, data, message):
    auth.login("admin")
    auth_data = {"op_id": str(uuid.uuid4())}
    if data is not None:
        auth_data["file"] = (io.BytesIO(data), "units.xlsx")
    response = client.post("/admin/import", data=auth_data, content_type="multipart/form-data")
    assert response.status_code == 422
    (error,) = Page(response.get_data(as_text=True)).find("data-error", "file")
    assert error["text"] == message


def test_double_submit_with_the_same_op_id_imports_once(app, client, auth):
    auth.login("admin")
    op_id = str(uuid.uuid4())
    first = upload(client, GOOD.encode(), op_id=op_id)
    db = connect(app.config["DATABASE"])
    after_first = counts(db)
    second = upload(client, GOOD.encode(), op_id=op_id, **{"HX-Request": "true"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert counts(db) == after_first
    page = Page(second.get_data(as_text=True))
    assert page.find("data-duplicate")
    assert page.find("data-count", "residents")[0]["text"] == "3"
    db.close()


@pytest.mark.parametrize("username", ["desk", "manager", "tech"])
def test_only_admins_open_the_import_page(app, client, auth, username):
    auth.login(username)
    db = connect(app.config["DATABASE"])
    before = counts(db)
    assert client.get("/admin/import").status_code == 403
    assert upload(client, GOOD.encode()).status_code == 403
    assert counts(db) == before
    db.close()


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/admin/import")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
