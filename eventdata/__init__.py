"""eventdata: news articles → validated, versioned conflict-event data packages.

Example::

    import eventdata

    dataset = eventdata.Dataset.open(".")          # a dataset folder (schemas/, seeds/, dist-data/)
    validation = eventdata.validate_project(dataset)
    for problem in validation.report.problems:
        print(problem.format())
    result = eventdata.build_package(dataset)        # the released version, or dist-data/<name>/draft/
    events = eventdata.read_events(result.package_dir)

The names below are imported on first use (PEP 562), so `import eventdata`, `from eventdata import load`
and `import eventdata.publish` do not pay for the validation stack (pandera, frictionless).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name → the module that defines it
_EXPORTS = {
    "BuildResult": "eventdata.build",
    "build_package": "eventdata.build",
    "Dataset": "eventdata.dataset",
    "EventdataError": "eventdata.errors",
    "Problem": "eventdata.errors",
    "Report": "eventdata.errors",
    "load": "eventdata.load",
    "update_parquet": "eventdata.load",
    "Project": "eventdata.project",
    "init_project": "eventdata.project",
    "load_project": "eventdata.project",
    "read_events": "eventdata.read",
    "Validation": "eventdata.validate",
    "validate_project": "eventdata.validate",
}

if TYPE_CHECKING:
    from eventdata.build import BuildResult, build_package
    from eventdata.dataset import Dataset
    from eventdata.errors import EventdataError, Problem, Report
    from eventdata.load import load, update_parquet
    from eventdata.project import Project, init_project, load_project
    from eventdata.read import read_events
    from eventdata.validate import Validation, validate_project

__all__ = [  # the names of _EXPORTS, spelled out for linters and type checkers
    "BuildResult",
    "Dataset",
    "EventdataError",
    "Problem",
    "Project",
    "Report",
    "Validation",
    "__version__",
    "build_package",
    "init_project",
    "load",
    "load_project",
    "read_events",
    "update_parquet",
    "validate_project",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eventdata' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(types.ModuleType):
    """The package module, so that `eventdata.load` stays the function even after `import eventdata.load`.

    Importing a submodule sets it as an attribute of its package; for `load` (a module and the
    function it defines) that would replace the function, so the function is kept instead.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}" and name in _EXPORTS:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
