"""The one sanitizer: Markdown from authors and learners becomes safe HTML here, and only here."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "th": {"align"},
    "td": {"align"},
    "abbr": {"title"},
}
# Links may point to the web or mail; images only to this site (relative URLs) or https.
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "codehilite", "sane_lists", "def_list", "abbr"]
EXTENSION_CONFIGS = {"codehilite": {"guess_lang": False, "css_class": "codehilite"}}


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        v = value.strip().lower()
        if v.startswith("https://") or (v.startswith("/") and not v.startswith("//")):
            return value
        return None
    if attribute == "class":
        # Only the classes Pygments and our own Markdown use; no author-chosen layout classes.
        keep = [
            c for c in value.split() if c.startswith(("codehilite", "language-")) or len(c) <= 3
        ]
        return " ".join(keep) or None
    return value


def render_markdown(text: str | None) -> Markup:
    """Render untrusted Markdown to sanitized HTML (no scripts, handlers or unsafe URLs)."""
    html = markdown.markdown(
        text or "", extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)
