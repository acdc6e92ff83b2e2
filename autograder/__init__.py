"""The course's machinery, in floors; each imports only from its own floor and the ones below
(tests/test_architecture.py checks it; docs/ARCHITECTURE.md draws the picture):

- ``settings``: folders and limits, read by every part;
- ``authoring``: what an author uses to write a master and make the release (cells, masters, release);
- ``judging``: the trust boundary: the student's sandboxed kernel and the judge that alone gives points;
- ``grading``: the instructor's pipeline, from a folder of submissions to grades.csv and feedback pages;
- ``lab``: the student's and the instructor's JupyterLab (faces, workspace, Validate, `make check`);
- ``bench``: the benchmarks, on top of everything.
"""
