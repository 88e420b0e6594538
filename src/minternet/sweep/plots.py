"""The figures of a sweep (matplotlib, Agg backend), an HTML page holding them, a summary table.

- time to the result (a fetch's page-load time, a transfer's time, a dig's query time)
  against loss: the median and the p10–p90 band of the successful runs, per variant (the
  combination of kex / cipher / cc / tls / scenario / latency the sweep varied);
- success rate against loss, the failures split by the phase they happened in (1 DNS,
  2 TCP + TLS handshakes, 3 HTTP, 4 close) and runs that raised;
- retransmissions against loss (median and p10–p90);
- handshake time (phase 2) against the RTT the connection measured first (RFC 6298 sample).

Everything is read back from the dataset, so the plots of a resumed or merged sweep are the
plots of all its rows.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from .dataset import Dataset

VARIANT_AXES = ("kex", "cipher", "cc", "tls", "scenario", "latency", "size", "name", "qtype")
RESULT_LABEL = {
    "fetch": "page-load time",
    "tcp-transfer": "transfer time",
    "dig": "query time",
}
PHASES = {1: "DNS (phase 1)", 2: "TCP/TLS handshakes (phase 2)", 3: "HTTP (phase 3)"}
Row = dict[str, Any]


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return math.nan
    pos = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _varied(rows: list[Row], axes: Sequence[str]) -> list[str]:
    out = []
    for a in axes:
        values = {r[a] for r in rows}
        if len(values) > 1:
            out.append(a)
    return out


def _variant_of(axes: list[str]) -> Callable[[Row], str]:
    def label(r: Row) -> str:
        parts = []
        for a in axes:
            v = r[a]
            text = "default" if v is None else (f"{v:g} ms" if a == "latency" else str(v))
            parts.append(f"{a}={text}")
        return ", ".join(parts) or "all cells"

    return label


def _groups(
    rows: list[Row], key: Callable[[Row], Any], order: Callable[[Row], Any] | None = None
) -> dict[Any, list[Row]]:
    """Rows by ``key``, the groups sorted by ``order`` of their first row (default: key)."""
    out: dict[Any, list[Row]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    sort = order or key
    return dict(sorted(out.items(), key=lambda kv: sort(kv[1][0])))


def _axis_order(axes: list[str]) -> Callable[[Row], tuple[Any, ...]]:
    """Rows ordered by the values of ``axes`` (numbers as numbers; the default first)."""
    return lambda r: tuple((r[a] is not None, r[a] if r[a] is not None else 0) for a in axes)


def _what(rows: list[Row]) -> str:
    kinds = sorted({str(r["what"]) for r in rows})
    return kinds[0] if len(kinds) == 1 else "fetch"


def draw(dataset_dir: Path, out: Path) -> Path:
    """Write the PNGs and ``index.html`` into ``out``; the HTML page's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = Dataset(dataset_dir).rows()
    out.mkdir(parents=True, exist_ok=True)
    what = _what(rows)
    varied = _varied(rows, VARIANT_AXES)
    variants = _groups(rows, _variant_of(varied), _axis_order(varied))
    result = RESULT_LABEL.get(what, "time")
    figures: list[tuple[str, str]] = []

    def save(fig: Any, name: str, caption: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=100, metadata={"Software": None})
        plt.close(fig)
        figures.append((name, caption))

    def band(
        ax: Any,
        groups: dict[str, list[Row]],
        column: str,
        only_ok: bool,
        x_of: Callable[[list[Row]], dict[float, list[Row]]] = lambda rs: _groups(
            rs, lambda r: r["loss"] * 100
        ),
        scale: float = 1.0,
    ) -> None:
        """Per group: the median of ``column`` against x, and the p10–p90 band."""
        for i, (name, vrows) in enumerate(groups.items()):
            by_x = x_of(vrows)
            xs, med, p10, p90 = [], [], [], []
            for x in sorted(by_x):
                vals = [
                    r[column] * scale
                    for r in by_x[x]
                    if r[column] is not None and (r["status"] == "ok" or not only_ok)
                ]
                if vals:
                    xs.append(x)
                    med.append(_percentile(vals, 50))
                    p10.append(_percentile(vals, 10))
                    p90.append(_percentile(vals, 90))
            color = f"C{i % 10}"
            ax.plot(xs, med, marker="o", color=color, label=f"{name} (median)")
            ax.fill_between(xs, p10, p90, color=color, alpha=0.2, label=f"{name} (p10–p90)")
        ax.set_xlabel("loss on the home line (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    band(ax, variants, "duration_s", only_ok=True)
    ax.set_ylabel(f"{result} (s, virtual)")
    ax.set_title(f"{result.capitalize()} vs loss (successful runs)")
    save(fig, "time_vs_loss.png", f"{result.capitalize()} against loss: median, p10–p90 band.")

    n = len(variants)
    fig, axes = plt.subplots(1, n, figsize=(max(5.0, 4.2 * n), 4.2), squeeze=False, sharey=True)
    for ax, (name, vrows) in zip(axes[0], variants.items(), strict=True):
        by_loss = _groups(vrows, lambda r: r["loss"])
        losses = sorted(by_loss)
        xs = [f"{loss * 100:g}" for loss in losses]
        bottom = [0.0] * len(losses)
        stacks: list[tuple[str, Callable[[Row], bool], str]] = [
            ("ok", lambda r: r["status"] == "ok", "tab:green"),
            *(
                (f"failed in {text}", _failed_in(p), color)
                for (p, text), color in zip(
                    PHASES.items(), ("tab:orange", "tab:red", "tab:purple"), strict=True
                )
            ),
            ("failed elsewhere", _failed_elsewhere, "tab:brown"),
            ("run raised an error", lambda r: r["status"] == "error", "tab:gray"),
        ]
        for text, pred, color in stacks:
            share = [
                100.0 * sum(1 for r in by_loss[loss] if pred(r)) / len(by_loss[loss])
                for loss in losses
            ]
            if any(share):
                ax.bar(xs, share, bottom=bottom, color=color, label=text)
                bottom = [b + s for b, s in zip(bottom, share, strict=True)]
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("loss on the home line (%)")
        ax.legend(fontsize="small", loc="lower left")
    axes[0][0].set_ylabel("share of runs (%)")
    fig.suptitle("Success rate vs loss, failures by phase")
    save(fig, "success_vs_loss.png", "Share of runs that succeeded, and where the others failed.")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    band(ax, variants, "retransmissions", only_ok=False)
    ax.set_ylabel("retransmissions per run (segments, both ends)")
    ax.set_title("Retransmissions vs loss")
    save(fig, "retransmissions_vs_loss.png", "TCP retransmissions per run against loss.")

    with_hs = [r for r in rows if r["handshake_s"] is not None and r["rtt_s"] is not None]
    if with_hs:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        kinds = _varied(with_hs, VARIANT_AXES[:5])
        by_variant = _groups(with_hs, _variant_of(kinds), _axis_order(kinds))
        band(ax, by_variant, "handshake_s", only_ok=True, x_of=_by_path_rtt, scale=1000.0)
        ax.set_xlabel("RTT of the path: the smallest first RTT sample at that latency (ms)")
        ax.set_ylabel("handshake time, TCP + TLS (ms, virtual)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        ax.set_title("Handshake time vs RTT")
        save(fig, "handshake_vs_rtt.png", "Phase 2 (TCP and TLS handshakes) against the RTT.")
    page = out / "index.html"
    page.write_text(_html(rows, what, figures, out), encoding="utf-8")
    return page


def _by_path_rtt(rows: list[Row]) -> dict[float, list[Row]]:
    """Rows grouped by the path's RTT: per extra latency, the smallest RTT sample measured
    there (a sample not inflated by a lost segment), in milliseconds."""
    by_latency = _groups(rows, lambda r: r["latency"])
    return {1000.0 * min(r["rtt_s"] for r in group): group for group in by_latency.values()}


def _failed_in(phase: int) -> Callable[[Row], bool]:
    return lambda r: r["status"] == "failed" and r["failure_phase"] == phase


def _failed_elsewhere(r: Row) -> bool:
    return r["status"] == "failed" and r["failure_phase"] not in PHASES


def _summary(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    varied = _varied(rows, VARIANT_AXES)
    label, order = _variant_of(varied), _axis_order(varied)
    head = ["variant", "loss", "cells", "ok", "median s", "p10 s", "p90 s", "retrans.", "RTOs"]
    body = []
    by_cell = _groups(rows, lambda r: (label(r), r["loss"]), lambda r: (order(r), r["loss"]))
    for (name, loss), group in by_cell.items():
        ok = [r for r in group if r["status"] == "ok"]
        times = [r["duration_s"] for r in ok if r["duration_s"] is not None]
        retrans = [r["retransmissions"] for r in group if r["retransmissions"] is not None]
        rtos = [r["rtos"] for r in group if r["rtos"] is not None]

        def fmt(v: float) -> str:
            return "–" if math.isnan(v) else f"{v:.3f}"

        body.append(
            [
                name,
                f"{loss * 100:g} %",
                str(len(group)),
                f"{100 * len(ok) / len(group):.0f} %",
                fmt(_percentile(times, 50)),
                fmt(_percentile(times, 10)),
                fmt(_percentile(times, 90)),
                fmt(_percentile(retrans, 50)).rstrip("0").rstrip(".") if retrans else "–",
                fmt(_percentile(rtos, 50)).rstrip("0").rstrip(".") if rtos else "–",
            ]
        )
    return head, body


def summary_table(dataset_dir: Path) -> Table:
    """Per variant and loss: cells, success rate, time percentiles, medians of the counts."""
    rows = Dataset(dataset_dir).rows()
    head, body = _summary(rows)
    table = Table(title=f"{len(rows)} {_what(rows)} runs", caption=str(dataset_dir))
    for h in head:
        table.add_column(h, justify="left" if h == "variant" else "right", no_wrap=True)
    for line in body:
        table.add_row(*line)
    return table


def _html(rows: list[Row], what: str, figures: list[tuple[str, str]], out: Path) -> str:
    head, body = _summary(rows)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>minternet sweep: {len(rows)} {html.escape(what)} runs</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
        "text-align:right}img{max-width:100%}</style></head><body>",
        f"<h1>minternet sweep: {len(rows)} {html.escape(what)} runs</h1>",
    ]
    for name, caption in figures:
        data = base64.b64encode((out / name).read_bytes()).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("<h2>Summary</h2><table><tr>")
    parts += [f"<th>{html.escape(h)}</th>" for h in head]
    parts.append("</tr>")
    for line in body:
        parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in line) + "</tr>")
    parts.append("</table></body></html>\n")
    return "\n".join(parts)


__all__ = ["draw", "summary_table"]
