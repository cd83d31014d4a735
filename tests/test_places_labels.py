"""QR label sheets: rasterised and read back by a real decoder (zbarimg), each label's code
opening its own place; who may print which."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from webapp import labels as label_sheets
from webapp import pdf
from webapp.db import connect

from .pages import Page
from .placeflow import Text, query, token

# --- Label sheets -------------------------------------------------------------------------

def decode_cells(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """Rasterise the sheet at 150 dpi and read each label cell (3 × 5 a page) with zbarimg."""
    tmp_path.mkdir()
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "sheet.pdf"),
                    str(tmp_path / "page")], check=True)
    mm = 150 / 25.4
    cells = []
    for page in sorted(tmp_path.glob("page-*.png")):
        img = Image.open(page)
        for i in range(15):
            row, col = divmod(i, 3)
            box = (round(col * 70 * mm), round(row * 59.4 * mm),
                   round((col + 1) * 70 * mm), round((row + 1) * 59.4 * mm))
            path = tmp_path / f"{page.stem}-{i:02d}.png"
            img.crop(box).save(path)
            cells.append(path)
    out = subprocess.run(["zbarimg", "-q", "--xml", *map(str, cells)],
                         capture_output=True, text=True).stdout
    found: dict[str, list[str]] = {}
    for source, body in re.findall(r"<source href='([^']+)'>(.*?)</source>", out, re.S):
        found[Path(source).name] = re.findall(r"<data><!\[CDATA\[(.*?)\]\]></data>", body)
    return [found.get(c.name, []) for c in cells]


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                    reason="zbarimg (zbar-tools) and pdftoppm (poppler-utils) are needed: "
                           "`make system-deps` installs them")
def test_a_label_sheet_decodes_to_each_places_own_url(app, client, auth, tmp_path):
    app.config["PREFERRED_URL_SCHEME"] = "https"
    db = connect(app.config["DATABASE"])
    db.execute("INSERT INTO equipment (estate_id, name, kind) VALUES (1, '3号风机', 'plant_room')")
    db.close()
    (building,) = query(app, "SELECT id FROM buildings WHERE estate_id = 1 AND name = '2栋'")
    auth.login("manager")
    response = client.get(f"/places/labels.pdf?estate_id=1&building_id={building['id']}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    units = query(app, "SELECT u.id, b.name || '-' || u.number AS name FROM units u "
                       "JOIN buildings b ON b.id = u.building_id WHERE b.id = ? "
                       "ORDER BY length(u.number), u.number", [building["id"]])
    assert len(PdfReader(io.BytesIO(response.data)).pages) == -(-len(units) // 15)
    cells = decode_cells(response.data, tmp_path / "building")
    for i, unit in enumerate(units):
        assert cells[i] == [f"https://localhost/q/{token(app, 'unit', unit['id'])}"], unit
    assert not any(cells[len(units):])
    # A chosen few of mixed kinds, one of them without a code until now.
    (fan,) = query(app, "SELECT id FROM equipment WHERE name = '3号风机'")
    (area,) = query(app, "SELECT id FROM common_areas WHERE name = '地下车库' AND estate_id = 1")
    refs = [("unit", units[0]["id"]), ("area", area["id"]), ("equipment", fan["id"])]
    response = client.get("/places/labels.pdf?" + "&".join(f"place={t}:{i}" for t, i in refs))
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert units[0]["name"] in text and "地下车库" in text and "3号风机" in text
    cells = decode_cells(response.data, tmp_path / "chosen")
    urls = [f"https://localhost/q/{token(app, t, i)}" for t, i in refs]
    assert [c[0] if c else None for c in cells[:3]] == urls
    # Each URL opens its own place, for anyone.
    visitor = app.test_client()
    names = [f"{units[0]['name'].split('-')[0]}", "地下车库", "3号风机"]
    for url, name in zip(urls, names, strict=True):
        page = visitor.get(url.removeprefix("https://localhost"))
        assert page.status_code == 200 and name in str(Text(page.get_data(as_text=True)))


def ink_box(png: Path) -> tuple[int, int, int, int]:
    """Where anything is printed on a rasterised page: (left, top, right, bottom) px."""
    img = Image.open(png).convert("L").point(lambda v: 255 if v < 200 else 0)
    box = img.getbbox()
    assert box is not None
    return box


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) needed")
def test_labels_keep_the_sticker_margins_and_long_names_shrink_whole(app, client, auth,
                                                                      tmp_path):
    long_name = "地下二层东侧新能源汽车充电桩配电柜旁消防栓及应急照明控制箱"
    db = connect(app.config["DATABASE"])
    area = db.execute("INSERT INTO common_areas (estate_id, name, kind) VALUES (1, ?, "
                      "'corridor')", [long_name]).lastrowid
    db.close()
    auth.login("manager")
    refs = [f"place=area:{area}"] * 1 + [f"place=unit:{i}" for i in range(1, 15)]
    pdf = client.get("/places/labels.pdf?" + "&".join(refs)).data
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert long_name in text  # all of it, smaller, not cut
    (tmp_path / "s.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(tmp_path / "s.pdf"),
                    str(tmp_path / "p")], check=True)
    mm = 100 / 25.4
    left, top, right, bottom = ink_box(next(tmp_path.glob("p-*.png")))
    # A full page of 15: nothing printed within 5 mm of the paper's edge.
    assert left >= 5 * mm - 1 and top >= 5 * mm - 1
    assert right <= (210 - 5) * mm + 1 and bottom <= (297 - 5) * mm + 1
    # ...nor of any sticker's edge: each cell's ink stays inside its margins.
    page = Image.open(next(tmp_path.glob("p-*.png")))
    for i in range(15):
        row, col = divmod(i, 3)
        x0, y0 = col * 70 * mm, row * 59.4 * mm
        cell = page.crop((round(x0), round(y0), round(x0 + 70 * mm), round(y0 + 59.4 * mm)))
        cell.save(tmp_path / "cell.png")
        x, t, r, b = ink_box(tmp_path / "cell.png")
        assert x >= 5 * mm - 2 and t >= 5 * mm - 2, i
        assert r <= 65 * mm + 2 and b <= 54.4 * mm + 2, i


def test_a_long_name_gets_a_smaller_size_a_short_one_the_full_size():
    from webapp import labels
    assert labels.name_pt("1栋-101") == labels.NAME_PT
    sizes = [labels.name_pt("消防栓" * n) for n in (4, 8, 12, 20)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < 8
    assert min(sizes) >= labels.NAME_MIN_PT


def test_label_sheets_are_for_label_roles_and_their_estates(app, client, auth):
    auth.login("desk")
    assert client.get("/places/labels.pdf?estate_id=1").status_code == 403
    auth.logout()
    auth.login("manager")
    page = Page(client.get("/places/labels").get_data(as_text=True))
    downloads = page.find("data-labels-download")
    assert len(downloads) == 2 + 4 + 1  # each estate, and each building (4 and 1)
    assert client.get("/places/labels.pdf?estate_id=99").status_code == 404
    assert client.get("/places/labels.pdf?place=unit:999999").status_code == 404
    assert client.get("/places/labels.pdf?place=bogus").status_code == 404
    (other,) = query(app, "SELECT id FROM buildings WHERE estate_id = 2")
    assert client.get(f"/places/labels.pdf?estate_id=1&building_id={other['id']}"
                      ).status_code == 404


def test_a_long_sheet_laid_out_in_parts_keeps_every_page_in_order(app):
    """A long sheet is split into parts laid out in processes of their own, then joined:
    the same pages, in the same order, as one document."""
    places = [{"token": f"tok{i:03d}", "name": f"测试{i:03d}室", "estate_name": "翠湖花园"}
              for i in range(40)]
    with app.test_request_context():
        parts = label_sheets.sheet_html(places, parts=2)
        assert len(parts) == 2  # 3 pages: 2 and 1
        joined = pdf.render_pdf_parts(parts)
        alone = pdf.render_pdf(label_sheets.sheet_html(places)[0])
    texts = [[re.sub(r"\s+", "", p.extract_text())
              for p in PdfReader(io.BytesIO(data)).pages] for data in (joined, alone)]
    assert texts[0] == texts[1] and len(texts[0]) == 3
    names = [n for page in texts[0] for n in re.findall(r"测试\d{3}室", page)]
    assert names == [p["name"] for p in places]


def test_a_second_long_sheet_at_once_is_laid_out_here(app, monkeypatch):
    """While one long sheet is spread over processes, another is laid out in this one:
    no second set of processes (memory), the same pages."""
    places = [{"token": f"tok{i:03d}", "name": f"测试{i:03d}室", "estate_name": "翠湖花园"}
              for i in range(20)]
    started = []
    monkeypatch.setattr(pdf.subprocess, "run", lambda *a, **kw: started.append(a))
    with app.test_request_context():
        parts = label_sheets.sheet_html(places, parts=2)
    assert pdf._SPREAD.acquire(blocking=False)
    try:
        joined = pdf.render_pdf_parts(parts)
    finally:
        pdf._SPREAD.release()
    assert started == [] and len(PdfReader(io.BytesIO(joined)).pages) == 2
