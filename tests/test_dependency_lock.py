"""The lock (requirements.txt, requirements-dev.txt) agrees with what pyproject.toml declares.

pyproject.toml states the dependencies with compatible ranges; `make lock` compiles the two lock
files from it with pip-tools, pinned and with hashes; `make venv` installs the lock. This test fails
when someone edits one side only: a declared dependency with no pin, a pin outside the declared
range, a top-level pin nobody declares any more, a pin without a hash, or the two lock files pinning
different versions. It reads files only (no index), so it runs offline in every `make test`.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


def _lock(path: Path) -> dict[str, dict]:
    """name -> {"version", "hashes", "via"} for each pinned entry of a pip-compile output file."""
    entries: dict[str, dict] = {}
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        match = PIN.match(raw)
        if match:
            current = {"version": match["version"].rstrip(" \\"), "hashes": 0, "via": set()}
            entries[canonicalize_name(match["name"])] = current
        elif current is not None and line.startswith("--hash=sha256:"):
            current["hashes"] += 1
        elif current is not None and line.startswith("#"):
            via = line.lstrip("#").strip()
            if via.startswith("via "):
                via = via[4:]
            if via and via != "via":
                current["via"].add(via)
    return entries


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(spec) for spec in project["dependencies"]]
    dev = [Requirement(spec) for spec in project["optional-dependencies"]["dev"]]
    return runtime, dev


def _check(requirements: list[Requirement], lock: dict[str, dict], lock_name: str) -> list[str]:
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in lock:
            problems.append(f"{requirement} is declared in pyproject.toml but not pinned in {lock_name}")
        elif not requirement.specifier.contains(lock[name]["version"], prereleases=True):
            problems.append(f"{lock_name} pins {name}=={lock[name]['version']}, outside {requirement}")
    return problems


def _orphans(declared: set[str], lock: dict[str, dict], lock_name: str) -> list[str]:
    """Pins that say they come from pyproject.toml but that pyproject.toml no longer declares."""
    return [
        f"{lock_name} pins {name} for pyproject.toml, which no longer declares it"
        for name, entry in lock.items()
        if any("pyproject.toml" in via for via in entry["via"]) and name not in declared
    ]


def test_runtime_lock_matches_pyproject():
    runtime, _dev = _declared()
    lock = _lock(ROOT / "requirements.txt")
    declared = {canonicalize_name(r.name) for r in runtime}
    problems = _check(runtime, lock, "requirements.txt") + _orphans(declared, lock, "requirements.txt")
    assert not problems, "\n".join(problems) + "\nRun `make lock`."


def test_dev_lock_matches_pyproject():
    runtime, dev = _declared()
    lock = _lock(ROOT / "requirements-dev.txt")
    declared = {canonicalize_name(r.name) for r in runtime + dev}
    problems = _check(runtime + dev, lock, "requirements-dev.txt") + _orphans(declared, lock, "requirements-dev.txt")
    assert not problems, "\n".join(problems) + "\nRun `make lock`."


def test_both_locks_pin_the_same_versions_with_hashes():
    runtime_lock = _lock(ROOT / "requirements.txt")
    dev_lock = _lock(ROOT / "requirements-dev.txt")
    different = {
        name: (entry["version"], dev_lock.get(name, {}).get("version"))
        for name, entry in runtime_lock.items() if dev_lock.get(name, {}).get("version") != entry["version"]
    }
    assert not different, f"requirements.txt and requirements-dev.txt disagree: {different}. Run `make lock`."
    unhashed = [name for lock in (runtime_lock, dev_lock) for name, entry in lock.items() if not entry["hashes"]]
    assert not unhashed, f"pins without a hash: {unhashed}"


def test_the_parser_sees_a_disagreement(tmp_path):
    """The checks above are only worth something if they can fail: a pin outside its range is found."""
    lock_file = tmp_path / "requirements.txt"
    lock_file.write_text("django==4.2.1 \\\n    --hash=sha256:00\n    # via selfcare (pyproject.toml)\n", encoding="utf-8")
    lock = _lock(lock_file)
    assert lock["django"]["version"] == "4.2.1"
    assert _check([Requirement("Django>=5.2,<5.3")], lock, "requirements.txt")
    assert _orphans(set(), lock, "requirements.txt")
