"""Panels of the HTML report: self-contained fragments (inline SVG and a little markup, no
script, CSS classes prefixed ``mp-``) the report page embeds.

- :func:`tcp_panel_html` — per TCP connection and end, the Stevens time–sequence graph,
  cwnd/ssthresh, SRTT/RTO and the states over time (:mod:`.tcp`);
- :func:`tls_panel_html` — the handshake's values, the key derivation with its values when
  the secrets are given, and the certificate path with each check (:mod:`.tls`).

**Frame index.** An element that stands for a captured frame carries
``data-frame="N"``: N is the frame's position (from 0) in the ``frames`` sequence given to
the panel — the run's capture order as the caller shows it. For the file ``fetch --pcap``
writes, that sequence is the run's frames at the world's capture points
(:meth:`~minternet.sim.world.World.capture_points`, one interface per link, in the order
they reached the trace bus: what ``cli.fetch_story.captured`` keeps), so N is tshark's
``frame.number`` − 1 in that file; ``tcp-transfer --pcap`` captures every interface, so
there the sequence is every frame the run recorded. A report page passes the frames its
ladder draws. Without frames the panels are drawn the same, only unlinked, and without the
marks of lost frames (a loss is told by its frame). How a segment finds its frame:
:mod:`.frames`.

The same inputs give byte-identical output: numbers are formatted with fixed precision and
nothing is ordered by a set.
"""

from __future__ import annotations

from .tcp import tcp_panel_html
from .tls import tls_panel_html

__all__ = ["tcp_panel_html", "tls_panel_html"]
