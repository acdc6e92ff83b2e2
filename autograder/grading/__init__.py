"""Grading a class: intake, one worker per submission (real nbgrader autograde), the batch or a Dask
cluster, results and their cache, reports, feedback pages; ``python -m autograder.grading.cli``."""
