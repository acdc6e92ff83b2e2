"""The feedback exporter renders the same page as nbconvert's HTMLExporter, from caches."""
import base64
import html
import re

import nbformat
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.grading import feedback

PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def _notebook():
    plot = new_code_cell("plt.plot([1, 2])", outputs=[new_output("display_data", data={"image/png": PIXEL})])
    return new_notebook(cells=[new_markdown_cell("# Title\n\nSome $x^2$ maths."),
                               new_code_cell("import torch\nx = torch.ones(3)  # a comment"), plot],
                        metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}})


def _text(page: str) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", " ", page))
    return " ".join(html.unescape(without_tags).split())


def test_same_page_as_nbconvert_without_the_soup_pass():
    nb = _notebook()
    ours, _ = feedback.FeedbackExporter(template_name="lab").from_notebook_node(nb)
    stock, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert _text(ours) == _text(stock)
    assert 'class=" highlight hl-ipython3"' in ours and "torch" in ours
    assert re.search(r'<img alt="[^"]+"', ours), "images get alt text, as nbconvert gives them"


def test_second_page_reuses_highlighting_and_compiled_templates():
    nb = _notebook()
    feedback.FeedbackExporter(template_name="lab").from_notebook_node(nb)
    hits = feedback._highlighted.cache_info().hits
    compiled = len(feedback._CompiledOnce.store)
    feedback.FeedbackExporter(template_name="lab").from_notebook_node(nb)  # a new exporter, as nbgrader makes
    assert feedback._highlighted.cache_info().hits >= hits + 2
    assert compiled and len(feedback._CompiledOnce.store) == compiled


def test_course_configuration_keeps_an_honest_page():
    """With the course's sanitising (autograder/grading/nbgrader_config.py), an honest notebook reads the same: text, maths, plot."""
    from autograder.grading.nbgrader_config import make_config
    nb = _notebook()
    ours, _ = feedback.FeedbackExporter(config=make_config(), template_name="lab").from_notebook_node(nb)
    stock, _ = HTMLExporter(template_name="lab").from_notebook_node(_notebook())
    assert _text(ours) == _text(stock) and "$x^2$" in ours
    assert f'src="data:image/png;base64,{PIXEL}"' in ours
    assert 'http-equiv="Content-Security-Policy"' in ours
