"""eventdata: news articles → validated, versioned conflict-event data packages.

Example::

    import eventdata

    dataset = eventdata.Dataset.open(".")          # a dataset folder (schemas/, seeds/, dist-data/)
    validation = eventdata.validate_project(dataset)
    for problem in validation.report.problems:
        print(problem.format())
    result = eventdata.build_package(dataset)        # the released version, or dist-data/<name>/draft/
    events = eventdata.read_events(result.package_dir)
"""

from __future__ import annotations

__version__ = "0.2.0"

from eventdata.build import BuildResult, build_package  # noqa: E402  # __version__ first: build imports it
from eventdata.dataset import Dataset  # noqa: E402
from eventdata.errors import EventdataError, Problem, Report  # noqa: E402
from eventdata.load import load, update_parquet  # noqa: E402
from eventdata.project import Project, init_project, load_project  # noqa: E402
from eventdata.read import read_events  # noqa: E402
from eventdata.validate import Validation, validate_project  # noqa: E402

__all__ = [
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
