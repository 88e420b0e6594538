"""A pcapng writer (draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump File Format").

The file is one section: a Section Header Block, any Decryption Secrets Blocks (§4.7; TLS
key log text so Wireshark decrypts TLS on opening), one Interface Description Block per
simulated interface (``if_name`` = ``node/iface``, ``if_tsresol`` = 9: nanoseconds, link type
1: Ethernet), then one Enhanced Packet Block per frame with the virtual timestamp, options
``epb_flags`` (direction: inbound/outbound), ``epb_packetid`` (the same id on a router's
ingress and egress frames of one packet) and ``opt_comment`` (a line of narration).

Everything is little-endian and nothing depends on the wall clock or the machine, so the
same run gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .bus import FrameRecord

SHB_TYPE = 0x0A0D0D0A
IDB_TYPE = 0x00000001
EPB_TYPE = 0x00000006
DSB_TYPE = 0x0000000A
BYTE_ORDER_MAGIC = 0x1A2B3C4D
LINKTYPE_ETHERNET = 1
SECRETS_TLS_KEY_LOG = 0x544C534B  # "TLSK": NSS key log format

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
EPB_FLAGS = 2
EPB_PACKETID = 5

_INBOUND = 1
_OUTBOUND = 2


def _pad(b: bytes) -> bytes:
    return b + bytes(-len(b) % 4)


def _option(code: int, value: bytes) -> bytes:
    return code.to_bytes(2, "little") + len(value).to_bytes(2, "little") + _pad(value)


def _options(opts: Iterable[tuple[int, bytes]]) -> bytes:
    body = b"".join(_option(c, v) for c, v in opts)
    return body + _option(OPT_ENDOFOPT, b"") if body else b""


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    size = total.to_bytes(4, "little")
    return block_type.to_bytes(4, "little") + size + body + size


def section_header(application: str = "minternet") -> bytes:
    body = (
        BYTE_ORDER_MAGIC.to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (0).to_bytes(2, "little")
        + (0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")  # section length not specified
        + _options([(SHB_USERAPPL, application.encode())])
    )
    return _block(SHB_TYPE, body)


def interface_description(name: str, description: str | None = None) -> bytes:
    opts = [(IF_NAME, name.encode()), (IF_TSRESOL, b"\x09")]
    if description:
        opts.append((IF_DESCRIPTION, description.encode()))
    body = (
        LINKTYPE_ETHERNET.to_bytes(2, "little")
        + b"\x00\x00"
        + (262144).to_bytes(4, "little")  # snaplen
        + _options(opts)
    )
    return _block(IDB_TYPE, body)


def enhanced_packet(interface_id: int, rec: FrameRecord, epoch_ns: int = 0) -> bytes:
    """An EPB (§4.3); the timestamp is ``epoch_ns`` + the frame's virtual time, in ns since
    1970 (``if_tsresol`` 9)."""
    ts = epoch_ns + round(rec.time * 1_000_000_000)
    opts: list[tuple[int, bytes]] = []
    if rec.comment:
        opts.append((OPT_COMMENT, rec.comment.encode()))
    flags = _INBOUND if rec.direction == "in" else _OUTBOUND
    opts.append((EPB_FLAGS, flags.to_bytes(4, "little")))
    if rec.packet_id is not None:
        opts.append((EPB_PACKETID, rec.packet_id.to_bytes(8, "little")))
    body = (
        interface_id.to_bytes(4, "little")
        + (ts >> 32).to_bytes(4, "little")
        + (ts & 0xFFFFFFFF).to_bytes(4, "little")
        + len(rec.data).to_bytes(4, "little")
        + len(rec.data).to_bytes(4, "little")
        + _pad(rec.data)
        + _options(opts)
    )
    return _block(EPB_TYPE, body)


def decryption_secrets(keylog: str | bytes) -> bytes:
    """A Decryption Secrets Block carrying NSS key log text (``CLIENT_RANDOM …`` lines)."""
    data = keylog.encode() if isinstance(keylog, str) else keylog
    body = SECRETS_TLS_KEY_LOG.to_bytes(4, "little") + len(data).to_bytes(4, "little") + _pad(data)
    return _block(DSB_TYPE, body)


class PcapngWriter:
    """Collects frames (it is a frame sink for :meth:`TraceBus.subscribe_frames`) and writes
    them as one pcapng section."""

    def __init__(
        self,
        interfaces: Iterable[str | tuple[str, str]] = (),
        application: str = "minternet",
        epoch: float = 0,
    ) -> None:
        """``epoch``: the Unix time of virtual time 0, so a capture's dates agree with the
        world's calendar (HTTP ``Date``, certificate validity); a real-time run gives the
        wall-clock time at its loop's start."""
        self.application = application
        self._epoch_ns = round(epoch * 1_000_000_000)
        self._ifaces: dict[str, int] = {}
        self._descriptions: dict[str, str | None] = {}
        self._packets: list[bytes] = []
        self._secrets: list[bytes] = []
        for entry in interfaces:
            if isinstance(entry, str):
                self.add_interface(entry)
            else:
                self.add_interface(*entry)

    def add_interface(self, name: str, description: str | None = None) -> int:
        """The index of interface ``name`` (a new block if it is new); a description given
        later fills in one a frame's first sighting left empty."""
        if name not in self._ifaces:
            self._ifaces[name] = len(self._ifaces)
            self._descriptions[name] = description
        elif description is not None and self._descriptions[name] is None:
            self._descriptions[name] = description
        return self._ifaces[name]

    def __call__(self, rec: FrameRecord) -> None:
        idx = self.add_interface(f"{rec.node}/{rec.iface}")
        self._packets.append(enhanced_packet(idx, rec, self._epoch_ns))

    def add_decryption_secrets(self, keylog: str | bytes) -> None:
        """Add a DSB; it is written before the packets, so Wireshark can decrypt them."""
        self._secrets.append(decryption_secrets(keylog))

    def __len__(self) -> int:
        return len(self._packets)

    def getvalue(self) -> bytes:
        parts = [section_header(self.application), *self._secrets]
        parts += [interface_description(n, self._descriptions[n]) for n in self._ifaces]
        parts += self._packets
        return b"".join(parts)

    def write(self, path: str | Path) -> None:
        Path(path).write_bytes(self.getvalue())
