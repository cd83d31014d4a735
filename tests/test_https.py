"""The app behind Caddy: forwarded headers trusted from PROXY_COUNT proxies only, Secure
cookies on an https site, PUBLIC_URL in printed codes, the settings `make serve` starts
Caddy and gunicorn with, and deploy/Caddyfile as Caddy reads it."""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from webapp import create_app, https, labels
from webapp.db import connect, pool
from webapp.demo import DEMO_PASSWORD
from webapp.domain import settings

from .conftest import copy_db
from .placeflow import report, token
from .test_places_labels import decode_cells

ROOT = Path(__file__).resolve().parent.parent
PROXY = "127.0.0.1"  # Caddy, on the same machine


@pytest.fixture
def make_app(tmp_path, template_db):
    """An app with extra configuration (ProxyFix and cookie flags are set when it is made)."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                          "DATABASE": str(tmp_path / "test.db"),
                          "FILES_DIR": str(tmp_path / "files"), **config})
        target = sqlite3.connect(app.config["DATABASE"])
        copy_db(template_db, target)
        target.close()
        made.append(app)
        return app

    yield make
    for app in made:
        pool(app).close()


def client_at(app, addr: str, forwarded_for: str | None = None,
              host: str = "wuye.example.com"):
    """A browser at `addr`; with `forwarded_for`, the proxy's request for that client."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    if forwarded_for:
        client.environ_base.update(HTTP_X_FORWARDED_FOR=forwarded_for,
                                   HTTP_X_FORWARDED_PROTO="https",
                                   HTTP_X_FORWARDED_HOST=host)
    return client


def fail_login(client, username: str = "desk"):
    return client.post("/login", data={"username": username, "password": "wrong"})


def failure_addresses(app) -> list[str]:
    db = sqlite3.connect(app.config["DATABASE"])
    try:
        return [r[0] for r in db.execute("SELECT remote_addr FROM login_failures ORDER BY id")]
    finally:
        db.close()


# --- Forwarded headers ------------------------------------------------------------------

def test_behind_one_proxy_the_sign_in_throttle_sees_each_phone(make_app):
    app = make_app(PROXY_COUNT=1, LOGIN_MAX_FAILURES=2)
    first = client_at(app, PROXY, "203.0.113.7")
    assert [fail_login(first).status_code for _ in range(3)] == [401, 401, 429]
    # Another phone through the same proxy is not locked out by the first one's failures.
    other = client_at(app, PROXY, "198.51.100.4")
    assert other.post("/login", data={"username": "desk",
                                      "password": DEMO_PASSWORD}).status_code == 302
    assert failure_addresses(app) == ["203.0.113.7", "203.0.113.7"]


def test_without_a_proxy_a_forged_forwarded_for_changes_nothing(make_app):
    app = make_app(LOGIN_MAX_FAILURES=2)  # PROXY_COUNT 0, the default
    codes = [fail_login(client_at(app, "192.0.2.50", f"203.0.113.{n}")).status_code
             for n in range(3)]
    assert codes == [401, 401, 429]
    assert failure_addresses(app) == ["192.0.2.50", "192.0.2.50"]


def test_only_the_proxys_own_hop_is_believed(make_app):
    """A made-up X-Forwarded-For before the real address (as a proxy that appends would
    pass it on): with one proxy, the last address is the one counted."""
    app = make_app(PROXY_COUNT=1, LOGIN_MAX_FAILURES=2)
    codes = [fail_login(client_at(app, PROXY, f"10.9.9.{n}, 203.0.113.7")).status_code
             for n in range(3)]
    assert codes == [401, 401, 429]
    assert failure_addresses(app) == ["203.0.113.7", "203.0.113.7"]


def test_behind_one_proxy_the_public_reports_limit_is_per_phone(make_app):
    app = make_app(PROXY_COUNT=1, PUBLIC_REPORT_MIN_SECONDS=0)
    db = connect(app.config["DATABASE"])
    settings.save(db, 1, {"public_reports_per_address_hour": 1})
    db.conn.commit()
    db.close()
    tok = token(app, "unit", 1)
    first = client_at(app, PROXY, "203.0.113.7")
    assert report(first, tok).status_code == 303
    assert report(first, tok).status_code == 429
    assert report(client_at(app, PROXY, "198.51.100.4"), tok).status_code == 303


