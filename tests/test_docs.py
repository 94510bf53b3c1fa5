"""The documentation matches the program: README's Python example runs, every TOML config
shown in README.md and docs/*.md loads, and README's command-line synopsis names every
subcommand and option the CLI has, with the same choices."""
import re
from pathlib import Path

import click
import numpy as np
import pytest

import inrtomo
from inrtomo.cli import cli
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
    path = tmp_path / "config.toml"
    path.write_text(block)
    table = INRConfig.toml_settings(path)
    config = INRConfig.from_toml(path)
    assert table and {key: getattr(config, key) for key in table} == table


def readme_synopsis() -> dict[str, list[str]]:
    """The README's command-line synopsis: each subcommand's entries, continuation lines joined."""
    (block,) = re.findall(r"## Command line\n\n```\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    entries: list[str] = []
    for line in block.splitlines():
        if line.startswith(" "):
            entries[-1] += " " + line.strip()
        else:
            entries.append(line)
    commands: dict[str, list[str]] = {}
    for entry in entries:
        words = entry.split()
        if "inrtomo" not in words:
            continue
        at = words.index("inrtomo")
        if at + 1 < len(words) and not words[at + 1].startswith("-"):
            commands.setdefault(words[at + 1], []).append(" ".join(words[at + 2:]))
    return commands


def test_readme_synopsis_matches_the_cli():
    """Every subcommand and option is in the README's synopsis, and every option named there
    exists with the choices it lists (``evaluate --holdout`` takes the reconstruction options)."""
    synopsis = readme_synopsis()
    assert set(synopsis) == set(cli.commands)
    option = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)(?:[ =]([\w|-]+))?")

    def options_in(entries: list[str]) -> dict[str, set[str]]:
        shown: dict[str, set[str]] = {}
        for entry in entries:
            for flag, value in option.findall(entry):
                shown.setdefault(flag, set()).update(value.split("|") if value else ())
        return shown

    for name, entries in synopsis.items():
        params = {opt: p for p in cli.commands[name].params for opt in p.opts if opt.startswith("-")}
        shown = options_in(entries)
        for flag, values in shown.items():
            assert flag in params, f"README shows {name} {flag}, which the CLI lacks"
            kind = params[flag].type
            if isinstance(kind, click.Choice) and len(values) > 1:
                assert values == set(kind.choices), f"README lists {name} {flag} {sorted(values)}"
        missing = {p.opts[0] for p in cli.commands[name].params
                   if isinstance(p, click.Option) and not set(p.opts) & set(shown)} - {"--help"}
        if name == "evaluate":
            missing -= set(options_in(synopsis["reconstruct"]))
        assert not missing, f"README's synopsis lacks {name} {sorted(missing)}"


def test_every_inr_setting_is_documented():
    """README promises every INR setting in docs/inr.md (the dynamic ones in docs/dynamic.md)."""
    text = (ROOT / "docs" / "inr.md").read_text() + (ROOT / "docs" / "dynamic.md").read_text()
    missing = [key for key in vars(INRConfig()) if not re.search(rf"`{key}\b", text)]
    assert not missing, f"undocumented INR settings: {missing}"
