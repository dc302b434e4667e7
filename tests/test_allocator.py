"""Arrow's memory pool: the pipeline runs on jemalloc where pyarrow has it, unless the user chose a pool."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

from tests.conftest import REPO


def has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except pa.ArrowException:
        return False
    return True


def pool_after(statement: str, **env: str) -> str:
    """The backend of Arrow's default pool after statement, in a fresh interpreter."""
    code = f"import pyarrow as pa\n{statement}\nprint(pa.default_memory_pool().backend_name)"
    environment = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | env
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=environment, cwd=REPO
    )
    return completed.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(not has_jemalloc(), reason="this pyarrow has no jemalloc")
def test_validation_switches_to_jemalloc() -> None:
    before = pool_after("pass")
    after = pool_after("import eventdata\nassert eventdata.validate_project('.').report.valid")

    assert before != "jemalloc"  # pyarrow's own default (mimalloc in the wheels)
    assert after == "jemalloc"


def test_a_pool_the_user_chose_is_kept() -> None:
    statement = "import eventdata\neventdata.validate_project('.')"

    assert pool_after(statement, ARROW_DEFAULT_MEMORY_POOL="system") == "system"


@pytest.mark.skipif(not has_jemalloc(), reason="this pyarrow has no jemalloc")
def test_the_command_line_runs_on_jemalloc() -> None:
    statement = (
        "from click.testing import CliRunner\nfrom eventdata.cli import cli\n"
        "assert CliRunner().invoke(cli, ['codebook']).exit_code == 0"
    )

    assert pool_after(statement) == "jemalloc"


@pytest.mark.skipif(not has_jemalloc(), reason="this pyarrow has no jemalloc")
def test_freed_pages_go_back_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from eventdata import allocator

    decays: list[int] = []
    chosen: list[str] = []
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setattr(pa, "default_memory_pool", pa.system_memory_pool)  # as if jemalloc were not chosen yet
    monkeypatch.setattr(pa, "set_memory_pool", lambda pool: chosen.append(pool.backend_name))
    monkeypatch.setattr(pa, "jemalloc_set_decay_ms", decays.append)

    allocator.use_jemalloc()

    assert chosen == ["jemalloc"]
    assert decays == [0]


def test_no_decay_is_set_on_a_pool_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    from eventdata import allocator

    decays: list[int] = []
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    monkeypatch.setattr(pa, "jemalloc_set_decay_ms", decays.append)

    allocator.use_jemalloc()

    assert decays == []


ARENA_PROBE = """
import ctypes, os, tempfile, threading
import numpy as np
{setup}
arrays = []
def allocate():
    for _ in range(400):  # small arrays from malloc (below its mmap threshold), kept
        arrays.append(np.ones(2_000))
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.TemporaryFile() as out:
    stream = libc.fdopen(os.dup(out.fileno()), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    out.seek(0)
    print(out.read().decode().count("<heap nr="))
"""


def arenas_after(setup: str, **env: str) -> int:
    """How many malloc arenas eight threads allocating at once use after setup, in a fresh interpreter."""
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    completed = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE.format(setup=setup)],
        capture_output=True, text=True, timeout=120, check=True, env=environment, cwd=REPO,
    )  # fmt: skip
    return int(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_the_pipeline_threads_share_two_malloc_arenas() -> None:
    assert arenas_after("pass") > 2  # glibc's own default: an arena per thread that meets another
    assert arenas_after("from eventdata.allocator import use_jemalloc; use_jemalloc()") <= 2
    assert arenas_after("from eventdata.allocator import use_jemalloc; use_jemalloc()", MALLOC_ARENA_MAX="4") > 2
    tunable = "glibc.malloc.arena_max=4"
    assert arenas_after("from eventdata.allocator import use_jemalloc; use_jemalloc()", GLIBC_TUNABLES=tunable) > 2
