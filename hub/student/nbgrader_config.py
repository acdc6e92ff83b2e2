# An attendee's nbgrader on the workshop hub (JUPYTER_CONFIG_PATH points here): the course's exchange only.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "pytorch-course"
c.Exchange.root = os.environ["COURSE_HUB_EXCHANGE"]
# Submissions carry the name the attendee logged in with (alice), not the system user's (jupyter-alice).
c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
# Validate as in `make lab`: the grader's cell time limit (training cells outlast nbgrader's 30 s),
# "k of n checks passed", and a separate process so the attendee's server stays responsive.
from autograder.settings import cell_timeout  # noqa: E402
from autograder.lab.validation import install  # noqa: E402

c.Execute.timeout = cell_timeout()
c.Execute.interrupt_on_timeout = True
install()
