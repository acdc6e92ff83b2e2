"""A submission that carries script payloads of every kind a student can author (issue 25).

If any payload ran in a browser it would set ``window.pwned_<name>`` and the page's title; wherever the
course shows the submission (feedback page, Formgrader), none may run. The payloads sit in a markdown
cell, the written answer, and one code cell whose outputs are exactly what running its source emits
(``display(..., raw=True)`` sends any MIME bundle), so the notebook can be graded as it is or shown as an
autograded notebook. It also holds what must survive: maths in both markdown cells and a matplotlib plot.
"""
from __future__ import annotations

import base64
import io

import nbformat

from autograder.authoring import cells
from tests.attacks.catalogue import _index, _nb

PAYLOADS = ("md_script", "md_onerror", "md_link", "written_script", "written_onerror", "html_script",
            "html_onerror", "markdown_output", "svg_script", "svg_onload", "javascript", "png_width",
            "widget_state")
MATHS = r"$$\frac{\partial L}{\partial w} = 2(w - 1)$$"


def js(name: str) -> str:
    """The payload's code: the mark a test looks for."""
    return f"window.pwned_{name}=1;document.title='pwned_{name}'"  # no spaces: it also fits unquoted


def plot_png() -> str:
    """A small matplotlib plot, base64 PNG, as the inline backend displays it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure = plt.figure(figsize=(2, 1.5), dpi=50)
    plt.plot([1, 3, 2])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _svg(name_script: str, name_onload: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="{js(name_onload)}">'
            f'<script>{js(name_script)}</script><rect width="20" height="20" fill="green"/></svg>')


def _outputs(png: str) -> list[tuple[dict, dict]]:
    """(data, metadata) of each display the payload cell makes."""
    return [
        ({"text/html": f"<b>html</b><script>{js('html_script')}</script>"
                       f'<img src="x" onerror="{js("html_onerror")}">', "text/plain": "<html>"}, {}),
        ({"text/markdown": f"**markdown output**<script>{js('markdown_output')}</script>",
          "text/plain": "<markdown>"}, {}),
        ({"image/svg+xml": _svg("svg_script", "svg_onload"), "text/plain": "<svg>"}, {}),
        ({"application/javascript": js("javascript"), "text/plain": "<js>"}, {}),
        # nbconvert writes width and height unquoted into <img ...>
        ({"image/png": png, "text/plain": "<Figure>"}, {"image/png": {"width": f"100 onload={js('png_width')}"}}),
    ]


def payload_notebook() -> nbformat.NotebookNode:
    """00_getting_started answered correctly, plus every payload."""
    nb = _nb()
    png = plot_png()
    shows = _outputs(png)
    source = "from IPython.display import display\n" + "\n".join(
        f"display({data!r}, metadata={meta!r}, raw=True)" for data, meta in shows)
    outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta) for data, meta in shows]
    at = _index(nb, "setup") + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=2))
    nb.cells.insert(at, nbformat.v4.new_markdown_cell(
        f"Maths: $x^2 + 1$.\n\n<script>{js('md_script')}</script>\n\n<img src=\"x\" onerror=\"{js('md_onerror')}\">"
        f"\n\n[a link](javascript:{js('md_link')})"))
    written = next(c for c in nb.cells if cells.is_written(c))
    written.source = (f"My answer: {MATHS}\n\n<script>{js('written_script')}</script>"
                      f"<img src=\"x\" onerror=\"{js('written_onerror')}\">")
    # widgets whose state would load widget code and render an HTML widget's value
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"w1": {
            "model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": {"value": f"<img src=x onerror=\"{js('widget_state')}\">"}}}}}
    return nb


def write(path, ctx=None):
    """Builder in the catalogue's form (tests/attacks/catalogue.py)."""
    nbformat.write(payload_notebook(), str(path))


# In the catalogue's form, for a batch next to honest students: the payloads do not change the score.
CASES = {"script-payloads": (write, 2, 2, "graded")}
