"""The stack's floor app (bench/floor_app.py) serves what bench.floor measures."""

from html.parser import HTMLParser

from bench.floor_app import JOBS, create_app


class Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "li" and "data-job" in a:
            self.jobs.append(a["data-job"])


def test_rows_page_lists_every_job_once_signed_in():
    client = create_app().test_client()
    assert client.get("/rows").status_code == 401
    assert client.get("/healthz").text == "ok"
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"csrf_token": token}).status_code == 302
    parser = Rows()
    parser.feed(client.get("/rows").text)
    assert parser.jobs == [j["number"] for j in JOBS] and len(JOBS) == 23
    assert client.get("/empty").status_code == 200
