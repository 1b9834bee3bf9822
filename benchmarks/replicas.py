"""Scale-out over replicas: nginx (Debian's package) in front of N `uvicorn asi_me.ui.asgi:app`
replicas on loopback, the deploy kit's own nginx.conf with loopback upstreams.

`render_nginx_conf()` is what the tests and the benchmark use to run deploy/nginx.conf
outside compose: it replaces the replicas block and points every path nginx writes at a
folder of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"
REPLICAS_BLOCK = re.compile(r"(# BEGIN replicas[^\n]*\n)(.*?)(\s*# END replicas)", re.DOTALL)


def render_nginx_conf(upstreams: Sequence[str], listen: str, runtime_dir: Path, template: str | None = None) -> str:
    """deploy/nginx.conf with `upstreams` ("127.0.0.1:8501", ...) as its replicas, listening on
    `listen` ("127.0.0.1:8080") and writing its pid and temporary files under `runtime_dir`."""
    if not upstreams:
        raise ValueError("nginx needs at least one replica to send requests to; pass e.g. ['127.0.0.1:8501'].")
    text = template if template is not None else NGINX_CONF.read_text(encoding="utf-8")
    if not REPLICAS_BLOCK.search(text):
        raise ValueError(f"{NGINX_CONF} has no '# BEGIN replicas' ... '# END replicas' block to fill in.")
    servers = "".join(f"        server {u} max_fails=1 fail_timeout=10s;\n" for u in upstreams)
    text = REPLICAS_BLOCK.sub(lambda m: m.group(1) + servers.rstrip("\n") + m.group(3), text, count=1)
    text = re.sub(r"^(\s*)listen \S+;", rf"\1listen {listen};", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^pid \S+;", f"pid {runtime_dir / 'nginx.pid'};", text, count=1, flags=re.MULTILINE)
    text = re.sub(r"(_temp_path) /tmp/", rf"\1 {runtime_dir}/", text)
    return re.sub(r"^(\s*access_log) \S+;", r"\1 off;", text, count=1, flags=re.MULTILINE)
