"""The environment files agree with each other and with what is installed."""
import re
from importlib import metadata

import yaml

from autograder.settings import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def _pins():
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_every_requirement_is_pinned_exactly():
    lines = [l.strip() for l in (REPO_ROOT / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.strip().startswith("#")]
    unpinned = [l for l in lines if not PIN.match(l)]
    assert not unpinned, f"pin these with ==: {unpinned}"
    pins = _pins()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1" and pins["nbgrader"] == "0.9.6"
    assert pins["jupyterlab"].startswith("4.6.") and pins["notebook"].startswith("7.6.")
    assert pins["ipywidgets"].startswith("8.1.") and pins["matplotlib"].startswith("3.11.")


def test_environment_yml_installs_the_requirements():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.txt" in pip_section, "environment.yml must install requirements.txt"
    assert "-e ." in pip_section, "environment.yml must install the course helpers"
    # conda packages other than python and pip would shadow the pins
    assert all(d in ("python=3.11", "pip") or isinstance(d, dict) for d in deps)


def test_installed_versions_match_the_pins():
    wrong = {name: (version, metadata.version(name)) for name, version in _pins().items()
             if metadata.version(name) != version}
    assert not wrong, f"installed versions differ from requirements.txt (pinned, installed): {wrong}"
