"""rrampaper.paths: the data, figures and results folders follow the environment."""

from rrampaper import paths


def test_folders_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RRAMPAPER_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("RRAMPAPER_DRIVE_DIR", raising=False)
    monkeypatch.setenv("RRAMPAPER_FIGURES_DIR", str(tmp_path / "f"))
    monkeypatch.setenv("RRAMPAPER_RESULTS_DIR", str(tmp_path / "r"))
    assert paths.data_dir() == tmp_path / "d"
    assert paths.drive_dir() == tmp_path / "d" / "drive" / "DRIVE"
    assert paths.figures_dir() == tmp_path / "f"
    assert paths.results_dir() == tmp_path / "r"
    monkeypatch.delenv("RRAMPAPER_FIGURES_DIR")
    root = paths.repo_root()
    assert root is not None and (root / "pyproject.toml").is_file()
    assert paths.figures_dir() == root / "figures"
