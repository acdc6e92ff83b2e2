"""The feedback page: nbgrader's feedback template, cheap enough to render for every submission.

nbgrader builds a new exporter for every page, so each page compiled the Jinja templates again,
highlighted the same setup, context and test cells again, and then nbconvert parsed the whole page
(about 400 kB, most of it inlined CSS) with BeautifulSoup only to add alt text and tabindex
attributes. That was most of the grader's own time per submission. Here a grading process
compiles the templates once, remembers the highlighting of each cell's source, and adds the alt
text without re-parsing. The page is the same HTML, less the tabindex attributes.
"""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import threading
from functools import lru_cache
from pathlib import Path

import bleach
import jinja2
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbgrader.preprocessors import GetGrades
from traitlets import default

_ALT_TEXT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)


# HTML a student can write (markdown, text/html and text/markdown outputs, raw cells), after nbconvert
# renders it, keeps only these tags and attributes; anything else is shown escaped, as text. No script,
# style, SVG, iframe, form or event handler gets through, and URLs are checked below.
_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
         "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li",
         "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
         "tfoot", "th", "thead", "tr", "u", "ul"}
# Images only as data: URLs of image types (markdown attachments, nbconvert's own outputs): nothing is
# fetched from the server or elsewhere; an SVG inside <img> cannot run script.
_IMAGE_URL = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", re.IGNORECASE)
_LINK_URL = re.compile(r"(https?:|mailto:|#)", re.IGNORECASE)
_SPANS = {"colspan", "rowspan"}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "title"):
        return True
    if name == "id":
        return tag in ("h1", "h2", "h3", "h4", "h5", "h6")  # markdown's heading anchors
    if tag == "a" and name == "href":
        return bool(_LINK_URL.match(value.strip()))
    if tag == "img" and name == "src":
        return bool(_IMAGE_URL.match(value.strip()))
    if tag == "img" and name in ("alt", "width", "height"):
        return name == "alt" or value.isdigit()
    return (tag in ("td", "th") and name in _SPANS and value.isdigit()) or (tag == "ol" and name == "start")


_CLEANERS = threading.local()  # a bleach Cleaner is not thread-safe: one per thread


def _clean(html: str) -> str:
    if not hasattr(_CLEANERS, "cleaner"):
        _CLEANERS.cleaner = bleach.Cleaner(tags=_TAGS, attributes=_allowed_attribute, strip=False,
                                           protocols={"http", "https", "mailto", "data"}, strip_comments=True)
    return _CLEANERS.cleaner.clean(html)


_clean_small = lru_cache(maxsize=1024)(_clean)  # the same highlighted setup and test cells, in every submission


def clean_html(html) -> str:
    """The course's ``clean_html`` filter (nbconvert's allows too little for markdown: no paragraphs, images)."""
    html = html.decode() if isinstance(html, bytes) else str(html)
    return _clean_small(html) if len(html) < 32_768 else _clean(html)


@lru_cache(maxsize=1)
def _markdown_exporter() -> HTMLExporter:
    return HTMLExporter()


@jinja2.pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's Markdown rendering (maths kept for MathJax, attachments as data: URLs), then ``clean_html``:
    raw HTML in Markdown is never trusted, even in templates that skip ``clean_html`` (Formgrader's)."""
    return clean_html(HTMLExporter.markdown2html(_markdown_exporter(), context, source))


class KeepInert(Preprocessor):
    """Before any template: outputs keep only MIME types that render as text or images (no JavaScript, widget
    views, PDFs), image metadata only as numbers (nbconvert writes width and height unquoted into <img>), no
    file names or isolated iframes; the notebook's widget state goes (it would load widget code)."""

    SHOWN = {"text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml"}

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if not isinstance(cell.get("execution_count"), int):
                cell.execution_count = None
            for output in cell.get("outputs", []):
                if "data" in output:
                    output.data = {k: v for k, v in output.data.items() if k in self.SHOWN and isinstance(v, str)}
                    output.metadata = {kind: {k: v for k, v in meta.items()
                                              if (k in ("width", "height") and type(v) is int)
                                              or (k == "alt" and isinstance(v, str))}
                                       for kind, meta in output.get("metadata", {}).items()
                                       if kind in self.SHOWN and isinstance(meta, dict)}
        return nb, resources


def content_security_policy(scripts: list[str]) -> str:
    """The feedback page's policy: only the given inline scripts run (by hash), and what they load (browsers
    that know 'strict-dynamic' then ignore 'self', older ones need it); images only from data: URLs; styles
    inline (nbconvert's CSS, MathJax's); nothing is sent anywhere."""
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
                      for s in scripts)
    return (f"default-src 'none'; script-src {hashes} 'strict-dynamic' 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src data:; font-src 'self' data:; base-uri 'none'; form-action 'none'")


