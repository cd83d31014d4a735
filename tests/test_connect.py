"""Admin → Connect phones: the app's address as text and QR code, and with Caddy's own CA
its root certificate, fingerprint and the steps for Android and iPhone."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from webapp import https

from .pages import Page

needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"),
                                reason="zbarimg (zbar-tools): `make system-deps` installs it")


def make_ca(folder: Path) -> bytes:
    """A root certificate where Caddy keeps its own, as Caddy's CA would have made it."""
    path = folder / https.ROOT_CERT
    path.parent.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=Test Local Authority", "-keyout", str(path.parent / "root.key"),
                    "-out", str(path)], check=True, capture_output=True)
    return path.read_bytes()


def openssl_fingerprint(pem: bytes) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                         input=pem, capture_output=True, check=True).stdout.decode()
    return out.strip().split("=", 1)[1]


def decode_qr(src: str, tmp_path: Path) -> list[str]:
    """Read a QR code image (a data: URI) back with a real decoder."""
    header, data = src.split(",", 1)
    assert header == "data:image/png;base64"
    path = tmp_path / f"qr{len(list(tmp_path.iterdir()))}.png"
    path.write_bytes(base64.b64decode(data))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True)
    return out.stdout.splitlines()


def connect_page(client) -> Page:
    response = client.get("/admin/connect")
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


@needs_zbar
def test_without_caddys_ca_the_page_shows_the_address_only(app, client, auth, tmp_path):
    app.config.update(PUBLIC_URL="https://wuye.example.com", CADDY_DATA=str(tmp_path / "c"))
    auth.login("admin")
    page = connect_page(client)
    assert page.text("data-address") == "https://wuye.example.com/"
    (qr,) = page.find("data-qr", "address")
    assert decode_qr(qr["src"], tmp_path) == ["https://wuye.example.com/"]
    assert not page.find("data-connect", "certificate")
    assert client.get("/admin/connect/ca.crt").status_code == 404


def test_without_a_public_url_the_address_is_the_one_in_use(client, auth):
    auth.login("admin")
    page = connect_page(client)
    assert page.text("data-address") == "http://localhost/"


@needs_zbar
def test_with_caddys_ca_the_page_offers_its_root_certificate(app, client, auth, tmp_path):
    data = tmp_path / "caddy"
    pem = make_ca(data)
    app.config.update(PUBLIC_URL="https://192.168.1.20", CADDY_DATA=str(data), HTTP_PORT=8080)
    auth.login("admin")
    page = connect_page(client)
    assert page.find("data-connect", "certificate")
    assert page.text("data-fingerprint") == openssl_fingerprint(pem)
    # The phone cannot open https yet: the certificate's code is its plain-http address.
    assert page.text("data-ca-url") == "http://192.168.1.20:8080/ca.crt"
    (ca_qr,) = page.find("data-qr", "certificate")
    assert decode_qr(ca_qr["src"], tmp_path) == ["http://192.168.1.20:8080/ca.crt"]
    (address_qr,) = page.find("data-qr", "address")
    assert decode_qr(address_qr["src"], tmp_path) == ["https://192.168.1.20/"]
    # The steps, in Chinese first.
    android = page.text("data-steps", "android")
    assert "加密与凭据" in android and "CA 证书" in android
    ios = page.text("data-steps", "ios")
    assert "VPN与设备管理" in ios and "证书信任设置" in ios
    assert "添加到主屏幕" in page.text("data-steps", "home-screen")
    (link,) = page.find("data-ca-download")
    download = client.get(link["href"])
    assert download.status_code == 200
    assert download.mimetype == "application/x-x509-ca-cert"
    assert download.data == pem


def test_a_domain_with_public_certificates_needs_no_ca(app, client, auth, tmp_path):
    data = tmp_path / "caddy"
    make_ca(data)  # left over from an earlier LAN set-up
    app.config.update(DOMAIN="wuye.example.com", CADDY_DATA=str(data))
    auth.login("admin")
    assert not connect_page(client).find("data-connect", "certificate")
    assert client.get("/admin/connect/ca.crt").status_code == 404


def test_the_admin_index_links_to_it_and_other_roles_may_not_open_it(client, auth):
    auth.login("admin")
    index = Page(client.get("/admin").get_data(as_text=True))
    (link,) = index.find("data-nav", "connect")
    assert link["href"] == "/admin/connect"
    auth.logout()
    auth.login("manager")
    assert client.get("/admin/connect").status_code == 403
    assert client.get("/admin/connect/ca.crt").status_code == 403
    auth.logout()
    assert client.get("/admin/connect").status_code == 302  # to sign in
