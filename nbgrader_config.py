# Read by `nbgrader ...` and the JupyterLab nbgrader extension; the settings live in autograder/config.py.
from autograder.config import configure

configure(get_config())  # noqa: F821 (get_config is provided by traitlets when this file is loaded)
