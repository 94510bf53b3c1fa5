"""The documentation's examples run: README's Python example and every TOML config shown in
README.md and docs/*.md."""
import re
from pathlib import Path

import numpy as np
import pytest

import inrtomo
from inrtomo.recon.inr import INRConfig

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(), re.S | re.M)


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    (code,) = code_blocks(ROOT / "README.md", "python")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    series = inrtomo.read_tilt_series(tmp_path / "tilts.mrc")
    assert series.images.shape == (61, 64, 64)
    np.testing.assert_allclose(series.angles, np.arange(-60, 61, 2))
    ssim = float(capsys.readouterr().out.split()[-1])
    assert 0.5 < ssim < 0.8, ssim  # SIRT behind a 60° wedge: 0.62 when written


TOML_BLOCKS = [(path.name, block) for path in DOCS for block in code_blocks(path, "toml")]


def test_docs_show_toml_configs():
    assert {name for name, _ in TOML_BLOCKS} >= {"inr.md", "dynamic.md"}


@pytest.mark.parametrize("name, block", TOML_BLOCKS, ids=[name for name, _ in TOML_BLOCKS])
def test_toml_config_in_docs_loads(tmp_path, name, block):
    """Every key is an INR setting of the right type and reaches the config unchanged."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = tmp_path / "config.toml"
    path.write_text(block)
    table = tomllib.loads(block)
    table = table.get("inr", table)
    config = INRConfig.from_toml(path)
    assert table and {key: getattr(config, key) for key in table} == table
