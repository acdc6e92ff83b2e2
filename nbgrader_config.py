# Read by `nbgrader ...` and the JupyterLab nbgrader extension; the settings live in autograder/config.py.
from autograder.config import configure
from autograder.validation import install as count_checks_in_validate

configure(get_config())  # noqa: F821 (get_config is provided by traitlets when this file is loaded)
count_checks_in_validate()  # Validate says "k of n checks passed" (autograder/validation.py)