def test_the_forwarded_scheme_and_host_make_the_same_origin_check_pass(make_app):
    """The phone sends its outbox from https://<public host>; behind Caddy the app hears
    plain http from 127.0.0.1, and only the forwarded scheme and host make them agree."""
    origin = {"Origin": "https://wuye.example.com"}
    behind = make_app(PROXY_COUNT=1)
    assert client_at(behind, PROXY, "203.0.113.7").post(
        "/sync/batch", json={"items": []}, headers=origin).status_code == 401  # not 403
    direct = make_app()
    assert client_at(direct, PROXY, "203.0.113.7").post(
        "/sync/batch", json={"items": []}, headers=origin).status_code == 403


# --- Cookies ------------------------------------------------------------------------------

def signed_in(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "tech", "password": DEMO_PASSWORD,
                                            "remember": "1"})
    assert response.status_code == 302
    return client


def test_on_an_https_site_the_session_and_remember_cookies_are_secure(make_app):
    client = signed_in(make_app(PUBLIC_URL="https://wuye.example.com"))
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        assert cookie is not None and cookie.secure, name
        assert cookie.http_only, name


def test_the_plain_http_demo_keeps_cookies_it_can_send_back(make_app):
    client = signed_in(make_app())
    assert [client.get_cookie(n).secure for n in ("session", "remember_token")] == [False, False]


# --- Absolute URLs ------------------------------------------------------------------------

def test_printed_codes_use_the_public_url_not_the_requests_host(make_app):
    app = make_app(PUBLIC_URL="https://192.168.1.20:8443")
    tok = token(app, "unit", 1)
    with app.test_request_context("/places/labels", base_url="http://127.0.0.1:8000"):
        assert labels.qr_url(tok) == f"https://192.168.1.20:8443/q/{tok}"
    plain = make_app()
    with plain.test_request_context("/places/labels", base_url="http://127.0.0.1:8000"):
        assert labels.qr_url(tok) == f"http://127.0.0.1:8000/q/{tok}"


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                    reason="zbarimg and pdftoppm are needed: `make system-deps` installs them")
def test_a_label_sheet_behind_the_proxy_decodes_to_the_public_url(make_app, tmp_path):
    """The manager prints from the office PC, which reaches the server by another name."""
    app = make_app(PROXY_COUNT=1, PUBLIC_URL="https://wuye.example.com")
    client = client_at(app, PROXY, "192.168.1.30", host="192.168.1.20")
    # (The cookies are Secure: the test client sends them back on https only.)
    assert client.post("/login", base_url="https://localhost", data={
        "username": "manager", "password": DEMO_PASSWORD}).status_code == 302
    response = client.get("/places/labels.pdf?place=unit:1", base_url="https://localhost")
    assert response.status_code == 200
    cells = decode_cells(response.data, tmp_path / "sheet")
    assert cells[0] == [f"https://wuye.example.com/q/{token(app, 'unit', 1)}"]


# --- `make serve`'s settings --------------------------------------------------------------

BASE = {"DOMAIN": "", "CADDY_TLS": "", "HTTPS_PORT": 443, "HTTP_PORT": 80, "PUBLIC_URL": "",
        "CADDY_DATA": "/srv/wuye/instance/caddy", "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "GUNICORN_BIND": "127.0.0.1:8000", "GUNICORN_WORKERS": 2, "GUNICORN_THREADS": 4,
        "PROXY_COUNT": 0, "DATABASE": "/srv/wuye/instance/wuye.db"}


def test_without_a_domain_caddy_uses_its_own_ca_on_the_lan_address():
    s = https.serve_settings(BASE, "192.168.1.20")
    assert (s["SERVE_HOST"], s["SERVE_TLS"]) == ("192.168.1.20", "internal")
    assert s["SERVE_PUBLIC_URL"] == s["WUYE_PUBLIC_URL"] == "https://192.168.1.20"
    assert s["WUYE_PROXY_COUNT"] == "1"
    assert s["SERVE_MAX_BODY"] == str(32 * 1024 * 1024)


def test_a_domain_gets_public_certificates():
    s = https.serve_settings({**BASE, "DOMAIN": "wuye.example.com"}, "192.168.1.20")
    assert (s["SERVE_HOST"], s["SERVE_TLS"]) == ("wuye.example.com", "public")
    assert s["WUYE_PUBLIC_URL"] == "https://wuye.example.com"


