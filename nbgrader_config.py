# Read by `nbgrader ...` and the JupyterLab nbgrader extension; the settings live in autograder/grading/nbgrader_config.py.
from autograder.grading.nbgrader_config import configure
from autograder.lab.validation import install as count_checks_in_validate

configure(get_config())  # noqa: F821 (get_config is provided by traitlets when this file is loaded)
count_checks_in_validate()  # Validate says "k of n checks passed" (autograder/lab/validation.py)
