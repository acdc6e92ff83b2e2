# The instructor's nbgrader on the workshop hub (JUPYTER_CONFIG_PATH points here): the course's masters and
# releases through ~/course (links into the checkout: Formgrader needs the course inside the server's root), the
# collected submissions and the gradebook in ~/grading, which `make -C <checkout> hub-grade` grades into.
import os
from pathlib import Path

from autograder.grading.nbgrader_config import configure

c = get_config()  # noqa: F821
configure(c, Path.home() / "course", grading_dir=Path.home() / "grading")
c.Exchange.root = os.environ["COURSE_HUB_EXCHANGE"]
# Attendees submit as their hub names (alice) from system users named jupyter-alice: nbgrader's owner check
# would warn on every submission. It only ever warned; the hub's isolation is the separate system users.
c.ExchangeCollect.check_owner = False