def test_other_ports_addresses_and_a_second_proxy_show_in_the_settings():
    s = https.serve_settings({**BASE, "DOMAIN": "fd00::5", "HTTPS_PORT": 8443,
                              "PROXY_COUNT": 2}, "192.168.1.20")
    assert (s["SERVE_TLS"], s["WUYE_PUBLIC_URL"]) == ("internal", "https://[fd00::5]:8443")
    assert s["WUYE_PROXY_COUNT"] == "2"
    s = https.serve_settings({**BASE, "DOMAIN": "wuye.lan", "CADDY_TLS": "internal"}, "x")
    assert (s["SERVE_HOST"], s["SERVE_TLS"]) == ("wuye.lan", "internal")


def test_serve_env_prints_shell_exports_from_the_apps_configuration(make_app):
    app = make_app(DOMAIN="wuye.example.com", HTTPS_PORT=8443)
    result = app.test_cli_runner().invoke(args=["serve-env"])
    assert result.exit_code == 0, result.output
    exported = dict(shlex.split(line)[1].split("=", 1) for line in result.output.splitlines())
    assert exported["WUYE_PUBLIC_URL"] == "https://wuye.example.com:8443"
    assert exported["SERVE_CADDY_DATA"] == str(Path(app.config["CADDY_DATA"]).resolve())
    assert exported["WUYE_COMPRESS_REGISTER"] == "false"  # Caddy compresses


def test_the_app_leaves_compression_to_caddy_when_serve_says_so(make_app):
    app = make_app(COMPRESS_REGISTER=False)
    response = app.test_client().get("/login", headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_serve_env_gives_litestream_the_database_and_its_replica(make_app):
    app = make_app(REPLICA_URL="s3://bucket-1250000000/wuye", REPLICA_REGION="ap-guangzhou",
                   REPLICA_ENDPOINT="https://cos.ap-guangzhou.myqcloud.com")
    result = app.test_cli_runner().invoke(args=["serve-env"])
    exported = dict(shlex.split(line)[1].split("=", 1) for line in result.output.splitlines())
    assert exported["WUYE_DATABASE"] == str(Path(app.config["DATABASE"]).resolve())
    assert (exported["WUYE_REPLICA_URL"], exported["WUYE_REPLICA_REGION"],
            exported["WUYE_REPLICA_ENDPOINT"], exported["WUYE_REPLICA_FORCE_PATH_STYLE"]) == (
        "s3://bucket-1250000000/wuye", "ap-guangzhou", "https://cos.ap-guangzhou.myqcloud.com",
        "")
    # None configured: serve.sh starts no replicator.
    plain = make_app().test_cli_runner().invoke(args=["serve-env"]).output
    assert "export WUYE_REPLICA_URL=''" in plain.splitlines()


def test_two_proxies_count_both_hops_but_take_scheme_and_host_from_the_nearest(make_app):
    """A load balancer before Caddy: X-Forwarded-For carries two hops, while Caddy sets
    the scheme and host once (the same-origin check of /sync needs them)."""
    app = make_app(PROXY_COUNT=2)
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request
        seen.update(addr=request.remote_addr, url=request.host_url)
        return "ok"

    app.test_client().get("/whoami", environ_base={"REMOTE_ADDR": PROXY}, headers={
        "X-Forwarded-For": "203.0.113.7, 10.0.0.2", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "wuye.example.com"})
    assert seen == {"addr": "203.0.113.7", "url": "https://wuye.example.com/"}


def test_serve_env_keeps_a_false_setting_false(make_app):
    # WUYE_REPLICA_FORCE_PATH_STYLE=false (COS, as DEPLOY.md says) is read as JSON: False.
    app = make_app(REPLICA_FORCE_PATH_STYLE=False)
    result = app.test_cli_runner().invoke(args=["serve-env"])
    assert "export WUYE_REPLICA_FORCE_PATH_STYLE=false" in result.output.splitlines()


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "192.168.1.20:8000", "[::]:8000"])
def test_serve_env_refuses_an_app_server_reachable_from_the_network(make_app, bind):
    result = make_app(GUNICORN_BIND=bind).test_cli_runner().invoke(args=["serve-env"])
    assert result.exit_code == 1 and "loopback" in result.output


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "[::1]:8000", "localhost:8000",
                                  "unix:/run/wuye.sock"])
