"""A dataset folder and `eventdata init`: a failed init leaves no half-made folder behind."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from eventdata.project import init_project


def _full_disk_at_articles_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing seeds/articles.csv, the last file but one, fails as on a full disk."""
    write_text = Path.write_text

    def failing(self: Path, *args: object, **kwargs: object) -> int:
        if self.name == "articles.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return write_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", failing)


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "empty folder"])
def test_init_that_fails_midway_leaves_no_half_dataset_and_can_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    target = tmp_path / "my-events"
    if existing:
        target.mkdir()
    with monkeypatch.context() as patched:
        _full_disk_at_articles_csv(patched)
        with pytest.raises(OSError, match="No space left"):
            init_project(target)
    assert target.exists() == existing
    if existing:
        assert list(target.iterdir()) == []
    project = init_project(target)  # the second attempt is not refused as "not empty"
    assert (project.schemas_dir / "events.schema.json").is_file()
    assert project.articles_index.read_text(encoding="utf-8").startswith("article_id,")
