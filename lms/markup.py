"""The one sanitizer: Markdown from authors and learners becomes safe HTML here, and only here.

Python-Markdown turns the text (raw HTML included) into HTML; ``nh3`` (ammonia, an HTML5 parser
that repairs broken and unclosed markup) then keeps only an allowlist of tags, attributes and URL
schemes. Nothing executable survives: no ``<script>``/``<style>``/``<svg>``/``<iframe>``/forms,
no event handlers, no ``style`` attributes, no ``javascript:``/``vbscript:``/``data:`` URLs
however they are obfuscated (entities, whitespace, mixed case), and images load only from this
site (relative paths). An image from another site becomes a link to it: the page's CSP loads
nothing from elsewhere (no tracking pixels, nothing that breaks when that site moves), and a
course archive stays complete only with its images uploaded to the course.
"""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markupsafe import Markup, escape
from pygments.token import STANDARD_TYPES

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
# Links may point to the web or mail; images only to this site (relative URLs) or https, and
# https images are then turned into links (see _link_external_images).
URL_SCHEMES = {"http", "https", "mailto"}
# Elements whose text is dropped together with the tag (the rest keep their text, escaped).
CLEAN_CONTENT_TAGS = {"script", "style", "svg", "math", "iframe", "object", "embed", "noscript",
                      "template", "textarea", "title", "xmp", "noembed", "noframes"}  # fmt: skip
EXTENSIONS = ["tables", "fenced_code", "codehilite", "sane_lists", "def_list", "abbr"]
EXTENSION_CONFIGS = {"codehilite": {"guess_lang": False, "css_class": "codehilite"}}
# Pygments' short token classes (k, s2, nf...): the only classes a highlighted span may carry.
PYGMENTS_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c)
MAX_LENGTH = 500_000  # characters; longer input is cut rather than parsed for minutes
# Texts up to this length are rendered once per process and kept (course and module summaries,
# quiz prompts, lab instructions: shown on every request, changed rarely). The output depends on
# the text alone, so a cached result is the result. Lesson bodies are stored rendered instead.
CACHED_LENGTH = 8_000
CACHE_ENTRIES = 1024  # at most a few tens of MB

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_LANGUAGE = re.compile(r"^language-[a-z0-9_+\-]{1,40}$")
# Defence in depth for text that merely *mentions* dangerous constructs (e.g. a code sample):
# encode the character that makes them recognisable as an entity. Browsers show the same text
# (and decode the entity in attribute values too), but no byte sequence like ``javascript:`` or
# ``onerror=`` remains in the markup for a naive filter, a copy-paste or a later bug to revive.
_TEXT_SCHEME = re.compile(r"(?i)\b(java|vb|live|ecma)(script)(\s*):")
_TEXT_DATA_URL = re.compile(r"(?i)\b(data)(\s*):(?=\s*[a-z]+/)")
_TEXT_HANDLER = re.compile(r"(?i)(on[a-z]+)(\s*)=")
_TEXT_STYLE = re.compile(r"(?i)\b(style)(\s*)=")


def _probe(value: str) -> str:
    """What a browser would take the URL's start to be: no invisible characters, decoded, lower."""
    return _INVISIBLE.sub("", unquote(_INVISIBLE.sub("", value))).lower()


def safe_image_src(value: str) -> str | None:
    """``value`` if it is a relative same-site path or an https URL, else ``None``."""
    probe = _probe(value)
    if not probe or "\\" in probe:
        return None
    if probe.startswith("https://"):
        return value.strip()
    if probe.startswith("//") or _SCHEME.match(probe):
        return None  # another host, or any other scheme (javascript:, data:, http:...)
    return value.strip()


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        return safe_image_src(value)
    if attribute == "href":
        probe = _probe(value)
        if _SCHEME.match(probe) and not probe.startswith(("http:", "https:", "mailto:")):
            return None
        return value
    if attribute == "class":
        # Only the classes Pygments and fenced code produce; no author-chosen layout classes.
        if element == "div":
            keep = [c for c in value.split() if c == "codehilite"]
        elif element == "code":
            keep = [c for c in value.split() if _LANGUAGE.match(c)]
        else:
            keep = [c for c in value.split() if c in PYGMENTS_CLASSES]
        return " ".join(keep) or None
    if attribute in ("width", "height"):
        return value if value.isdigit() and len(value) <= 5 else None
    return value


def _defuse_text(html: str) -> str:
    html = _TEXT_SCHEME.sub(r"\1\2\3&#58;", html)
    html = _TEXT_DATA_URL.sub(r"\1\2&#58;", html)
    html = _TEXT_HANDLER.sub(r"\1\2&#61;", html)
    return _TEXT_STYLE.sub(r"\1\2&#61;", html)


_TAG = re.compile(r"<(/?)(a|img)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([a-z]+)="([^"]*)"')


def _external_image(attrs: dict[str, str], inside_link: bool) -> str:
    """What an image from another site becomes: its alt text, as a link to it when possible."""
    src = html_lib.unescape(attrs["src"])
    label = html_lib.unescape(attrs.get("alt") or "") or "image"
    text = escape(f"{label} (image on {urlsplit(src).hostname or 'another site'}, not shown)")
    if inside_link:
        return str(text)
    return f'<a href="{escape(src)}" rel="noopener noreferrer nofollow">{text}</a>'


def _link_external_images(clean: str) -> str:
    """Replace ``<img src="https://...">`` in sanitized HTML by a link to the image.

    Runs on ammonia's serialisation (attributes always double-quoted and escaped), so the small
    scanner below sees well-formed tags only. Inside a link the image becomes plain text (links
    cannot nest)."""
    out: list[str] = []
    depth = 0
    position = 0
    for match in _TAG.finditer(clean):
        closing, tag, rest = match[1], match[2].lower(), match[3]
        if tag == "a":
            depth = max(0, depth - 1) if closing else depth + 1
            continue
        attrs = dict(_ATTR.findall(rest))
        if _probe(html_lib.unescape(attrs.get("src", ""))).startswith("https://"):
            out.append(clean[position : match.start()])
            out.append(_external_image(attrs, inside_link=depth > 0))
            position = match.end()
    out.append(clean[position:])
    return "".join(out)


def render_markdown(text: str | None) -> Markup:
    """Render untrusted Markdown to sanitized HTML (no scripts, handlers or unsafe URLs)."""
    source = (text or "")[:MAX_LENGTH]
    if len(source) <= CACHED_LENGTH:
        return _render_cached(source)
    return _render(source)


@lru_cache(maxsize=CACHE_ENTRIES)
def _render_cached(source: str) -> Markup:
    return _render(source)


def _render(source: str) -> Markup:
    html = markdown.markdown(
        source, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS - ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(_defuse_text(_link_external_images(clean)))
