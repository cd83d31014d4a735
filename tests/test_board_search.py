"""The board's search: the trigram index (migration 0010) and the LIKE it stands in for."""

import random
import sqlite3

import pytest
from sqlite_utils import Database

from webapp.domain import jobs
from webapp.migrations import migrations

from .conftest import NOW
from .jobflow import new_job, step

ALL = [1, 2]
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def add_job(db, number, phone="13800000000", unit_id=None, estate_id=1, status="closed",
            flagged=0) -> int:
    """A job row written directly, as an import or an old database would have it."""
    return db.execute(
        """INSERT INTO jobs (number, estate_id, unit_id, reporter_name, reporter_phone, source,
               category, department, job_class, description, status, received_at,
               updated_at, flagged)
           VALUES (?, ?, ?, '陈', ?, 'phone', 'plumbing', 'maintenance', 'small', '漏水', ?,
                   ?, ?, ?)""",
        [number, estate_id, unit_id, phone, status, NOW.isoformat(), NOW.isoformat(), flagged],
    ).lastrowid


def add_unit(db, number, estate_id=1) -> int:
    building = db.execute("SELECT id FROM buildings WHERE estate_id = ? LIMIT 1",
                          [estate_id]).fetchone()[0]
    return db.execute("INSERT INTO units (estate_id, building_id, number) VALUES (?, ?, ?)",
                      [estate_id, building, number]).lastrowid


def ids(rows) -> list[int]:
    return [r["id"] for r in rows]


def search(db, q, status="all", estates=ALL, limit=1000, before=None) -> list[int]:
    return ids(jobs.board(db, estates, status, q, limit, before))


def like_only(db, monkeypatch, q, status="all", estates=ALL, limit=1000, before=None):
    """The same call with the index switched off: LIKE alone."""
    with monkeypatch.context() as m:
        m.setattr(jobs, "search_phrase", lambda query: None)
        return search(db, q, status, estates, limit, before)


def brute(db, q, status="all", estates=ALL) -> list[int]:
    """What LIKE '%q%' means, in Python: ASCII-only case folding, newest first."""
    needle = q.translate(ASCII_LOWER)
    rows = db.execute(
        "SELECT j.id, j.number, j.reporter_phone, u.number, j.status, j.flagged, j.estate_id"
        " FROM jobs j LEFT JOIN units u ON u.id = j.unit_id ORDER BY j.id DESC").fetchall()
    out = []
    for job_id, number, phone, unit, st, flagged, estate in rows:
        if estate not in estates:
            continue
        if status == "open" and st not in jobs.OPEN_STATUSES:
            continue
        if status in jobs.STATUSES and st != status:
            continue
        if status == "flagged" and not flagged:
            continue
        if any(needle in (text or "").translate(ASCII_LOWER) for text in (number, phone, unit)):
            out.append(job_id)
    return out


def index_rows(db) -> list[tuple]:
    return db.execute("SELECT rowid, number, phone, unit FROM job_search ORDER BY rowid").fetchall()


def expected_index_rows(db) -> list[tuple]:
    return db.execute("SELECT j.id, j.number, j.reporter_phone, u.number FROM jobs j"
                      " LEFT JOIN units u ON u.id = j.unit_id ORDER BY j.id").fetchall()


def test_the_demo_jobs_are_in_the_index(db):
    assert index_rows(db) == expected_index_rows(db)
    db.execute("INSERT INTO job_search (job_search) VALUES ('integrity-check')")


def test_the_index_triggers_survive_every_migration(db):
    # A later migration that rebuilds jobs or units (sqlite-utils' transform) drops
    # their triggers; the index would then miss new jobs without any error.
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"job_search_insert", "job_search_update", "job_search_delete",
            "job_search_unit"} <= names


