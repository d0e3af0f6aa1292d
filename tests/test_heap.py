"""Tests for instdet.heap: freed training memory stays in the process for the next step."""

import platform
import subprocess
import sys
import textwrap

import pytest

from instdet import heap

glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

KEPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    from instdet.heap import keep_freed_memory
    if sys.argv[1] == "keep":
        assert keep_freed_memory()
    def resident():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    before = resident()
    np.ones(1 << 23).sum()  # 64 MiB, written and freed: a block glibc maps only for itself
    print(resident() - before)
""")


def kept_after_free(mode):
    """Bytes still resident after a 64 MiB block was freed, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", KEPT, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not glibc, reason="the setting exists in glibc only")
def test_a_freed_block_stays_for_the_next_step():
    assert kept_after_free("default") < 16 << 20  # unmapped, back to the kernel
    assert kept_after_free("keep") > 60 << 20  # kept in the heap for reuse


@pytest.mark.skipif(not glibc, reason="the setting exists in glibc only")
def test_the_setting_is_taken_once(monkeypatch):
    monkeypatch.setattr(heap, "_kept", False)
    calls = []
    real = heap.ctypes.CDLL
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: calls.append(a) or real(*a))
    assert heap.keep_freed_memory() is True
    assert heap.keep_freed_memory() is True
    assert len(calls) == 1


@pytest.mark.parametrize("system, libc", [("Darwin", ""), ("Windows", ""), ("Linux", "musl")])
def test_elsewhere_nothing_changes(monkeypatch, system, libc):
    monkeypatch.setattr(heap, "_kept", False)
    monkeypatch.setattr(heap.platform, "system", lambda: system)
    monkeypatch.setattr(heap.platform, "libc_ver", lambda: (libc, ""))
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda *a: pytest.fail("libc was touched"))
    assert heap.keep_freed_memory() is False
