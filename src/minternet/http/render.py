"""HTML as readable terminal text: what the browser shows of a page.

Built on :mod:`html.parser` (the standard library's tolerant tokenizer): headings stand out
(``#``-style, underlined), paragraphs are wrapped, list items get bullets or numbers, links
are numbered ``[1]`` with their targets listed at the end, ``<pre>`` keeps its lines,
images show their ``alt`` text, ``<script>``/``<style>`` are skipped. Never raises on bad HTML.
"""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser
from urllib.parse import urljoin

_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "ul", "ol",
    "li", "table", "tr", "blockquote", "figure", "figcaption", "dl", "dt", "dd", "form", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "body", "br",
}  # fmt: skip
_SKIP = {"script", "style", "head", "template", "noscript"}


class _Renderer(HTMLParser):
    def __init__(self, base_url: str, width: int) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self.width = width
        self.blocks: list[str] = []
        self.words: list[str] = []
        self.prefix = ""
        self.heading = 0
        self.pre = 0
        self.skip = 0
        self.title: str | None = None
        self.in_title = False
        self.links: list[str] = []
        self.href: str | None = None
        self.lists: list[list[int]] = []  # per open list: [counter] (-1 for unordered)
        self.items: set[int] = set()  # indexes of blocks that are list items

    # text accumulation -------------------------------------------------------------
    def flush(self) -> None:
        text = " ".join("".join(self.words).split())
        self.words = []
        if not text:
            return
        if self.heading:
            if self.heading <= 2:
                text = text.upper() if self.heading == 1 else text
                self.blocks.append(text + "\n" + ("=" if self.heading == 1 else "-") * len(text))
            else:
                self.blocks.append("### " + text)
            return
        indent = "  " * max(0, len(self.lists) - 1)
        first = indent + self.prefix
        rest = indent + " " * len(self.prefix)
        self.blocks.append(
            textwrap.fill(text, self.width, initial_indent=first, subsequent_indent=rest)
        )
        if self.prefix:
            self.items.add(len(self.blocks) - 1)
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in _SKIP:
            if tag == "head":
                return  # the title lives in head; other head content is skipped below
            self.skip += 1
            return
        if tag == "title":
            self.in_title = True
            return
        if tag in _BLOCKS:
            self.flush()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = int(tag[1])
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            if self.lists:
                counter = self.lists[-1]
                if counter[0] >= 0:
                    counter[0] += 1
                    self.prefix = f"{counter[0]}. "
                else:
                    self.prefix = "• "
            else:
                self.prefix = "• "
        elif tag == "hr":
            self.blocks.append("─" * min(self.width, 40))
        elif tag == "a" and a.get("href"):
            self.href = urljoin(self.base, a["href"] or "")
        elif tag == "img":
            alt = a.get("alt")
            if alt:
                self.words.append(f"[image: {alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag != "head":
                self.skip = max(0, self.skip - 1)
            return
        if tag == "title":
            self.in_title = False
            return
        if tag == "a" and self.href is not None:
            self.links.append(self.href)
            self.words.append(f"[{len(self.links)}]")
            self.href = None
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _BLOCKS:
            self.flush()
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = 0
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title = ((self.title or "") + data).strip()
            return
        if self.skip:
            return
        if self.pre:
            self.flush()
            self.blocks.append(data.strip("\n"))
            return
        self.words.append(data)


def render_html(html: str, base_url: str = "", width: int = 78) -> str:
    """The page as plain text: title, body blocks separated by blank lines, then links."""
    r = _Renderer(base_url, width)
    r.feed(html)
    r.close()
    r.flush()
    parts: list[str] = []
    if r.title:
        parts.append(f"[ {r.title} ]\n\n")
    prev_item = False
    for i, block in enumerate(r.blocks):
        if not block.strip():
            continue
        item = i in r.items
        if parts and not parts[-1].endswith("\n\n"):
            parts.append("\n" if item and prev_item else "\n\n")
        parts.append(block)
        prev_item = item
    if r.links:
        parts.append("\n\nLinks:\n" + "\n".join(f"[{i}] {u}" for i, u in enumerate(r.links, 1)))
    return "".join(parts).strip("\n") + "\n"