MATHJAX = "mathjax"  # feedback/mathjax/: the course's MathJax loader looks there for a page opened from disk


def ship_mathjax(feedback_dir: Path | str) -> Path:
    """Copy MathJax (jupyter-server-mathjax's files, 12 MB) into the feedback folder once, so the pages typeset
    their maths opened from disk, offline, as a student receives them (lab/nbconvert/templates/base/mathjax.html.j2)."""
    import jupyter_server_mathjax
    target = Path(feedback_dir) / MATHJAX
    if not (target / "MathJax.js").is_file():
        source = Path(jupyter_server_mathjax.__file__).parent / "static"
        shutil.copytree(source, target, dirs_exist_ok=True)
    return target


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class _CompiledOnce(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process; Jinja checks each one's checksum."""

    store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


@lru_cache(maxsize=4096)
def _highlighted(source: str, language: str, magics_language: str | None, options: tuple) -> str:
    highlighter = Highlight2HTML(pygments_lexer=language, extra_formatter_options=dict(options))
    return highlighter(source, language, {"magics_language": magics_language} if magics_language else None)


class CachedHighlight(Highlight2HTML):
    def __call__(self, source, language=None, metadata=None):
        magics = (metadata or {}).get("magics_language")
        return _highlighted(source, language or self.pygments_lexer, magics,
                            tuple(sorted(self.extra_formatter_options.items())))


class FeedbackExporter(HTMLExporter):
    """HTMLExporter with the caching above, and the course's feedback template (autograder/grading/nbgrader_config.py)."""

    @default("template_file")
    def _template_file_default(self):
        # course_feedback's page is feedback.html.j2: its index.html.j2 is nbgrader's, which it extends
        return "feedback.html.j2" if self.template_name == "course_feedback" else super()._template_file_default()

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _CompiledOnce()
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node, with a caching highlighter and without the BeautifulSoup pass.
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", CachedHighlight(pygments_lexer=lexer, parent=self))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = super(HTMLExporter, self).from_notebook_node(nb, resources, **kw)
        html = _IMG_WITHOUT_ALT.sub(f'<img alt="{_ALT_TEXT}"', html)
        # The course's MathJax loader (lab/nbconvert/templates/base/mathjax.html.j2) is the only script allowed.
        mathjax = self.environment.get_template("mathjax.html.j2").module.mathjax()
        policy = content_security_policy(_INLINE_SCRIPT.findall(mathjax))
        html = html.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{policy}">', 1)
        return html, resources


class GetGradesOrAwaiting(GetGrades):
    """nbgrader's GetGrades, and an answer nobody has scored yet (a written answer before the instructor grades
    it) is marked ``awaiting`` and counted, so the page (course_feedback template) says so instead of 0."""

    def preprocess(self, nb, resources):
        resources["nbgrader"]["awaiting"] = 0
        return super().preprocess(nb, resources)

    def _get_score(self, cell, resources):
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.nbgrader["score"] = grade.score
        cell.metadata.nbgrader["points"] = grade.max_score
        cell.metadata.nbgrader["awaiting"] = grade.auto_score is None and grade.manual_score is None
        resources["nbgrader"]["awaiting"] += cell.metadata.nbgrader["awaiting"]
