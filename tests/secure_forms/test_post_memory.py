"""Issue 19 (a): a page's POST body is read as it streams and refused as soon as it is over the page's cap, so a
1 GB POST costs the server almost nothing (before: the approval page read the whole body; a 300 MiB POST raised RSS
by 574 MiB). The pages run in a subprocess (their own listener, as under stdio); its peak RSS (VmHWM) is compared
before and after."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from integrations_mcp.secure_forms.scripted_person import BROWSER_SUBMIT

pytestmark = pytest.mark.slow

GIB = 1 << 30
CHUNK = b"x" * (1 << 20)
SERVE = """
import asyncio, sys, time
from integrations_mcp.approvals.page import approval_routes
from integrations_mcp.approvals.store import ApprovalStore
from integrations_mcp.secure_forms.server import SecureFormServer
from integrations_mcp.secure_forms.store import FormField

async def main():
    approvals = ApprovalStore()
    server = SecureFormServer()
    server.add_pages(lambda prefix, public: approval_routes(approvals, prefix, public))
    form, form_url = await server.create_form(owner="o", subject="s", fields=[FormField("password", "Password")],
                                              purpose={})
    approval = await approvals.create(tool="t", target="x", summary="s", digest="d", owner="o", on_page=True)
    print(form_url, await server.page_url(f"approvals/{approval.page_id}"), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def gigabyte() -> Iterator[bytes]:
    for _ in range(GIB // len(CHUNK)):
        yield CHUNK


def declared_gigabyte(url: str) -> bytes:
    """Headers announcing 1 GiB, and no body: the answer must come without the server waiting for it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        head = "".join(f"{k}: {v}\r\n" for k, v in {**BROWSER_SUBMIT, "host": parts.netloc,
                                                       "content-type": "application/x-www-form-urlencoded",
                                                       "content-length": str(GIB)}.items())
        conn.sendall(f"POST {parts.path} HTTP/1.1\r\n{head}\r\n".encode())
        return conn.recv(65536)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_1_gb_post_to_either_page_is_refused_early_and_costs_under_50_mib() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, text=True)
    try:
        form_url, approval_url = proc.stdout.readline().split()
        with httpx2.Client(timeout=60) as http:
            assert http.get(form_url).status_code == 200 and http.get(approval_url).status_code == 200
            before = peak_rss_kib(proc.pid)
            for url in (form_url, approval_url):
                headers = {**BROWSER_SUBMIT, "content-type": "application/x-www-form-urlencoded"}
                started = time.monotonic()
                try:
                    answer = http.post(url, content=gigabyte(), headers=headers)
                except httpx2.TransportError:
                    pass  # the server answered 413 and closed the connection while the body was still streaming
                else:
                    assert answer.status_code == 413, answer.text
                print(f"{url.rsplit('/', 2)[-2]}: refused after {time.monotonic() - started:.1f} s")
                assert declared_gigabyte(url).startswith(b"HTTP/1.1 413")  # refused before anything is read
        grown_mib = (peak_rss_kib(proc.pid) - before) / 1024
        print(f"peak RSS grew by {grown_mib:.1f} MiB for two 1 GiB POSTs")
        assert grown_mib < 50
    finally:
        proc.terminate()
        proc.wait(timeout=10)
