"""The wheel installs into a fresh venv from the lock file, and `eventdata init` + `build` work without the repo."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

TIMEOUT = 240  # seconds for one step; pip's cache keeps the install well under this


def run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert completed.returncode == 0, f"{args} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
    return completed


@pytest.mark.slow
def test_install_wheel_init_and_build(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "SOURCE_DATE_EPOCH")
    }
    expected_schema = (REPO / "schemas" / "events.schema.json").read_bytes()

    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, REPO], tmp_path, env)
    (wheel,) = wheels.glob("eventdata-*.whl")

    environment = tmp_path / "venv"
    assert REPO not in environment.parents
    venv.EnvBuilder(with_pip=True, clear=True).create(environment)
    bin_dir = environment / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", "-c", REPO / "requirements.lock", wheel], tmp_path, env)

    work = tmp_path / "empty"
    work.mkdir()
    located = run([bin_dir / "python", "-c", "import eventdata; print(eventdata.__file__)"], work, env)
    assert Path(located.stdout.strip()).is_relative_to(environment)  # the wheel, not the editable checkout

    run([bin_dir / "eventdata", "init", "ds"], work, env)
    built = run([bin_dir / "eventdata", "--project", "ds", "build"], work, env)
    package_dir = work / built.stdout.strip()
    assert (package_dir / "datapackage.json").is_file()
    assert (work / "ds" / "schemas" / "events.schema.json").read_bytes() == expected_schema
