"""The connection pool: connections are reused between requests, and never carry one
request's state into the next."""

from flask import g

from webapp.db import Pool, connect, get_db, pool


def test_a_request_reuses_the_connection_the_last_one_gave_back(app):
    with app.app_context():
        first = get_db()
    with app.app_context():
        assert get_db() is first


def test_a_write_from_elsewhere_is_seen_by_a_reused_connection(app):
    with app.app_context():
        db = get_db()
        before = db.execute("SELECT count(*) FROM estates").fetchone()[0]
    other = connect(app.config["DATABASE"])
    other.execute("INSERT INTO estates (code, name) VALUES ('xinyuan', '新苑')")
    other.conn.commit()
    other.close()
    with app.app_context():
        assert get_db() is db
        assert db.execute("SELECT count(*) FROM estates").fetchone()[0] == before + 1


def test_an_open_transaction_is_rolled_back_when_given_back(app):
    with app.app_context():
        db = get_db()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO estates (code, name) VALUES ('bantu', '半途')")
    with app.app_context():
        assert not get_db().conn.in_transaction
        assert not list(get_db().query("SELECT id FROM estates WHERE name = '半途'"))


def test_after_an_error_the_connection_is_closed_not_reused(app):
    ctx = app.app_context()
    ctx.push()
    db = get_db()
    ctx.pop(ValueError("the view failed"))
    with app.app_context():
        assert get_db() is not db
        assert "db" in g


def test_no_more_than_size_connections_wait_idle(tmp_path):
    path = str(tmp_path / "p.db")
    p = Pool(path, size=1)
    a, b = p.take(), p.take()
    p.give(a)
    p.give(b)  # one too many: closed
    assert p.take() is a
    assert p.take() not in (a, b)


def test_a_new_database_path_gets_a_new_pool(app, tmp_path):
    first = pool(app)
    app.config["DATABASE"] = str(tmp_path / "other.db")
    assert pool(app) is not first and pool(app).path.endswith("other.db")
