"""HTTP dates (RFC 9110 §5.6.7): we write IMF-fixdate, we read all three formats.

``Sun, 06 Nov 1994 08:49:37 GMT`` (IMF-fixdate), ``Sunday, 06-Nov-94 08:49:37 GMT`` (obsolete
RFC 850) and ``Sun Nov  6 08:49:37 1994`` (ANSI C asctime). Times are POSIX seconds given by
the caller — in the simulator an epoch plus the virtual clock — never read here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m: i + 1 for i, m in enumerate(_MONTHS)}

_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
# IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT ; date1 = day SP month SP year
_IMF = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) ([A-Z][a-z]{2}) ([0-9]{4}) "
                  + _TIME + " GMT")  # fmt: skip
# rfc850-date  = day-name-l "," SP date2 SP time-of-day SP GMT ; date2 = day "-" month "-" 2DIGIT
_RFC850 = re.compile(r"[A-Z][a-z]+day, ([0-9]{2})-([A-Z][a-z]{2})-([0-9]{2}) " + _TIME + " GMT")
# asctime-date = day-name SP date3 SP time-of-day SP year
# date3        = month SP ( 2DIGIT / ( SP DIGIT ) )
_ASCTIME = re.compile(r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ 0-9][0-9]) " + _TIME + " ([0-9]{4})")


def format_http_date(seconds: float) -> str:
    """IMF-fixdate of POSIX time ``seconds`` (fractions dropped)."""
    t = datetime.fromtimestamp(int(seconds), UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


def parse_http_date(text: str) -> float | None:
    """POSIX seconds of an HTTP-date in any of the three formats, or None if invalid."""
    text = text.strip()
    if m := _IMF.fullmatch(text):
        day, mon, year, hh, mm, ss = m.groups()
    elif m := _RFC850.fullmatch(text):
        day, mon, yy, hh, mm, ss = m.groups()
        # RFC 9110 §5.6.7 reads a two-digit year relative to now; with no clock here the pivot
        # is fixed at 1970 (POSIX time 0), which is right for every date this program sees.
        year = str(2000 + int(yy) if int(yy) < 70 else 1900 + int(yy))
    elif m := _ASCTIME.fullmatch(text):
        mon, day, hh, mm, ss, year = m.groups()
    else:
        return None
    month = _MONTH_NUM.get(mon)
    if month is None:
        return None
    try:
        t = datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
    except ValueError:
        return None
    return t.timestamp()
