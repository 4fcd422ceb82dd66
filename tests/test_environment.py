"""pyproject.toml and environment.yml declare the same packages."""

from __future__ import annotations

import re
import tomllib

import yaml

from tianxin_analysis.paths import PROJECT_ROOT

# conda-forge names that differ from PyPI names
_CONDA_TO_PYPI = {}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_mirrors_pyproject():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    declared = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    declared |= {_name(r): r.replace(" ", "") for r in project["optional-dependencies"]["dev"]}
    declared |= {_name(r): r.replace(" ", "") for r in project["optional-dependencies"]["scale"]}

    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    pip_section = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep.get("pip", [])
            continue
        name = _CONDA_TO_PYPI.get(_name(dep), _name(dep))
        if name not in ("python", "pip"):
            conda[name] = dep.replace(" ", "")

    assert "conda-forge" in env["channels"]
    assert any(d.startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))
    assert "-e ." in pip_section
    # packages conda-forge does not carry come from PyPI through the pip section
    for dep in pip_section:
        if dep != "-e .":
            conda[_name(dep)] = dep.replace(" ", "")
    assert set(conda) == set(declared), (
        f"only in environment.yml: {sorted(set(conda) - set(declared))}; "
        f"only in pyproject.toml: {sorted(set(declared) - set(conda))}"
    )
    for name, req in declared.items():
        assert conda[name] == req, (
            f"{name}: pyproject says {req}, environment.yml says {conda[name]}"
        )


def test_dev_dependency_group_matches_the_dev_extra():
    # PEP 735 group for uv / `pip install --group dev`; `make test` installs the extra
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    group = pyproject["dependency-groups"]["dev"]
    extra = pyproject["project"]["optional-dependencies"]["dev"]
    assert [r.replace(" ", "") for r in group] == [r.replace(" ", "") for r in extra]
