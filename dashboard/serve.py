"""The dashboard on a free local port, for the browser tests, the screenshots and the
benchmarks: ``with running(env=...) as url: ...`` starts ``streamlit run dashboard/Home.py``,
waits until it answers, and stops it on the way out."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Iterator

HOME = Path(__file__).with_name("Home.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(*, env: dict[str, str] | None = None, log: IO | None = None,
            timeout_s: float = 60.0) -> Iterator[str]:
    """Yield the URL of a dashboard started with ``env`` added to this process's environment;
    its output goes to ``log`` (discarded when None)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(HOME), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=HOME.parent.parent, env={**os.environ, **(env or {})},
        stdout=log if log is not None else subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start on port {port}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
