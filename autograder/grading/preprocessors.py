"""nbgrader preprocessors the course adds to the stock autograde and feedback chains."""
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.authoring import cells
from autograder.authoring.cells import not_written

HIDDEN_NOTE = "# Hidden tests ran here at grading; their code is not shown."


class ForgetUnknownCells(NbGraderPreprocessor):
    """A cell whose grade_id the master does not have (renamed, invented) becomes an ordinary cell.

    Stock nbgrader keeps the rest of its metadata and then fails the whole notebook on it. This
    way a renamed cell costs at most that cell: a renamed answer cell still runs as code, and a
    test cell the student renamed is put back by nbgrader from the gradebook."""

    def preprocess(self, nb, resources):
        from autograder.authoring.masters import master_path
        import nbformat
        master = nbformat.read(str(master_path(resources["nbgrader"]["notebook"])), as_version=4)
        self._known = {cells.grade_id(c) for c in master.cells if cells.grade_id(c)}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        nbgrader = cell.metadata.get("nbgrader")
        if nbgrader is not None and (not isinstance(nbgrader, dict) or nbgrader.get("grade_id") not in self._known):
            del cell.metadata["nbgrader"]
        return cell, resources


class DropEmptyNbgraderMetadata(NbGraderPreprocessor):
    """nbgrader's DeduplicateIds turns a repeated cell's metadata into ``nbgrader: {}``, and
    OverwriteCells then fails on it (KeyError 'grade_id'), losing the whole submission.
    Dropping the empty dict makes the duplicate an ordinary cell, which is what it is."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class CapOutputs(NbGraderPreprocessor):
    """Every output a student's cell makes is capped, whatever its type, so no output can bloat the
    autograded notebook or the feedback page: stream text and error messages are cut, tracebacks
    shortened, and a display or result larger than ``max_display_bytes`` is replaced by a note.
    Past ``max_notebook_bytes`` of outputs in one notebook, later outputs are replaced too."""

    max_chars = 20_000
    max_error_chars = 2_000
    max_display_bytes = 1_000_000
    max_notebook_bytes = 5_000_000

    def preprocess(self, nb, resources):
        self._used = 0
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        kept = []
        for output in cell.get("outputs", []):
            output = self._cap(output)
            size = _size(output)
            if self._used + size > self.max_notebook_bytes:
                output = _note(f"[output of {size:,} bytes removed: the notebook's outputs reached the grader's limit]")
                size = _size(output)
            self._used += size
            kept.append(output)
        cell.outputs = kept
        return cell, resources

    def _cap(self, output):
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if len(text) > self.max_chars:
                text = text[: self.max_chars] + f"\n[... {len(text) - self.max_chars:,} more characters cut by the grader]\n"
            output["text"] = text
        elif kind == "error":
            output["ename"] = str(output.get("ename", "Error"))[:200]
            output["evalue"] = _cut(str(output.get("evalue", "")), self.max_error_chars)
            trace = [str(line) for line in output.get("traceback", [])][-20:]
            output["traceback"] = [_cut(line, self.max_error_chars) for line in trace]
        elif kind in ("display_data", "execute_result", "update_display_data"):
            size = _size(output)
            if size > self.max_display_bytes:
                return _note(f"[a display of {size:,} bytes was removed by the grader]")
        return output


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"


def _size(output) -> int:
    import json
    return len(json.dumps(output, default=str))


def _note(text: str):
    return new_output("stream", name="stdout", text=text + "\n")


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each test cell's score and failure message, never the hidden tests' code:
    the hidden region of a test cell's source is replaced by a note."""

    begin = "### BEGIN HIDDEN TESTS"
    end = "### END HIDDEN TESTS"

    def preprocess_cell(self, cell, resources, cell_index):
        if not cells.is_test(cell):
            return cell, resources
        kept, hiding = [], False
        for line in cell.source.splitlines():
            if line.strip().startswith(self.begin):
                hiding = True
                kept.append(HIDDEN_NOTE)
            elif line.strip().startswith(self.end):
                hiding = False
            elif not hiding:
                kept.append(line)
        cell.source = "\n".join(kept)
        return cell, resources


NOT_WRITTEN_ANSWER = not_written("this answer")
NOT_WRITTEN_USED = ("an exercise this cell uses is not written yet (its `raise NotImplementedError()` ran): "
                    "solve it and this cell runs.")


class ExplainBlankAnswers(NbGraderPreprocessor):
    """Feedback: an answer left as released fails with a bare "NotImplementedError:" (the stub's
    exception has no message). Say what it means, the way the judge says it for test cells."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            if (output.get("output_type") == "error" and output.get("ename") == "NotImplementedError"
                    and not str(output.get("evalue", "")).strip()):
                text = NOT_WRITTEN_ANSWER if cells.kind(cell) == cells.ANSWER else NOT_WRITTEN_USED
                output["evalue"] = text
                output["traceback"] = [f"NotImplementedError: {text}"]  # the stub's frames tell a learner nothing
        return cell, resources
