"""nbgrader as the course configures it."""
import subprocess
import sys
from pathlib import Path

from nbgrader.dbutil import _temp_alembic_ini
from sqlalchemy import text

import nbgrader.api
from autograder.authoring import nbgrader_course  # noqa: F401  (what is under test: its patch of nbgrader.api)


def test_a_new_gradebook_gets_the_version_the_alembic_command_names(tmp_path):
    """The schema version a new gradebook records is read in-process; it must be what nbgrader itself
    would get from `alembic heads`, or a later nbgrader would refuse to upgrade the gradebook."""
    alembic = Path(sys.executable).parent / "alembic"
    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as ini:
        heads = subprocess.check_output([str(alembic), "-c", ini, "heads"], text=True)
    assert heads.split()[0] == nbgrader.api.get_alembic_version()
    with nbgrader.api.Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        [(version,)] = gb.db.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    assert version == heads.split()[0]
