"""The HTTP/1.1 grammar we parse, quoted from the RFCs and compiled once.

Each regular expression below implements the ABNF rule quoted above it, byte for byte, and
nothing looser: what the grammar does not allow (obs-fold, a bare CR or LF inside a line,
whitespace between a field name and its colon, a non-token byte in a method or name) does
not match, and the parser answers 400. The rules come from RFC 9110 (HTTP Semantics),
RFC 9112 (HTTP/1.1) and RFC 5234 (core rules).
"""

from __future__ import annotations

import re


def _compile(pattern: bytes) -> re.Pattern[str]:
    """Heads are decoded as latin-1 (one char per byte), so the patterns run on str."""
    return re.compile(pattern.decode("latin-1"))


# RFC 5234 Appendix B.1:
#   OWS = *( SP / HTAB )                         (RFC 9110 §5.6.3)
#   VCHAR = %x21-7E ; obs-text = %x80-FF          (RFC 9110 §5.5)
OWS = rb"[ \t]*"

# RFC 9110 §5.6.2:
#   token  = 1*tchar
#   tchar  = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#            "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
TOKEN = TCHAR + rb"+"
token_re = _compile(TOKEN)

# RFC 9110 §5.5:
#   field-value    = *field-content
#   field-content  = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
#   field-vchar    = VCHAR / obs-text
FIELD_VCHAR = rb"[\x21-\x7e\x80-\xff]"
FIELD_CONTENT = FIELD_VCHAR + rb"(?:[ \t\x21-\x7e\x80-\xff]*" + FIELD_VCHAR + rb")?"
FIELD_VALUE = rb"(?:" + FIELD_CONTENT + rb")?"
field_value_re = _compile(FIELD_VALUE)

# RFC 9112 §5:
#   field-line = field-name ":" OWS field-value OWS
#   "No whitespace is allowed between the field name and colon. [...] A server MUST reject,
#    with a response status code of 400 (Bad Request), any received request message that
#    contains whitespace between a header field name and colon."
# field-content ends with a field-vchar, so trailing OWS stays outside the value group.
field_line_re = _compile(rb"(" + TOKEN + rb"):" + OWS + rb"(" + FIELD_VALUE + rb")" + OWS)

# RFC 9112 §3:
#   request-line   = method SP request-target SP HTTP-version
#   method         = token
# RFC 9112 §2.3:
#   HTTP-version   = HTTP-name "/" DIGIT "." DIGIT ;  HTTP-name = %s"HTTP"
# The request-target (RFC 9112 §3.2) is any run of visible characters here; its form
# (origin, absolute, authority, asterisk) is checked by :func:`target_form`.
HTTP_VERSION = rb"HTTP/([0-9])\.([0-9])"
request_line_re = _compile(rb"(" + TOKEN + rb") ([\x21-\x7e]+) " + HTTP_VERSION)
# A version-looking tail with more than one digit each side, so 505 can answer HTTP/2.0 or
# HTTP/10.0 rather than 400 (RFC 9110 §15.6.6).
loose_version_re = _compile(rb"HTTP/[0-9]+\.[0-9]+")

# RFC 9112 §4:
#   status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   status-code = 3DIGIT
#   reason-phrase  = 1*( HTAB / SP / VCHAR / obs-text )
# The SP before an empty reason-phrase is optional here: "HTTP/1.1 200" is what several
# servers send, and RFC 9112 §4 has a client ignore the reason anyway (curl and h11 accept it).
status_line_re = _compile(HTTP_VERSION + rb" ([0-9]{3})(?: ([\t \x21-\x7e\x80-\xff]*))?")

# RFC 9112 §7.1:
#   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-size     = 1*HEXDIG
#   last-chunk     = 1*("0") [ chunk-ext ] CRLF
#   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-val  = token / quoted-string
# RFC 9110 §5.6.4:
#   quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE
#   qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
#   quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
QUOTED_STRING = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
CHUNK_EXT = (
    rb"(?:" + OWS + rb";" + OWS + TOKEN
    + rb"(?:" + OWS + rb"=" + OWS + rb"(?:" + TOKEN + rb"|" + QUOTED_STRING + rb"))?)*"
)  # fmt: skip
# At most 16 hex digits: a larger size cannot be a real body and would only be an attack.
chunk_header_re = _compile(rb"([0-9A-Fa-f]{1,16})(" + CHUNK_EXT + rb")")

# RFC 9110 §8.6:  Content-Length = 1*DIGIT
content_length_re = _compile(rb"[0-9]{1,18}")

# RFC 9112 §3.2.1:  origin-form = absolute-path [ "?" query ]
# RFC 3986 §3.3-3.4: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
PCHAR = rb"(?:[-A-Za-z0-9._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
origin_form_re = _compile(rb"(/(?:" + PCHAR + rb"|/)*)(?:\?((?:" + PCHAR + rb"|[/?])*))?")
# RFC 9112 §3.2.2:  absolute-form = absolute-URI  (only http/https are of use to a server)
absolute_form_re = _compile(
    rb"[Hh][Tt][Tt][Pp][Ss]?://([^/?#\x00-\x20]+)(/(?:" + PCHAR + rb"|/)*)?(?:\?([^#\s]*))?"
)

# A line of a head or a chunk-size line that ends in LF without CR (RFC 9112 §2.2).
bare_lf_re = re.compile(rb"(?<!\r)\n")

# RFC 9110 §7.2 / RFC 3986 §3.2.2-3.2.3:  Host = uri-host [ ":" port ]
host_re = _compile(
    rb"(?:\[[0-9A-Fa-f:.]+\]|(?:[-A-Za-z0-9._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?"
)
