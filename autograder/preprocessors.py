"""nbgrader preprocessors the course adds to the stock autograde chain."""
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader import utils


class StderrIsNotFailure(NbGraderPreprocessor):
    """Stock nbgrader zeros a test cell that wrote anything to stderr.

    PyTorch and its dependencies print warnings there (deprecations, UserWarnings about
    non-writable NumPy arrays...), so a correct answer could lose its points. A test cell
    fails only by raising; its stderr text is kept, relabelled as stdout, so students and
    graders still see it in feedback. This runs after Execute and before SaveAutoGrades.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources


HIDDEN_NOTE = "# Hidden tests ran here at grading; their code is not shown. The message below says what failed."


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each test cell's score and failure message, never the hidden tests' code.

    The hidden region of a test cell's source is replaced by a note, and error tracebacks
    (which quote the failing source lines) are cut down to the error's type and message.
    """

    begin = "### BEGIN HIDDEN TESTS"
    end = "### END HIDDEN TESTS"

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
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
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class DropEmptyNbgraderMetadata(NbGraderPreprocessor):
    """nbgrader's DeduplicateIds turns a repeated cell's metadata into ``nbgrader: {}``, and
    OverwriteCells then fails on it (KeyError 'grade_id'), losing the whole submission.
    Dropping the empty dict makes the duplicate an ordinary cell, which is what it is."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class TruncateLongOutput(NbGraderPreprocessor):
    """nbgrader's LimitOutput counts lines; one print of megabytes is one line. Cap the text of
    each stream output, so a flood of output cannot bloat the autograded notebook or feedback."""

    max_chars = 20_000

    def preprocess_cell(self, cell, resources, cell_index):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text")
            if output.get("output_type") == "stream" and isinstance(text, str) and len(text) > self.max_chars:
                cut = len(text) - self.max_chars
                output["text"] = text[: self.max_chars] + f"\n[... {cut:,} more characters cut by the grader]\n"
        return cell, resources
