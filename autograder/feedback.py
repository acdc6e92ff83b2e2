"""The feedback page: nbgrader's feedback template, cheap enough to render for every submission.

nbgrader builds a new exporter for every page, so each page compiled the Jinja templates again,
highlighted the same setup, context and test cells again, and then nbconvert parsed the whole page
(about 400 kB, most of it inlined CSS) with BeautifulSoup only to add alt text and tabindex
attributes. That was most of the grader's own time per submission. Here a grading process
compiles the templates once, remembers the highlighting of each cell's source, and adds the alt
text without re-parsing. The page is the same HTML, less the tabindex attributes.
"""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

_ALT_TEXT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)


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
    """HTMLExporter (nbgrader's feedback template is set by nbgrader) with the caching above."""

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
        return _IMG_WITHOUT_ALT.sub(f'<img alt="{_ALT_TEXT}"', html), resources
