"""Configuration files for the origin and the proxies under test. Every
proxy gets the same job: one worker, HTTP/1.1 and TLS 1.3 (+ h2 by ALPN)
listeners, keep-alive to the origin, X-Forwarded-For added, no access log."""

import base64
import hashlib
import hmac
import json
from pathlib import Path

from .procs import nofile_limit

ORIGIN_PORT = 19000
SIZES = (2, 16384)


def nginx_origin(tmp: Path) -> Path:
    """nginx serving /bytes/N from static files (the alternative origin)."""
    nofile = nofile_limit()
    www = tmp / "www" / "bytes"
    www.mkdir(parents=True, exist_ok=True)
    for n in SIZES:
        (www / str(n)).write_bytes(b"a" * n)
    return _write(tmp / "nginx-origin.conf", f"""
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {tmp}/nginx-origin.pid;
error_log {tmp}/nginx-origin.error.log warn;
events {{ worker_connections {nofile // 2}; }}
http {{
    {_nginx_temp_paths(tmp, "origin")}
    access_log off;
    default_type text/plain;
    sendfile on;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    server {{
        listen 127.0.0.1:{ORIGIN_PORT} backlog=4096;
        root {tmp}/www;
    }}
}}
""")


def nginx_proxy(tmp: Path, plain: int, tls: int, cert: Path, key: Path) -> Path:
    nofile = nofile_limit()
    return _write(tmp / "nginx-proxy.conf", f"""
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {tmp}/nginx-proxy.pid;
error_log {tmp}/nginx-proxy.error.log warn;
events {{ worker_connections {nofile - 256}; }}
http {{
    {_nginx_temp_paths(tmp, "proxy")}
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    upstream origin {{
        server 127.0.0.1:{ORIGIN_PORT};
        keepalive 512;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }}
    server {{
        listen 127.0.0.1:{plain} backlog=4096;
        listen 127.0.0.1:{tls} ssl http2 backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
""")


def haproxy(tmp: Path, plain: int, tls: int, cert: Path, key: Path) -> Path:
    nofile = nofile_limit()
    pem = tmp / "haproxy.pem"  # HAProxy wants certificate and key in one file
    pem.write_text(cert.read_text() + key.read_text())
    return _write(tmp / "haproxy.cfg", f"""
global
    nbthread 1
    maxconn {nofile - 1000}
    no strict-limits
    ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
    mode http
    timeout connect 5s
    timeout client 600s
    timeout server 600s
    timeout http-keep-alive 600s
    option forwardfor
    http-reuse always
frontend bench
    bind 127.0.0.1:{plain} backlog 4096
    bind 127.0.0.1:{tls} ssl crt {pem} alpn h2,http/1.1 backlog 4096
    default_backend origin
backend origin
    server origin 127.0.0.1:{ORIGIN_PORT} pool-max-conn 512
""")


def _hs256_jwt(secret: str, claims: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


# The token every load generator sends (to every target, so the requests are
# the same bytes everywhere): an HS256 JWT the auth plugin verifies in the
# plugin-cost run, and accepts as a static token in the 3-plugin chain.
JWT_SECRET = "bench-secret-0123456789abcdef0123"
BEARER_TOKEN = _hs256_jwt(JWT_SECRET, {"iss": "bench", "aud": "bench", "sub": "bench-user",
                                       "exp": 4102444800})

# The 3-plugin chain: a WAF with a few rules that never match the benchmark's
# path, bearer-token auth, and a rewrite that sets a request header and drops
# a response header. Each runs its on-request and on-response hooks.
PLUGIN_CONFIG = {
    "waf": '{ block_path_prefixes = ["/admin", "/.git"], block_patterns = ["../", "<script", "union select"] }',
    "auth": f'{{ bearer_tokens = ["sha256:{hashlib.sha256(BEARER_TOKEN.encode()).hexdigest()}"] }}',
    "rewrite": '{ request = { set = { x-bench = "1" } }, response = { remove = ["x-origin"] } }',
}


def ravelin(tmp: Path, name: str, plain: int, tls: int, admin: int,
            cert: Path, key: Path, plugins: dict[str, tuple[Path, str]] | None) -> Path:
    """Ravelin's TOML (the shape docs/configuration.md documents), one worker;
    with `plugins` ({name: (component, config)}), the route runs them in
    that order."""
    chain, decls = "", ""
    if plugins:
        chain = "plugins = [" + ", ".join(f'"{p}"' for p in plugins) + "]\n"
        decls = "".join(f'\n[plugins.{p}]\nsource = "{path}"\nconfig = {settings}\n'
                        for p, (path, settings) in plugins.items())
    return _write(tmp / f"{name}.toml", f"""
[server]
worker_threads = 1
access_log = "off"

[admin]
listen = "127.0.0.1:{admin}"

# Room for the 10k idle connections, all from 127.0.0.1 (nginx and HAProxy
# have no per-address limit in their configs either).
[limits]
max_connections = 20000
max_connections_per_ip = 20000

[[listeners]]
name = "plain"
listen = "127.0.0.1:{plain}"

[[listeners]]
name = "tls"
listen = "127.0.0.1:{tls}"
tls.certificates = [{{ cert = "{cert}", key = "{key}" }}]

[upstreams.origin]
endpoints = [{{ address = "127.0.0.1:{ORIGIN_PORT}" }}]
pool.max_idle_per_endpoint = 512  # as nginx's `keepalive 512`, HAProxy's pool-max-conn

[[routes]]
name = "all"
path_prefix = "/"
upstream = "origin"
{chain}{decls}""")


def _nginx_temp_paths(tmp: Path, tag: str) -> str:
    d = tmp / f"nginx-{tag}-temp"
    d.mkdir(parents=True, exist_ok=True)
    return " ".join(f"{k}_temp_path {d}/{k};" for k in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip())
    return path
