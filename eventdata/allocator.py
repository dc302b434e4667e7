"""Arrow's memory pool for the pipeline: jemalloc where pyarrow has it, unless the user chose a pool; and two glibc
malloc arenas for its threads.

pyarrow's wheels default to mimalloc. For validate and build of a million events jemalloc measured (2026-12-03,
`/usr/bin/time` of build_package, paired runs) about 0.25 GB less peak memory and half the system time
(5 s instead of 9 s): the pipeline allocates and frees many column-sized buffers, which mimalloc keeps mapped and
touches again. Freed pages go back to the system at once (decay 0, not Arrow's 1 s): a build of a million
events peaked at 1.53 GB instead of 1.65 GB (2026-12-03, paired runs), at no measurable cost in time. The
environment variable ARROW_DEFAULT_MEMORY_POOL, when set, is the user's choice and is kept.

The rest (numpy's and pandas' arrays) comes from the C library's malloc. glibc gives each thread that allocates
at once with another an arena of its own, up to 8 per core, and memory freed in one is not used by the others: with
the sheets read on three threads and the checks run on two, 1M events peaked at 1.55-1.61 GB in validate, and at
1.44-1.47 GB with two arenas (2026-12-07, fresh processes, no sheet cache), in the same time. MALLOC_ARENA_MAX,
when set, is the user's choice and is kept.
"""

from __future__ import annotations

import ctypes
import os
import sys

import pyarrow as pa

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
ARENA_VARIABLE = "MALLOC_ARENA_MAX"
#: glibc's mallopt parameter for the most arenas (malloc.h), and the number the pipeline's threads share.
M_ARENA_MAX = -8
ARENAS = 2


def use_jemalloc() -> str:
    """Make jemalloc Arrow's default pool (once; buffers already allocated keep theirs) and limit the malloc arenas;
    return the pool in use."""
    if not os.environ.get(POOL_VARIABLE):
        try:
            pool = pa.jemalloc_memory_pool()
        except pa.ArrowException:  # a pyarrow built without jemalloc (e.g. on Windows): its own pool stays
            pool = None
        if pool is not None and pa.default_memory_pool().backend_name != pool.backend_name:
            pa.set_memory_pool(pool)
            pa.jemalloc_set_decay_ms(0)  # return freed pages at once: the peak is what a 24 GiB machine must hold
    limit_malloc_arenas()
    return str(pa.default_memory_pool().backend_name)


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Let threads share at most `arenas` glibc malloc arenas from now on, unless MALLOC_ARENA_MAX (or the tunable
    glibc.malloc.arena_max) is set; True when set (False on another C library or system, which keeps its own).

    Arenas made before stay in use, and glibc stops changing its limit once it has more than 8: called at the start
    of a command (and of validate_project), before its threads run.
    """
    chosen = os.environ.get(ARENA_VARIABLE) or "malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", "")
    if chosen or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
