"""Panels of the HTML report: self-contained fragments (inline SVG and a little markup, no
script, CSS classes prefixed ``mp-``) the report page embeds.

- :func:`tcp_panel_html` — per TCP connection and end, the Stevens time–sequence graph,
  cwnd/ssthresh, SRTT/RTO and the states over time (:mod:`.tcp`);
- :func:`tls_panel_html` — the handshake's values, the key derivation with its values when
  the secrets are given, and the certificate path with each check (:mod:`.tls`).

**Frame index.** An element that stands for a captured frame carries
``data-frame="N"``: N is the frame's position (from 0) in the run's capture order — the
order in which frames reached the trace bus's frame sinks, ``FetchRun.frames`` for a
fetch. ``fetch --pcap`` writes its Enhanced Packet Blocks in exactly that order when it
captures every interface (no ``--pcap-at``), so N is tshark's ``frame.number`` − 1 in that
file. Give the panels the run's frames to get these links; without them the panels are
drawn the same, only unlinked. How a segment finds its frame: :mod:`.frames`.

The same inputs give byte-identical output: numbers are formatted with fixed precision and
nothing is ordered by a set.
"""

from __future__ import annotations

from .tcp import tcp_panel_html
from .tls import tls_panel_html

__all__ = ["tcp_panel_html", "tls_panel_html"]
