"""The header: each role sees the links of what it may do, its main list first, in the
language chosen; built once per role and language."""

from html.parser import HTMLParser

import pytest

from webapp.domain import people

from .pages import Page

# (user, the first link, links that must be there, links that must not)
ROLES = [
    ("tech", "mine", {"mine", "feedback-new", "scan"}, {"board", "new", "admin"}),
    ("desk", "board", {"board", "new", "complaints", "feedback"}, {"mine", "admin", "figures"}),
    ("supervisor", "board", {"board", "inspections", "scan", "feedback-new"}, {"new", "mine"}),
    ("callback", "board", {"board", "callbacks"}, {"new", "mine", "admin"}),
    ("admin", "figures", {"figures", "board", "new", "admin"}, {"mine"}),
    ("manager", "figures", {"figures", "board", "inspections", "admin"}, {"mine"}),
]


@pytest.mark.parametrize("user, first, present, absent", ROLES)
def test_each_role_sees_its_links_with_its_main_list_first(client, auth, user, first,
                                                            present, absent):
    auth.login(user)
    keys = [a["data-nav"] for a in Page(client.get("/outbox").get_data(as_text=True))
            .find("data-nav")]
    assert keys[0] == first
    assert present <= set(keys) and not absent & set(keys)
    assert len(keys) == len(set(keys))


def test_links_follow_the_capabilities_of_every_role(app, client, auth):
    from webapp.layout import LINKS

    auth.login("admin")
    with app.test_request_context("/"):
        from webapp.layout import links_for

        for role in people.ROLES:
            shown = {key for key, _url, _label in links_for(role)}
            expected = {key for key, _e, _l, cap in LINKS if role in people.CAPABILITIES[cap]}
            assert shown == expected, role


class NavText(HTMLParser):
    """The text of each header link, by its data-nav key."""

    def __init__(self, html: str):
        super().__init__()
        self.text: dict[str, str] = {}
        self._key: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "data-nav" in a:
            self._key = a["data-nav"]
            self.text[self._key] = ""

    def handle_endtag(self, tag):
        if tag == "a":
            self._key = None

    def handle_data(self, data):
        if self._key:
            self.text[self._key] += data.strip()


def test_the_header_follows_the_language(client, auth):
    auth.login("desk")
    zh = NavText(client.get("/outbox").get_data(as_text=True)).text
    client.post("/locale", data={"locale": "en", "next": "/outbox"})
    en = NavText(client.get("/outbox").get_data(as_text=True)).text
    assert (zh["board"], en["board"]) == ("工单", "Jobs")
    assert (zh["new"], en["new"]) == ("新建工单", "New job")


def test_the_link_of_the_page_shown_is_marked_current(client, auth):
    auth.login("manager")
    for path, key in [("/jobs", "board"), ("/callbacks", "callbacks"), ("/outbox", None)]:
        links = Page(client.get(path).get_data(as_text=True)).find("data-nav")
        assert [a["data-nav"] for a in links if "aria-current" in a] == ([key] if key else [])