def test_the_migration_fills_the_index_from_existing_jobs():
    db = Database(sqlite3.connect(":memory:"))
    migrations.apply(db, stop_before="0010_job_search")
    db.execute("INSERT INTO estates (id, code, name) VALUES (1, 'E', 'E')")
    db.execute("INSERT INTO buildings (id, estate_id, name) VALUES (1, 1, '3栋')")
    db.execute("INSERT INTO units (id, estate_id, building_id, number) VALUES (7, 1, 1, '1201')")
    a = add_job(db, "J20250101-0001", "13912345678", unit_id=7)
    b = add_job(db, "J20250101-0002", "13700000000")
    db.conn.commit()
    migrations.apply(db)
    assert index_rows(db) == [(a, "J20250101-0001", "13912345678", "1201"),
                              (b, "J20250101-0002", "13700000000", None)]
    assert search(db, "1201", estates=[1]) == [a]
    assert search(db, "0101-000", estates=[1]) == [b, a]


def test_a_job_made_through_the_command_is_found_by_number_phone_and_unit(db):
    job_id = new_job(db)
    number, unit = db.execute("SELECT j.number, u.number FROM jobs j JOIN units u"
                              " ON u.id = j.unit_id WHERE j.id = ?", [job_id]).fetchone()
    assert search(db, number) == [job_id]
    assert search(db, number[-7:]) == [job_id]  # the end of the date and the sequence
    assert job_id in search(db, "3800000000")
    assert job_id in search(db, unit)


def test_number_fragment_phone_digits_and_unit(db):
    unit = add_unit(db, "Q2701")
    a = add_job(db, "X20300101-0042", "13955501234", unit_id=unit)
    b = add_job(db, "X20300101-0043", "13655509876")
    assert search(db, "X20300101") == [b, a]
    assert search(db, "0101-0042") == [a]
    assert search(db, "5550") == [b, a]
    assert search(db, "501234") == [a]
    assert search(db, "Q2701") == [a]
    assert search(db, "2701") == brute(db, "2701") and a in search(db, "2701")
    assert search(db, "no such thing") == []


def test_case_does_not_matter_for_ascii_letters(db):
    unit = add_unit(db, "B-12a")
    job_id = add_job(db, "Zq20300101-0001", unit_id=unit)
    for q in ("zq2030", "ZQ2030", "Zq2030", "b-12A", "B-12A", "b-12a"):
        assert search(db, q) == [job_id], q


def test_letters_beyond_ascii_keep_like_semantics(db, monkeypatch):
    # The trigram tokenizer folds É to é; LIKE does not, and the board answers as LIKE.
    unit = add_unit(db, "ÉCOLE-1")
    job_id = add_job(db, "W20300101-0001", unit_id=unit)
    assert (job_id,) in db.execute("SELECT rowid FROM job_search WHERE job_search MATCH ?",
                                   ['"écOLE"']).fetchall()
    assert search(db, "écOLE") == [] == like_only(db, monkeypatch, "écOLE")
    assert search(db, "ÉCOLE") == [job_id]
    assert search(db, "COLE-") == [job_id]


@pytest.mark.parametrize("q", ['13-1"', '"', '""', 'AND', 'a OR b', 'NEAR(a b)', '12*',
                               '-12', 'number:12', '^12', '(12', "'12'", '5"A', '5"a"',
                               '1 2 3', '%%%', '12_1', '1%2', '13\x006', '\x00\x00\x00'])
def test_fts_syntax_in_the_query_is_plain_text(db, monkeypatch, q):
    unit = add_unit(db, '5"A-12')
    job_id = add_job(db, "V20300101-0001", unit_id=unit)
    got = search(db, q)
    assert got == like_only(db, monkeypatch, q)
    if not set(q) & set("%_\0"):
        assert got == brute(db, q)
    if q in ('5"A', '5"a"'):
        assert (job_id in got) == (q == '5"A')


def test_a_quote_in_the_unit_number_is_found(db):
    unit = add_unit(db, '5"A-12')
    job_id = add_job(db, "V20300101-0001", unit_id=unit)
    assert search(db, '5"a') == [job_id]
    assert search(db, '"A-1') == [job_id]
    assert search(db, '5"A-12"') == []


def test_phrase_is_quoted_and_short_or_wildcard_queries_skip_the_index():
    assert jobs.search_phrase('13-1"') == '"13-1"""'
    assert jobs.search_phrase("AND") == '"AND"'
    assert jobs.search_phrase("12") is None
    assert jobs.search_phrase("1") is None
    assert jobs.search_phrase("12_4") is None
    assert jobs.search_phrase("1%4") is None
    assert jobs.search_phrase("13\x006") is None


