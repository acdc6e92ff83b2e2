# An attendee's nbgrader on the workshop hub (JUPYTER_CONFIG_PATH points here): the course's exchange only.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "pytorch-course"
c.Exchange.root = os.environ["COURSE_HUB_EXCHANGE"]
# Submissions carry the name the attendee logged in with (alice), not the system user's (jupyter-alice).
c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
