"""Debian's nginx with deploy/nginx/f1analyzer.conf.template in front of three real API processes.

Everything runs on 127.0.0.1 with free ports; the certificate is self-signed and made here with
the openssl CLI. The template is rendered with ``envsubst`` and an explicit variable list, the
same way the official nginx image renders /etc/nginx/templates at start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import httpx
import pytest

from tests.helpers import REPO, free_port, stop_process, wait_for_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TEMPLATE = REPO / "deploy" / "nginx" / "f1analyzer.conf.template"

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")

MAIN_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/f1analyzer.conf;
}}
"""


def make_cert(dir_: Path) -> tuple[Path, Path]:
    cert, key = dir_ / "cert.pem", dir_ / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
         str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def render_template(values: dict[str, str]) -> str:
    text = TEMPLATE.read_text()
    envsubst = shutil.which("envsubst")
    if envsubst:
        shell_format = " ".join("${%s}" % k for k in values)
        r = subprocess.run([envsubst, shell_format], input=text, capture_output=True, text=True,
                           env={**os.environ, **values}, check=True, timeout=30)
        return r.stdout
    return Template(text).safe_substitute(values)


class Nginx:
    """One nginx master on loopback with a rendered config; ``.https``/``.http`` base URLs."""

    def __init__(self, dir_: Path, upstreams: list[str], cert: Path, key: Path, **overrides: str):
        self.dir = dir_
        (dir_ / "tmp").mkdir(parents=True, exist_ok=True)
        snippets = dir_ / "snippets"
        snippets.mkdir(exist_ok=True)
        (snippets / "x-upstream.conf").write_text("add_header X-Upstream $upstream_addr always;\n")
        self.http_port, self.https_port = free_port(), free_port()
        values = {
            "F1A_UPSTREAM_1": upstreams[0], "F1A_UPSTREAM_2": upstreams[1], "F1A_UPSTREAM_3": upstreams[2],
            "NGINX_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "NGINX_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "NGINX_HTTPS_REDIRECT_PORT": f":{self.https_port}",
            "NGINX_TLS_CERT": str(cert), "NGINX_TLS_KEY": str(key),
            "NGINX_RATE_API": "1000r/s", "NGINX_BURST_API": "1000",
            "NGINX_RATE_STRATEGY": "1000r/s", "NGINX_BURST_STRATEGY": "1000",
            "NGINX_SNIPPETS_DIR": str(snippets),
            **overrides,
        }
        rendered = render_template(values)
        assert "${" not in "\n".join(l for l in rendered.splitlines() if not l.lstrip().startswith("#"))
        (dir_ / "f1analyzer.conf").write_text(rendered)
        (dir_ / "nginx.conf").write_text(MAIN_CONF.format(dir=dir_))
        test = subprocess.run([NGINX, "-t", "-p", str(dir_), "-c", str(dir_ / "nginx.conf")],
                              capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, test.stderr
        self.proc = subprocess.Popen([NGINX, "-p", str(dir_), "-c", str(dir_ / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.https_port, proc=self.proc)
        wait_for_port(self.http_port, proc=self.proc)
        self.https = f"https://127.0.0.1:{self.https_port}"
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.cert = cert

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.https, verify=ssl.create_default_context(cafile=str(self.cert)),
                            timeout=30, **kw)

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def proxy(api_fleet, cert, tmp_path_factory):
    n = Nginx(tmp_path_factory.mktemp("nginx"), api_fleet.addresses, *cert)
    try:
        yield n
    finally:
        n.stop()


# ------------------------------------------------------------------------------------------ TLS
@pytest.mark.slow
def test_https_answers_health_with_security_headers(proxy):
    with proxy.client() as c:
        r = c.get("/health")
    assert r.status_code == 200
    assert r.json()["components"]["data_collector"] is True
    assert r.headers["strict-transport-security"].startswith("max-age=")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "nginx/" not in r.headers.get("server", "")  # server_tokens off


@pytest.mark.slow
def test_http_redirects_to_https(proxy):
    r = httpx.get(f"{proxy.http}/races?season=2024", follow_redirects=False, timeout=10)
    assert r.status_code in (301, 308)
    assert r.headers["location"] == f"https://127.0.0.1:{proxy.https_port}/races?season=2024"
    # a load balancer's liveness probe stays on plain HTTP
    assert httpx.get(f"{proxy.http}/nginx-health", timeout=10).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_modern_tls_versions_accepted(proxy, version):
    ctx = ssl.create_default_context(cafile=str(proxy.cert))
    ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
    with socket.create_connection(("127.0.0.1", proxy.https_port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
            assert tls.version() == version.replace("_", ".")


@pytest.mark.slow
def test_tls_1_1_is_refused(proxy):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", proxy.https_port), timeout=10) as sock:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(sock, server_hostname="localhost")


# ------------------------------------------------------------------------------- load balancing
@pytest.mark.slow
def test_requests_spread_over_all_three_instances(proxy, api_fleet):
    seen = Counter()
    with proxy.client() as c:
        for _ in range(30):
            r = c.get("/health")
            assert r.status_code == 200
            seen[r.headers["x-upstream"]] += 1
    assert set(seen) == set(api_fleet.addresses), seen


@pytest.mark.slow
def test_request_id_is_forwarded_and_echoed(proxy):
    with proxy.client() as c:
        given = c.get("/health", headers={"X-Request-ID": "test-rid-123"})
        made = c.get("/health")
    assert given.headers["x-request-id"] == "test-rid-123"
    assert len(made.headers["x-request-id"]) >= 16  # nginx's $request_id, passed to the API


@pytest.mark.slow
def test_metrics_are_not_exposed_through_the_proxy(proxy):
    with proxy.client() as c:
        assert c.get("/metrics").status_code == 404


@pytest.mark.slow
def test_killed_instance_causes_no_failed_requests(proxy, api_fleet):
    """SIGKILL one instance: every later request still succeeds (proxy_next_upstream).

    nginx retries a request on another instance only while nothing of the answer has reached the
    client. The API writes a response's head and body separately, so a kill that falls between the
    two cuts that one answer short; each hammering thread may see that once, for the request it had
    in flight at the kill, and goes on with a new connection. Anything else is a failure.
    """
    dead = api_fleet.addresses[0]
    statuses, upstreams = [], []
    errors: list[BaseException] = []
    cut_short: list[BaseException] = []
    stop = threading.Event()

    def hammer():
        cut_short_here: list[BaseException] = []
        try:
            while not stop.is_set():
                try:
                    with proxy.client() as c:
                        while not stop.is_set():
                            r = c.get("/health")
                            statuses.append(r.status_code)
                except httpx.RemoteProtocolError as exc:
                    # the head arrived ("expected N" bytes of body), the body never did
                    if "expected" not in str(exc) or cut_short_here:
                        raise
                    cut_short_here.append(exc)
                    cut_short.append(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        api_fleet.kill(0)
        # requests that started after the kill: all must be answered by the survivors
        with proxy.client() as c:
            for _ in range(30):
                r = c.get("/health")
                assert r.status_code == 200, r.text
                upstreams.append(r.headers["x-upstream"])
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        api_fleet.restart(0)
    assert not errors, errors
    assert len(cut_short) <= len(threads), cut_short
    # GETs that were in flight on the dead instance, their answer not begun, are retried elsewhere
    assert set(statuses) == {200}, Counter(statuses)
    served_by = {u.split(", ")[-1] for u in upstreams}
    assert dead not in served_by
    # least_conn may keep choosing one survivor for sequential requests: only the dead one is banned
    assert served_by and served_by <= set(api_fleet.addresses[1:])


# --------------------------------------------------------------------- rate limits, error shape
@pytest.mark.slow
def test_limit_req_rejects_with_the_api_error_shape(api_fleet, cert, tmp_path):
    n = Nginx(tmp_path, api_fleet.addresses, *cert, NGINX_RATE_STRATEGY="1r/m", NGINX_BURST_STRATEGY="2")
    try:
        with n.client() as c:
            codes = [c.post("/strategy/generate", json={"season": 2024, "event": "Monza"})
                     for _ in range(6)]
            other = c.get("/health")
    finally:
        n.stop()
    limited = [r for r in codes if r.status_code == 429]
    assert len(limited) == 3  # 1 + burst 2 pass, the rest are refused by nginx
    body = limited[0].json()
    assert body["error"]["code"] == "rate_limited" and body["error"]["details"]["limit"] == "proxy"
    assert limited[0].headers["retry-after"] == "1"
    assert all(r.status_code != 429 for r in codes[:3])
    assert other.status_code == 200  # the strategy zone does not limit other routes


@pytest.mark.slow
def test_no_instance_up_gives_json_503(cert, tmp_path):
    closed = [f"127.0.0.1:{free_port()}" for _ in range(3)]
    n = Nginx(tmp_path, closed, *cert)
    try:
        with n.client() as c:
            r = c.get("/races", headers={"X-Request-ID": "rid-503"})
    finally:
        n.stop()
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "backend_unavailable"
    assert r.headers["x-request-id"] == "rid-503"


# ------------------------------------------------------------------------------- proxy headers
class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_proxy_headers_reach_the_upstream(cert, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    addr = f"127.0.0.1:{server.server_address[1]}"
    n = Nginx(tmp_path, [addr] * 3, *cert)
    try:
        with n.client() as c:
            got = c.get("/anything", headers={"X-Forwarded-For": "203.0.113.9",
                                              "X-Request-ID": "rid-echo"}).json()
    finally:
        n.stop()
        server.shutdown()
        server.server_close()
    assert got["x-forwarded-proto"] == "https"
    assert got["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert got["x-real-ip"] == "127.0.0.1"
    assert got["x-request-id"] == "rid-echo"
    assert got["host"] == "127.0.0.1"