@pytest.mark.parametrize("q", ["1", "0", "12", "01", "J2", "j2", "-0", "栋"])
def test_one_or_two_characters_use_like(db, monkeypatch, q):
    add_job(db, "J20300101-0012", "13812000000")
    assert search(db, q) == like_only(db, monkeypatch, q) == brute(db, q)


def test_a_job_follows_its_unit_when_the_unit_is_renumbered(db):
    unit = add_unit(db, "R0101")
    job_id = add_job(db, "U20300101-0001", unit_id=unit)
    other = add_job(db, "U20300101-0002", unit_id=add_unit(db, "R0102"))
    assert search(db, "R0101") == [job_id]
    db.execute("UPDATE units SET number = 'S0909' WHERE id = ?", [unit])
    assert search(db, "R0101") == []
    assert search(db, "s0909") == [job_id]
    assert search(db, "R0102") == [other]
    assert index_rows(db) == expected_index_rows(db)


def test_a_job_updated_or_deleted_leaves_the_index_current(db):
    first, second = add_unit(db, "T0101"), add_unit(db, "T0202")
    job_id = add_job(db, "T20300101-0001", "13911112222", unit_id=first)
    db.execute("UPDATE jobs SET reporter_phone = '13733334444' WHERE id = ?", [job_id])
    assert search(db, "11112222") == []
    assert search(db, "33334444") == [job_id]
    db.execute("UPDATE jobs SET unit_id = ? WHERE id = ?", [second, job_id])
    assert search(db, "T0101") == []
    assert search(db, "T0202") == [job_id]
    db.execute("UPDATE jobs SET unit_id = NULL, number = 'T20300101-0099' WHERE id = ?",
               [job_id])
    assert search(db, "T0202") == []
    assert search(db, "0101-0099") == [job_id]
    # Other columns leave the index alone; the job is still found.
    db.execute("UPDATE jobs SET status = 'cancelled', version = version + 1 WHERE id = ?",
               [job_id])
    assert search(db, "0101-0099", status="cancelled") == [job_id]
    assert index_rows(db) == expected_index_rows(db)
    db.execute("DELETE FROM jobs WHERE id = ?", [job_id])
    assert search(db, "0101-0099") == []
    assert index_rows(db) == expected_index_rows(db)
    db.execute("INSERT INTO job_search (job_search) VALUES ('integrity-check')")