def test_serve_env_takes_an_app_server_on_loopback(make_app, bind):
    assert make_app(GUNICORN_BIND=bind).test_cli_runner().invoke(
        args=["serve-env"]).exit_code == 0


@pytest.mark.parametrize("bad", [{"HTTPS_PORT": "abc"}, {"CADDY_TLS": "self-signed"}])
def test_serve_env_refuses_a_bad_setting_with_a_message(make_app, bad):
    result = make_app(**bad).test_cli_runner().invoke(args=["serve-env"])
    assert result.exit_code == 1
    assert "not valid" in result.output and "export" not in result.output


# --- deploy/Caddyfile ---------------------------------------------------------------------

def find_handlers(node, name: str) -> list[dict]:
    """Every handler of this kind anywhere in Caddy's JSON configuration."""
    found = []
    if isinstance(node, dict):
        if node.get("handler") == name:
            found.append(node)
        for value in node.values():
            found += find_handlers(value, name)
    elif isinstance(node, list):
        for value in node:
            found += find_handlers(value, name)
    return found


def hsts(config: dict) -> bool:
    return any("Strict-Transport-Security" in h.get("response", {}).get("set", {})
               for h in find_handlers(config, "headers"))


def caddy_config(settings: dict[str, str], home: Path) -> dict:
    """deploy/Caddyfile as Caddy itself reads it with these settings (its JSON)."""
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"),
         "--adapter", "caddyfile"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), **settings},
        capture_output=True, text=True, check=True)
    return json.loads(adapted.stdout)


@pytest.mark.skipif(not shutil.which("caddy"), reason="`make system-deps` installs caddy")
def test_the_caddyfile_as_caddy_reads_it(tmp_path):
    settings = https.serve_settings({**BASE, "CADDY_DATA": str(tmp_path)}, "192.168.1.20")
    config = caddy_config(settings, tmp_path)
    assert config["admin"] == {"disabled": True}
    assert config["storage"] == {"module": "file_system", "root": str(tmp_path)}
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == ["192.168.1.20"]
    assert [i["module"] for i in policy["issuers"]] == ["internal"]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    servers = config["apps"]["http"]["servers"].values()
    (secure,) = [s for s in servers if s["listen"] == [":443"]]
    (plain,) = [s for s in servers if s["listen"] == [":80"]]
    (proxy,) = find_handlers(secure, "reverse_proxy")
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:8000"}]
    assert find_handlers(secure, "request_body") == [
        {"handler": "request_body", "max_size": 32 * 1024 * 1024}]
    (encode,) = find_handlers(secure, "encode")
    assert set(encode["encodings"]) == {"zstd", "gzip"}
    # No HSTS with Caddy's own CA: a new CA must not lock phones out for a year.
    assert not hsts(secure)
    # Plain http: the root certificate, and a redirect to https for everything else.
    assert not find_handlers(plain, "reverse_proxy")
    (redirect,) = find_handlers(plain, "static_response")
    assert redirect["status_code"] == 308
    assert redirect["headers"]["Location"] == ["https://192.168.1.20{http.request.uri}"]
    (files,) = find_handlers(plain, "file_server")
    assert any(h.get("root") == f"{tmp_path}/{https.ROOT_CERT.parent}"
               for h in find_handlers(plain, "vars"))
    assert any(h.get("response", {}).get("set", {}).get("Content-Type") == [https.CA_MIMETYPE]
               for h in find_handlers(plain, "headers"))
    assert files
    # No Server banner on either site (e2e/test_https.py checks the answers themselves).
    for server in (secure, plain):
        assert any(h.get("response", {}).get("delete") == ["Server"]
                   and h["response"].get("deferred") for h in find_handlers(server, "headers"))


@pytest.mark.skipif(not shutil.which("caddy"), reason="`make system-deps` installs caddy")
def test_with_a_domain_the_caddyfile_leaves_certificates_to_acme(tmp_path):
    settings = https.serve_settings({**BASE, "DOMAIN": "wuye.example.com"}, "192.168.1.20")
    config = caddy_config(settings, tmp_path)
    assert "automation" not in config["apps"].get("tls", {})  # Caddy's default: ACME
    assert find_handlers(config, "reverse_proxy")
    assert hsts(config)  # public certificates: browsers keep to https for a year
