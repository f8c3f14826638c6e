"""Great Expectations' Data Docs views, with their Jinja templates compiled once per process.

Every suite of a run ends with a Data Docs update (``UpdateDataDocsAction``): GX builds a new site
builder, and with it new view objects, each with a Jinja environment of its own. Jinja's template cache
lives in the environment, so every update compiled GX's templates again, about 900 compilations in a
run of 17 suites: roughly half of the time Data Docs took, and a fifth of the checks stage of a
25,000-person run.

These subclasses give each environment one process-wide bytecode cache (Jinja's own mechanism for
sharing compiled templates between environments). A cached entry is keyed by template name and checked
against the source's checksum, so a changed template is compiled afresh; the pages are the same, with
one difference no reader sees: Jinja folds ``"-collapse-body-" | generate_html_element_uuid`` into the
compiled template, so that element id, random per compilation, now repeats across pages of a process
(it only needs to be unique within a page, and already repeated there).
The data docs site of a run names these views in its configuration (``gx_suites._run_context``).
"""

from __future__ import annotations

import threading
from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for the life of the process, shared by all environments."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            data = self._compiled.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # discards it by itself if the source's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        data = bucket.bytecode_to_string()
        with self._lock:
            self._compiled[bucket.key] = data

    def clear(self) -> None:
        with self._lock:
            self._compiled.clear()

    def size(self) -> int:
        """Templates held (not ``__len__``: an empty cache must not be falsy)."""
        return len(self._compiled)


TEMPLATES = MemoryBytecodeCache()


class _SharedTemplates:
    """Gives a GX view's Jinja environment the shared compiled templates."""

    # GX passes a view only the settings its constructor names (``instantiate_class_from_config``
    # reads the signature), so the parameters are spelled out: ``**kwargs`` would lose the styles.
    def __init__(self, custom_styles_directory: str | None = None,
                 custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)  # type: ignore[call-arg]
        self.env.bytecode_cache = TEMPLATES  # type: ignore[attr-defined]


class CachedPageView(_SharedTemplates, DefaultJinjaPageView):
    """GX's page view (suite and validation pages) with the shared compiled templates."""


class CachedIndexPageView(_SharedTemplates, DefaultJinjaIndexPageView):
    """GX's index page view with the shared compiled templates."""


def site_views() -> dict[str, Any]:
    """The part of a ``SiteBuilder`` configuration that selects these views for every page GX writes."""
    page = {"module_name": __name__, "class_name": CachedPageView.__name__}
    index = {"module_name": __name__, "class_name": CachedIndexPageView.__name__}
    return {
        "site_section_builders": {"expectations": {"view": page}, "validations": {"view": page},
                                  "profiling": {"view": page}},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": index},
    }
