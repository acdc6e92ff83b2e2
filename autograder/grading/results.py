"""What grading decides about one submission: its cells' scores and its status, and when a stored
result may be reused. The one place for statuses and their precedence."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.settings import REPO_ROOT

GRADED, MISSING, INVALID, TOO_LARGE, WRONG_ASSIGNMENT, TIMED_OUT, CRASHED, GRADER_ERROR = (
    "graded", "missing", "invalid file", "too large", "wrong assignment", "timed out", "crashed", "grader error")

# When several findings apply to one submission, the first in this list names its status.
# `too large`: over one of the grader's caps (autograder/grading/worker.py), named in the message.
PRECEDENCE = (GRADER_ERROR, INVALID, TOO_LARGE, WRONG_ASSIGNMENT, TIMED_OUT, CRASHED, MISSING, GRADED)


def decide_status(findings: list[tuple[str, str]]) -> tuple[str, str]:
    """(status, message) from (status, message) findings; graded when there are none."""
    unknown = [s for s, _ in findings if s not in PRECEDENCE]
    if unknown:
        raise ValueError(f"unknown status {unknown[0]!r}")
    for status in PRECEDENCE:
        messages = [m for s, m in findings if s == status]
        if messages:
            return status, "; ".join(messages)
    return GRADED, ""




def execution_finding(seen: dict | None) -> tuple[str, str] | None:
    """A finding when the executor saw the kernel die or a time limit pass (None when it did not)."""
    if not isinstance(seen, dict):
        return GRADER_ERROR, "the graded notebook lacks the executor's record (was it graded by the course's grader?)"
    if seen.get("died"):
        return CRASHED, f"the kernel died in {seen['died']}; later cells did not run"
    if seen.get("time_limit"):
        return TIMED_OUT, f"the notebook ran past its time limit in {seen['time_limit']}"
    if seen.get("cell_timeouts"):
        return TIMED_OUT, f"{', '.join(seen['cell_timeouts'])} stopped at the per-cell time limit"
    return None


@dataclass
class CellScore:
    auto: float | None
    max: float
    needs_manual: bool


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    key: str = ""
    origin: str = ""
    seconds: float = 0.0
    message: str = ""
    cells: dict[str, CellScore] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        raw = json.loads(text)
        raw["cells"] = {k: CellScore(**v) for k, v in raw["cells"].items()}
        return cls(**raw)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def code_version() -> str:
    """A digest of the grader's and the helpers' code: any change invalidates stored results."""
    files = sorted([*(REPO_ROOT / "autograder").rglob("*.py"), *(REPO_ROOT / "coursekit").rglob("*.py")])
    return _sha(*(str(f.relative_to(REPO_ROOT)).encode() + f.read_bytes() for f in files))


def settings() -> bytes:
    """Everything outside the files that can change a verdict: limits and the device lane."""
    from autograder.settings import cell_timeout, memory_gb, notebook_timeout
    import torch
    lane = os.environ.get("COURSE_DEVICE", "auto") + (":cuda" if torch.cuda.is_available() else ":cpu")
    return json.dumps([cell_timeout(), notebook_timeout(), memory_gb(), lane]).encode()


def submission_key(notebook: bytes, master: Path, version: str) -> str:
    """Changes when the submission, its master, the grader's code or a setting changes."""
    return _sha(notebook, master.read_bytes(), version.encode(), settings())
