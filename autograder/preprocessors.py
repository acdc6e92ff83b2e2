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
