"""The course's JupyterLab: the student's and the instructor's faces, the student's workspace work/,
the Validate button and `make check`."""
