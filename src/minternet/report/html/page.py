"""One self-contained HTML page per run: the model as JSON, the script and style inline.

:func:`render_report` fills ``assets/report.html`` with the page's CSS and script (read from
the package, hand-written, no library) and the run's model (:func:`.model.build_model`) as
one JSON value, written with sorted keys and no whitespace so the same run gives the same
bytes. The page's Content-Security-Policy allows no fetch of any kind: it works from
``file://`` with no network.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path

from .model import ReportInput, build_model

_SLOT = re.compile(r"\{\{(TITLE|CSS|JS|MODEL|PANELS)\}\}")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _json(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # inside <script>: no "</script>", no "<!--"; U+2028/9 are fine in JSON but not in old JS
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def panels_html(panels: dict[str, str]) -> str:
    """The panel sections, in the order given; each fragment is trusted HTML from
    :mod:`minternet.report.panels` (or a placeholder saying what is to come)."""
    out = []
    for title, fragment in panels.items():
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        out.append(
            f'<section id="panel-{slug}" class="panel"><h2>{html.escape(title)}</h2>'
            f"{fragment}</section>"
        )
    return "\n".join(out)


def render_report(rep: ReportInput) -> str:
    """The page for ``rep`` as text (UTF-8 when written)."""
    values = {
        "TITLE": html.escape(rep.title),
        "CSS": _asset("report.css"),
        "JS": _asset("report.js"),
        "MODEL": _json(build_model(rep)),
        "PANELS": panels_html(rep.panels),
    }
    return _SLOT.sub(lambda m: values[m.group(1)], _asset("report.html"))


def write_report(path: Path, rep: ReportInput) -> None:
    """Write the page to ``path`` (an OSError names the path: the CLI's one line, exit 2)."""
    path.write_text(render_report(rep), encoding="utf-8")


__all__ = ["panels_html", "render_report", "write_report"]
