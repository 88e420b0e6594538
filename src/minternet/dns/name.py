"""Domain names (RFC 1035 §3.1, §4.1.4; RFC 4343 case rules).

A :class:`Name` is a tuple of labels (bytes), always absolute. It compares and hashes
case-insensitively (ASCII only, RFC 4343 §3) but keeps the case it was given, as servers
must echo it. Limits are checked on construction: a label is 1..63 octets and the whole
name at most 255 octets on the wire (RFC 1035 §2.3.4).

On the wire, :func:`decode_name` follows compression pointers only strictly backwards —
each pointer must point before the previous one — so a malicious loop ends
(the rule dnspython also uses); :func:`encode_name` compresses suffixes against a table of
earlier offsets (matching case-insensitively, offsets ≤ 0x3FFF).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from ..errors import DecodeError, MinternetError

MAX_LABEL = 63
MAX_NAME = 255
POINTER_LIMIT = 0x3FFF

_ESCAPED = frozenset(b'.\\"();@$')


class BadName(MinternetError, ValueError):
    """A name that breaks the length rules or does not parse as text."""


class Name:
    """An absolute domain name: labels from the leftmost to the one below the root."""

    __slots__ = ("_hash", "key", "labels")

    labels: tuple[bytes, ...]
    key: tuple[bytes, ...]  # the labels in lower case: what comparisons use

    def __init__(self, labels: Iterable[bytes], *, _checked: bool = False) -> None:
        labels = tuple(labels)
        if not _checked:
            total = 1
            for label in labels:
                n = len(label)
                if n == 0:
                    raise BadName("empty label inside a name")
                if n > MAX_LABEL:
                    raise BadName(f"label of {n} octets (at most {MAX_LABEL})")
                total += n + 1
            if total > MAX_NAME:
                raise BadName(f"name of {total} octets (at most {MAX_NAME})")
        self.labels = labels
        self.key = tuple([label.lower() for label in labels])
        self._hash = hash(self.key)

    @classmethod
    def _suffix(cls, name: Name, i: int) -> Self:
        """``name`` without its first ``i`` labels (checked already; the key sliced, not
        lowered again)."""
        out = cls.__new__(cls)
        out.labels = name.labels[i:]
        key = out.key = name.key[i:]
        out._hash = hash(key)
        return out

    # -- text form (RFC 1035 §5.1) ----------------------------------------------------
    @classmethod
    def from_text(cls, text: str) -> Self:
        """Parse ``www.example.com`` or ``www.example.com.`` (``\\.`` and ``\\DDD`` escapes)."""
        if text in (".", ""):
            return cls(())
        raw = text.encode("utf-8")
        labels: list[bytes] = []
        cur = bytearray()
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == 0x5C:  # backslash
                if i + 1 >= n:
                    raise BadName(f"dangling escape in {text!r}")
                if raw[i + 1 : i + 2].isdigit():
                    digits = raw[i + 1 : i + 4]
                    if len(digits) != 3 or not digits.isdigit() or int(digits) > 255:
                        raise BadName(f"bad \\DDD escape in {text!r}")
                    cur.append(int(digits))
                    i += 4
                    continue
                cur.append(raw[i + 1])
                i += 2
                continue
            if c == 0x2E:  # dot
                if not cur:
                    raise BadName(f"empty label in {text!r}")
                labels.append(bytes(cur))
                cur.clear()
            else:
                cur.append(c)
            i += 1
        if cur:
            labels.append(bytes(cur))
        return cls(labels)

    def to_text(self) -> str:
        """The presentation form, with a trailing dot (``example.com.``)."""
        if not self.labels:
            return "."
        return ".".join(_label_text(lb) for lb in self.labels) + "."

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Name({self.to_text()!r})"

    # -- comparison ------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self.key == other.key
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def wire_length(self) -> int:
        return sum(len(lb) + 1 for lb in self.labels) + 1

    def is_subdomain(self, other: Name) -> bool:
        """True if ``self`` is ``other`` or below it (``www.example.com`` ⊂ ``com``)."""
        k = len(other.key)
        return k == 0 or (len(self.key) >= k and self.key[len(self.key) - k :] == other.key)

    def parent(self) -> Name:
        if not self.labels:
            raise BadName("the root has no parent")
        return Name._suffix(self, 1)

    def ancestors(self) -> list[Name]:
        """This name, its parent, … down to the root (most specific first)."""
        return [Name._suffix(self, i) for i in range(len(self.labels) + 1)]

    def child(self, label: bytes | str) -> Name:
        lb = label.encode() if isinstance(label, str) else label
        return Name((lb, *self.labels))


ROOT = Name(())


_PLAIN = bytes(b for b in range(0x21, 0x7F) if b not in _ESCAPED)


def _label_text(label: bytes) -> str:
    if not label.translate(None, _PLAIN):  # nothing to escape: the common case
        return label.decode("ascii")
    out = []
    for b in label:
        if b in _ESCAPED:
            out.append("\\" + chr(b))
        elif 0x21 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


def name(text: str | Name) -> Name:
    """A :class:`Name` from text (or the name itself)."""
    return text if isinstance(text, Name) else Name.from_text(text)


# -- wire form -------------------------------------------------------------------------
Compression = dict[tuple[bytes, ...], int]


def encode_name(buf: bytearray, n: Name, comp: Compression | None) -> None:
    """Append ``n`` to ``buf``; with a table, point at an earlier copy of a suffix.

    Offsets in the table are positions in ``buf`` (the message starts at 0); only offsets
    ≤ 0x3FFF can be pointed at (RFC 1035 §4.1.4), so later ones are not recorded.
    """
    labels = n.labels
    if comp is None:
        for lb in labels:
            buf.append(len(lb))
            buf += lb
        buf.append(0)
        return
    key = n.key
    for i in range(len(labels)):
        suffix = key[i:]
        at = comp.get(suffix)
        if at is not None:
            buf += (0xC000 | at).to_bytes(2, "big")
            return
        pos = len(buf)
        if pos <= POINTER_LIMIT:
            comp[suffix] = pos
        lb = labels[i]
        buf.append(len(lb))
        buf += lb
    buf.append(0)


def decode_name(
    data: bytes,
    pos: int,
    end: int,
    what: str = "dns",
    memo: dict[int, Name] | None = None,
) -> tuple[Name, int]:
    """Read a name at ``pos`` (bytes before ``end`` only); return it and where it ends.

    Pointers may lead anywhere before the pointer itself but must go strictly backwards
    each time, so every chain ends. Label types 01 and 10 (RFC 6891 §5) are refused.
    ``memo`` (one per message) remembers the names already read by their offset, so a
    pointer to one of them is not followed label by label again.
    """
    labels: list[bytes] = []
    total = 1
    after: int | None = None  # where the name ends in the original position
    limit = pos  # a pointer must point before this (strictly backwards)
    start = pos
    bound = end
    while True:
        if pos >= bound:
            raise DecodeError(what, "name", pos, "name runs past the end")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= bound:
                raise DecodeError(what, "name.pointer", pos, "truncated compression pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if after is None:
                after = pos + 2
            if target >= limit:
                raise DecodeError(
                    what, "name.pointer", pos, f"pointer to {target} does not go backwards"
                )
            if memo is not None:
                known = memo.get(target)
                if known is not None:
                    total += known.wire_length - 1
                    if total > MAX_NAME:
                        raise DecodeError(
                            what, "name", start, f"name longer than {MAX_NAME} octets"
                        )
                    labels += known.labels
                    break
            limit = target
            pos = target
            bound = len(data)
            continue
        if kind != 0:
            raise DecodeError(what, "name.label", pos, f"unsupported label type {kind >> 6:#x}")
        total += length + 1
        if total > MAX_NAME:
            raise DecodeError(what, "name", start, f"name longer than {MAX_NAME} octets")
        if pos + 1 + length > bound:
            raise DecodeError(what, "name.label", pos, "label runs past the end")
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    result = Name(labels, _checked=True)
    if memo is not None:
        memo[start] = result
    return result, (pos if after is None else after)
