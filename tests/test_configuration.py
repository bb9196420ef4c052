"""Local build, CI, README and Read the Docs all run the same build."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from tests.shared import ROOT

APT = [
    line
    for line in (ROOT / "requirements" / "apt.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


def readme_commands() -> list[str]:
    """The commands in the README's first code block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block, "README.md has no code block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_build_and_test_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    build, test = commands
    assert build.endswith("nox -s docs pdf") and test.endswith("nox -s tests")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_tex_packages_are_the_same_everywhere() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"apt-get install --no-install-recommends {' '.join(APT)}" in readme
    rtd = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert rtd["build"]["apt_packages"] == APT
    assert "requirements/apt.txt" in (ROOT / ".ci" / "run").read_text()


def test_read_the_docs_builds_with_the_local_sessions() -> None:
    rtd = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert rtd["version"] == 2
    assert "pdf" in rtd["formats"]
    jobs = rtd["build"]["jobs"]
    assert jobs["install"] == ["python -m pip install --require-hashes -r requirements/nox.txt"]
    html, pdf = jobs["build"]["html"], jobs["build"]["pdf"]
    assert html[0] == "python -m nox -s docs" and pdf[0] == "python -m nox -s pdf"
    assert any("_build/html" in step and "$READTHEDOCS_OUTPUT/html" in step for step in html)
    assert any("_build/pdf/handbook.pdf" in step for step in pdf)
    python = rtd["build"]["tools"]["python"]
    assert python in {"3.11", "3.12", "3.13"}


def test_lock_files_pin_every_package_with_hashes() -> None:
    for lock in sorted((ROOT / "requirements").glob("*.txt")):
        if lock.name == "apt.txt":
            continue
        text = lock.read_text()
        pins = re.findall(r"^([a-z0-9._-]+)==", text, re.M)
        assert pins, f"{lock.name} pins nothing"
        blocks = re.split(r"\n(?=[a-z0-9._-]+==)", text.split("\n", 3)[-1])
        for block in blocks:
            if "==" in block.split("\n", 1)[0]:
                assert "--hash=sha256:" in block, f"{lock.name}: {block.splitlines()[0]}"


def pins(lock: str) -> dict[str, str]:
    """Package name (normalized) -> pinned version, from one lock file of requirements/."""
    from packaging.utils import canonicalize_name

    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"(?m)^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", text)
    }


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("docs", "dependencies"), ("test", "test"), ("lint", "lint"), ("nox", "nox")],
)
def test_lock_files_satisfy_what_pyproject_declares(lock: str, declared: str) -> None:
    # A requirement added to or changed in pyproject.toml without `nox -s lock` fails here.
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = (
        project["project"]["dependencies"]
        if declared == "dependencies"
        else project["dependency-groups"][declared]
    )
    pinned = pins(lock)
    for line in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, (
            f"{requirement.name} is not in requirements/{lock}.txt: run nox -s lock"
        )
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock}.txt pins {requirement.name}=={pinned[name]}, outside "
            f"'{requirement.specifier}' in pyproject.toml: run nox -s lock"
        )


def test_the_lock_is_resolved_for_the_oldest_python_promised() -> None:
    # The lock must install wherever the README says the handbook runs.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest = re.match(r">=(3\.\d+)", project["requires-python"]).group(1)
    noxfile = (ROOT / "noxfile.py").read_text()
    assert f'LOCK_PYTHON = "{oldest}"' in noxfile, "nox -s lock resolves for another Python"
    assert f"Python {oldest}," in (ROOT / "README.md").read_text()


def nox_sessions(text: str) -> set[str]:
    """The nox sessions a script or workflow runs."""
    return {name for match in re.findall(r"nox -s ((?:[a-z]+ ?)+)", text) for name in match.split()}


def test_pull_request_ci_runs_the_same_sessions_as_ci() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = " \n".join(step.get("run", "") for step in workflow["jobs"]["tests"]["steps"])
    ci = (ROOT / ".ci" / "run").read_text()
    assert nox_sessions(steps) == nox_sessions(ci)
    assert {"tests", "lint", "docs", "pdf"} <= nox_sessions(ci)
    pythons = workflow["jobs"]["tests"]["strategy"]["matrix"]["python"]
    assert pythons == ["3.11", "3.12", "3.13"]


def test_pre_commit_hooks_run_nox_sessions_that_exist() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    noxfile = (ROOT / "noxfile.py").read_text()
    for hook in hooks["repos"][0]["hooks"]:
        for session in nox_sessions(hook["entry"]):
            assert f"def {session}(session" in noxfile, session


WORKFLOWS = sorted(p.name for p in (ROOT / ".github" / "workflows").glob("*.yml"))


def test_there_are_workflows_to_check() -> None:
    assert {"ci.yml", "linkcheck.yml", "upstream.yml"} <= set(WORKFLOWS), WORKFLOWS


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflows_pin_actions_by_commit_and_only_read(name: str) -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    assert workflow["permissions"] == {"contents": "read"}
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses, "no action found: the check below would pass vacuously"
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action}: pin by commit"
