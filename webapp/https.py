"""The app behind Caddy (deploy/): proxy headers trusted from PROXY_COUNT proxies, the
public address absolute URLs use, Secure cookies, Caddy's root certificate, and
`flask serve-env`, the settings deploy/serve.sh starts Caddy and gunicorn with."""

from __future__ import annotations

import hashlib
import ipaddress
import shlex
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import click
from flask import Flask, current_app, has_request_context, request, url_for
from flask.cli import with_appcontext
from werkzeug.middleware.proxy_fix import ProxyFix

# Where Caddy keeps its own CA's root under its storage folder.
ROOT_CERT = Path("pki", "authorities", "local", "root.crt")
CA_PATH = "/ca.crt"  # the root certificate over plain http, served by Caddy
CA_MIMETYPE = "application/x-x509-ca-cert"
# What deploy/litestream.yml reads; with no REPLICA_URL, serve.sh runs no replicator.
REPLICA_SETTINGS = ("REPLICA_URL", "REPLICA_ENDPOINT", "REPLICA_REGION",
                    "REPLICA_FORCE_PATH_STYLE")


def init_app(app: Flask) -> None:
    count = int(app.config["PROXY_COUNT"])
    if count > 0:
        # Only the last `count` hops are believed: a client's own X-Forwarded-For cannot
        # escape the sign-in throttle or the public report's per-address limit.
        # Each proxy appends to X-Forwarded-For, but the scheme and host are set once,
        # by the proxy nearest the app (Caddy replaces what came before it).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=1, x_host=1)
    if str(app.config["PUBLIC_URL"]).startswith("https://"):
        # Fixed per deployment, not read from each request's forwarded scheme: a session
        # cookie must never go out without Secure because a proxy header was missing.
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,
                          PREFERRED_URL_SCHEME="https")
    app.cli.add_command(serve_env_command)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL to print or encode (QR labels, the connect page): the configured
    PUBLIC_URL wins over the request's host, so codes point at the phone-reachable address."""
    public = current_app.config["PUBLIC_URL"]
    if public:
        return urljoin(public, url_for(endpoint, **values))
    https = current_app.config.get("PREFERRED_URL_SCHEME") == "https" or (
        has_request_context() and request.scheme == "https")
    return url_for(endpoint, _external=True, _scheme="https" if https else "http", **values)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tls_mode(config: Mapping[str, Any]) -> str:
    """'public' (ACME certificates for a domain name) or 'internal' (Caddy's own CA, for a
    LAN address); CADDY_TLS overrides, e.g. a name only the office's router resolves."""
    if config.get("CADDY_TLS"):
        return str(config["CADDY_TLS"])
    domain = str(config.get("DOMAIN") or "")
    return "public" if domain and not _is_ip(domain) else "internal"


def root_cert(config: Mapping[str, Any]) -> bytes | None:
    """Caddy's root certificate (PEM) when its internal CA is in use and has been made."""
    if tls_mode(config) != "internal":
        return None
    path = Path(config["CADDY_DATA"]) / ROOT_CERT
    return path.read_bytes() if path.is_file() else None


def fingerprint(pem: bytes) -> str:
    """SHA-256 of the certificate (DER), as phones show it: 'AB:CD:…'."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def _netloc(host: str, port: int, default: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port == default else f"{host}:{port}"


def ca_url(config: Mapping[str, Any], address: str) -> str:
    """The plain-http address of the root certificate on the host of `address`."""
    host = urlsplit(address).hostname or "localhost"
    return f"http://{_netloc(host, int(config['HTTP_PORT']), 80)}{CA_PATH}"


def lan_address() -> str:
    """This machine's address on the local network: the source address of its route out
    (a UDP connect sends nothing); loopback when there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: any routed address will do
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _env_value(value: Any) -> str:
    """A setting as an environment variable: WUYE_X=false arrives as False (the app
    reads its environment as JSON) and must leave as 'false', not as nothing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def loopback_bind(bind: str) -> bool:
    """gunicorn's address behind Caddy must not be reachable from the network: the app
    believes the X-Forwarded-For it gets, so a phone talking to gunicorn directly could
    choose its own address for the sign-in throttle."""
    if bind.startswith("unix:"):
        return True
    host = bind.rsplit(":", 1)[0].strip("[]") if ":" in bind else bind
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_settings(config: Mapping[str, Any], lan: str) -> dict[str, str]:
    """Everything deploy/serve.sh and deploy/Caddyfile need, from the app's configuration;
    WUYE_* entries are for the app itself (gunicorn inherits them)."""
    host = str(config.get("DOMAIN") or lan)
    if tls_mode(config) not in ("public", "internal"):
        raise ValueError(f"CADDY_TLS is {config['CADDY_TLS']!r}, not 'public' or 'internal'")
    if not loopback_bind(str(config["GUNICORN_BIND"])):
        raise ValueError(f"GUNICORN_BIND is {config['GUNICORN_BIND']!r}: behind Caddy the app"
                         " server listens on loopback only (127.0.0.1:PORT or unix:PATH)")
    https_port = int(config["HTTPS_PORT"])
    public = str(config.get("PUBLIC_URL") or f"https://{_netloc(host, https_port, 443)}")
    return {
        "SERVE_HOST": host,
        "SERVE_TLS": tls_mode(config),
        "SERVE_HTTPS_PORT": str(https_port),
        "SERVE_HTTP_PORT": str(int(config["HTTP_PORT"])),
        "SERVE_PUBLIC_URL": public,
        "SERVE_CADDY_DATA": str(Path(config["CADDY_DATA"]).resolve()),
        "SERVE_MAX_BODY": str(int(config["MAX_CONTENT_LENGTH"])),
        "SERVE_UPSTREAM": str(config["GUNICORN_BIND"]),
        "SERVE_GUNICORN_WORKERS": str(int(config["GUNICORN_WORKERS"])),
        "SERVE_GUNICORN_THREADS": str(int(config["GUNICORN_THREADS"])),
        "WUYE_PUBLIC_URL": public,
        # Litestream reads the database and its replica from these (deploy/litestream.yml).
        "WUYE_DATABASE": str(Path(config["DATABASE"]).resolve()),
        **{f"WUYE_{key}": _env_value(config.get(key)) for key in REPLICA_SETTINGS},
        # Caddy compresses (in Go, off the app's Python workers); the app need not.
        "WUYE_COMPRESS_REGISTER": "false",
        # Caddy is one proxy; a load balancer in front of it would make two.
        "WUYE_PROXY_COUNT": str(max(int(config["PROXY_COUNT"]), 1)),
    }


@click.command("serve-env")
@with_appcontext
def serve_env_command() -> None:
    """Print the production settings as shell exports (read by deploy/serve.sh)."""
    try:
        settings = serve_settings(current_app.config, lan_address())
    except (TypeError, ValueError) as exc:  # e.g. HTTPS_PORT=abc
        raise click.ClickException(f"a setting for `make serve` is not valid: {exc}") from None
    for key, value in settings.items():
        click.echo(f"export {key}={shlex.quote(value)}")