def test_a_job_changed_through_the_commands_is_still_found(db):
    job_id = new_job(db)
    number = db.execute("SELECT number FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
    for kind in ("job.dispatch", "job.accept", "job.arrive"):
        assert step(db, job_id, kind).status == "applied"
    assert search(db, number) == [job_id]
    assert search(db, number, status="arrived") == [job_id]
    assert index_rows(db) == expected_index_rows(db)


@pytest.fixture
def estate_of_jobs(db):
    """300 jobs over both demo estates with overlapping numbers, phones and units."""
    rng = random.Random(7)
    units = [add_unit(db, n, estate_id=e) for e in (1, 2)
             for n in ("Z1201", "Z1202", "A-1201", "b12", "Xy-3", "Z9901")]
    statuses = list(jobs.STATUSES)
    for i in range(300):
        day = rng.choice(["20300101", "20300102", "20291231"])
        prefix = rng.choice(["J", "j", "K"])
        phone = "13" + rng.choice(["8", "9", "0"]) + "".join(rng.choice("0123") for _ in range(8))
        add_job(db, f"{prefix}{day}-{i:04d}", phone,
                unit_id=rng.choice(units + [None]), estate_id=rng.choice([1, 2]),
                status=rng.choice(statuses), flagged=int(rng.random() < 0.1))
    return db


QUERIES = ["120", "1201", "a-12", "A-1201", "B12", "xY-3", "J2030", "j20300101", "k2029",
           "0101-00", "-0", "1-0", "2030", "3801", "13800", "1390", "0000", "1111", "9901",
           "990", "0102-01", "1231-02", "201", "2", "12", "1", "b1", "no match", "x", "13",
           "0", "00", "000", "0000000", "12_1", "1%0", '1"2', "栋"]


@pytest.mark.parametrize("walk", [1000, 40, 3, 1])
def test_index_and_like_give_the_same_rows_in_the_same_order(estate_of_jobs, monkeypatch, walk):
    db = estate_of_jobs
    # A small walk makes most searches go on to the id-order read below the hits.
    monkeypatch.setattr(jobs, "SEARCH_WALK", walk)
    for estates in ([1], [2], ALL):
        for status in ("all", "closed", "new", "cancelled", "open", "flagged"):
            for q in QUERIES:
                like = like_only(db, monkeypatch, q, status, estates)
                got = search(db, q, status, estates)
                assert got == like, (q, status, estates)
                if "%" not in q and "_" not in q:
                    assert got == brute(db, q, status, estates), (q, status, estates)


@pytest.mark.parametrize("walk", [1000, 7])
def test_pages_of_a_search_follow_on_without_gaps(estate_of_jobs, monkeypatch, walk):
    db = estate_of_jobs
    monkeypatch.setattr(jobs, "SEARCH_WALK", walk)
    for q in ("1201", "0000", "2030", "3801", "j2030"):
        for estates in ([1], ALL):
            for limit in (1, 5, 26):
                seen, before = [], None
                while True:
                    page = search(db, q, "all", estates, limit, before)
                    assert page == like_only(db, monkeypatch, q, "all", estates, limit, before)
                    assert len(page) <= limit
                    seen += page
                    if len(page) < limit:
                        break
                    before = page[-1]
                assert seen == brute(db, q, "all", estates), (q, estates, limit)


def test_the_many_estates_path_searches_the_same(estate_of_jobs, monkeypatch):
    db = estate_of_jobs
    monkeypatch.setattr(jobs, "BOARD_MAX_PARTS", 1)  # both estates in one part
    for q in ("1201", "j2030", "0000"):
        assert search(db, q, "all", ALL, 10) == brute(db, q)[:10]


def test_the_board_page_searches_all_statuses(client, auth, app):
    auth.login()
    assert client.get('/jobs?status=all&q=13-1"').status_code == 200
    assert client.get("/jobs?status=all&q=13%006").status_code == 200
    page = client.get("/jobs?status=all&q=J20261110-0002")
    assert page.status_code == 200 and "J20261110-0002" in page.get_data(as_text=True)
    assert "J20261110-0003" not in page.get_data(as_text=True)


# --- A search that names a unit ('2栋-502') -----------------------------------------

def unit_id(db, estate_id, building, number) -> int:
    return db.execute("SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id"
                      " WHERE u.estate_id = ? AND b.name = ? AND u.number = ?",
                      [estate_id, building, number]).fetchone()[0]


def of_units(db, unit_ids, status="all", estates=ALL) -> list[int]:
    """The board's rows for those units, in Python: newest first, the status filter kept."""
    out = []
    for job_id, unit, st, flagged, estate in db.execute(
            "SELECT id, unit_id, status, flagged, estate_id FROM jobs ORDER BY id DESC"):
        if unit not in unit_ids or estate not in estates:
            continue
        if status == "open" and st not in jobs.OPEN_STATUSES:
            continue
        if status in jobs.STATUSES and st != status:
            continue
        if status == "flagged" and not flagged:
            continue
        out.append(job_id)
    return out


@pytest.fixture
def unit_jobs(db):
    """Jobs of every status on 2栋-502 and 1栋-502 of estate 1, on 1栋-502 of estate 2,
    on an added 11栋-502, and on 1栋-1502 (whose number contains 502)."""
    eleven = db.execute("INSERT INTO buildings (estate_id, name) VALUES (1, '11栋')").lastrowid
    db.execute("INSERT INTO units (estate_id, building_id, number) VALUES (1, ?, '502')",
               [eleven])
    units = [unit_id(db, 1, "2栋", "502"), unit_id(db, 1, "1栋", "502"),
             unit_id(db, 2, "1栋", "502"), unit_id(db, 1, "11栋", "502"),
             unit_id(db, 1, "1栋", "1502")]
    rng = random.Random(11)
    for i in range(120):
        unit = rng.choice(units)
        estate = db.execute("SELECT estate_id FROM units WHERE id = ?", [unit]).fetchone()[0]
        add_job(db, f"Y20300101-{i:04d}", unit_id=unit, estate_id=estate,
                status=rng.choice(list(jobs.STATUSES)), flagged=int(rng.random() < 0.2))
    return db


@pytest.mark.parametrize("q", ["2栋-502", "2-502", "2 502", "2栋502", "2#502", "2号楼502",
                               "２－５０２"])
@pytest.mark.parametrize("status", ["all", "open", "closed", "new", "cancelled", "flagged"])
def test_a_search_for_building_and_room_lists_that_units_jobs(unit_jobs, q, status):
    db = unit_jobs
    expected = of_units(db, {unit_id(db, 1, "2栋", "502")}, status)
    assert expected or status == "new"  # the fixture has some of nearly every status
    assert search(db, q, status) == expected


def test_building_one_is_not_building_eleven(unit_jobs):
    db = unit_jobs
    one, eleven = unit_id(db, 1, "1栋", "502"), unit_id(db, 1, "11栋", "502")
    assert search(db, "1-502", estates=[1]) == of_units(db, {one}) != []
    assert search(db, "11-502", estates=[1]) == of_units(db, {eleven}) != []


def test_a_unit_search_stays_in_the_users_estates(unit_jobs):
    db = unit_jobs
    here, there = unit_id(db, 1, "1栋", "502"), unit_id(db, 2, "1栋", "502")
    assert search(db, "1栋-502", estates=[1]) == of_units(db, {here}, estates=[1])
    assert search(db, "1栋-502", estates=[2]) == of_units(db, {there}, estates=[2]) != []
    assert search(db, "1栋-502") == of_units(db, {here, there})
    assert search(db, "1栋-502", estates=[]) == []


@pytest.mark.parametrize("estates", [[1], ALL])
@pytest.mark.parametrize("limit", [1, 4, 25])
def test_pages_of_a_unit_search_follow_on_without_gaps(unit_jobs, estates, limit):
    db = unit_jobs
    expected = of_units(db, {unit_id(db, 1, "1栋", "502"), unit_id(db, 2, "1栋", "502")},
                        "all", estates)
    seen, before = [], None
    while True:
        page = search(db, "1-502", "all", estates, limit, before)
        assert len(page) <= limit
        seen += page
        if len(page) < limit:
            break
        before = page[-1]
    assert seen == expected


@pytest.mark.parametrize("q", ["502", "1502", "9-502", "2-9999", "J2030", "0101-00"])
def test_a_room_alone_or_a_label_of_no_unit_stays_a_text_search(unit_jobs, monkeypatch, q):
    db = unit_jobs
    for status in ("all", "open"):
        assert search(db, q, status) == like_only(db, monkeypatch, q, status) \
            == brute(db, q, status)
    assert set(of_units(db, {unit_id(db, 1, "1栋", "1502")})) <= set(search(db, "502"))


def test_a_unit_search_reads_the_units_jobs_through_their_index(unit_jobs, monkeypatch):
    # An admin's '2-502' names a unit in each of 50 estates. Without the + on estate_id
    # SQLite then reads every closed job of the 50 estates through jobs_board instead
    # of the units' few dozen through jobs_unit (seen on bench/out/company-v1.db).
    db = unit_jobs
    seen = []
    rows = jobs.list_rows
    monkeypatch.setattr(jobs, "list_rows", lambda db, sql, params: (seen.append((sql, params)),
                                                                    rows(db, sql, params))[1])
    many = [r[0] for r in db.execute("SELECT id FROM units ORDER BY id LIMIT 50")]
    monkeypatch.setattr(jobs, "board_units", lambda db, estate_ids, q: many)
    for status, before in (("all", None), ("closed", None), ("closed", 10**6),
                           ("open", None), ("flagged", 10**6)):
        seen.clear()
        search(db, "2栋-502", status, list(range(1, 51)), 26, before)
        sql, params = seen[-1]
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SEARCH j USING INDEX jobs_unit (unit_id=?" in plan, (status, plan)
        assert "jobs_board" not in plan and "jobs_estate" not in plan, (status, plan)
        assert "job_search" not in plan, (status, plan)
