"""The combined secret pattern and its handlers: one compiled alternation, one linear pass (see the package doc)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from knowledge.redaction.names import REDACTED, STOP_WORDS, is_placeholder, looks_secret_name

# --------------------------------------------------------------------------------------------------------------
# The combined pattern
# --------------------------------------------------------------------------------------------------------------
#
# Speed comes from how Python's regex engine treats an alternation: an alternative whose first item is a literal
# character is rejected in a single comparison, and when *every* top-level alternative starts with a literal the
# engine skips, in C, every position whose character cannot start a match. So each rule below is written as the
# characters it can start with plus the rest of the pattern: lookbehinds come after that first character, and
# the rule is identified by an empty tag group at the end of its alternative. Rules that would have to start at
# an arbitrary character (the key of ``key=value``, the user of ``user:pass@host``) are anchored on the keyword or
# on the ``:`` instead, and the handler looks back for the rest of the key with a bounded scan.

Outcome = str | int | tuple[str, int]
"""What a handler decides, for a match starting at ``m.start()``:

* ``str``: the replacement of the whole match;
* ``(replacement, end)``: the replacement of ``text[m.start():end]`` (a value measured by the handler);
* ``int``: keep the text and resume scanning at that position, e.g. at the start of a value that is not secret as
  a whole but may contain secrets (a URL, a token under an ordinary key).

Resuming instead of re-redacting the value keeps the whole thing one linear pass with no recursion: hostile input
such as ``key=key=key=...`` can neither nest calls nor make matches re-read the rest of the line.
"""
Handler = Callable[[re.Match[str], str], Outcome]


@dataclass(frozen=True, slots=True)
class _Rule:
    first: str
    """Characters a match starts with; each becomes its own alternative, starting with that literal."""
    rest: str
    """The pattern after the first character. ``{p}`` in group names is replaced to make them unique."""
    handler: Handler


def _g(m: re.Match[str], p: str, name: str) -> str | None:
    group: str | None = m.group(f"{p}_{name}")
    return group


def _ci(word: str) -> str:
    return f"(?i:{word})" if word else ""


# Words whose presence in a key makes it worth a closer look (the exact decision is ``looks_secret_name``).
_KEY_WORDS: Final = ("pass", "pwd", "secret", "sig", "token", "key", "auth", "cred", "cookie", "conn", "dsn", "jwt")
_KW: Final = "(?i:" + "|".join(_KEY_WORDS) + ")"
_KEY_MAX: Final = 64  # characters of a key after its keyword; longer "keys" are not keys
_SEP: Final = r"(?:\\{0,8}[\"'])?[ \t]*(?:=>|=|:(?!:))[ \t]*\[?[ \t]*"


def _value() -> str:
    """A value after a separator: "double"/'single' quoted, \\"escaped-quoted\\" (JSON in JSON), or bare.

    Groups: ``{p}_qv``, ``{p}_ev``, ``{p}_uv``, and ``{p}_us``: an auth scheme kept in front of a bare value.
    A bare value is not consumed: ``{p}_uv`` is empty and marks where it starts (see ``_bare_value``), because
    a bare value can run to the end of the line, and matches inside it would otherwise each re-read the rest.
    """
    return (
        r"(?:(?P<{p}_q>[\"'])(?P<{p}_qv>(?:[^\"'\\\r\n]|\\[^\r\n]|(?!(?P={p}_q))[\"'])*+)(?P={p}_q)"
        r"|\\(?P<{p}_eq>[\"'])(?P<{p}_ev>(?:[^\\\r\n]|\\(?!(?P={p}_eq))[^\r\n])*+)\\(?P={p}_eq)"
        r"|(?P<{p}_us>(?i:bearer|basic|token|digest)[ \t]+)?"
        r"(?P<{p}_uv>)(?=[^\s\"'`,;&(){}\[\]\\<>:=]))"
    )


def _value_group(m: re.Match[str], p: str) -> tuple[str, bool]:
    """Which value group matched, and whether the value was quoted."""
    for suffix, quoted in (("qv", True), ("ev", True), ("uv", False)):
        if _g(m, p, suffix) is not None:
            return f"{p}_{suffix}", quoted
    raise AssertionError(f"value pattern {p!r} matched no value group")  # the pattern guarantees one


def _splice(m: re.Match[str], group: str, replacement: str) -> str:
    """The whole match with ``group`` replaced."""
    start, end = m.span(group)
    base = m.start()
    whole = m.group()
    return whole[: start - base] + replacement + whole[end - base :]


def _rescan(m: re.Match[str], group: str) -> int:
    """Keep the match but scan ``group`` (a value that is not secret as a whole) for secrets inside it."""
    start = m.start(group)
    return start if start > m.start() else m.end()


_BARE_VALUE: Final = re.compile(
    r"(?:\$\{[^}\s]{0,256}+\}|\$\([^)\s]{0,256}+\)|[^\s\"'`,;&(){}\[\]\\<>:=])[^\s\"'`,;&)}\]\\]*+"
)
_SERVICE_ACCOUNT: Final = re.compile(r"serviceaccounts?:$", re.IGNORECASE)
_PEEK: Final = 512  # a bare value longer than this is no placeholder, stop word or prose: it is a value
# After ``key: ``, one plain word followed by more words on the line is prose, not a value.
_PROSE_AFTER: Final = re.compile(r"[ \t]+[^\s#]")


def _url_value(m: re.Match[str], start: int, value: str) -> Outcome:
    """A URL under a secret key: hide its credentials, keep scheme, host and path as evidence."""
    scheme_end = value.find("://")
    userinfo, at, _ = value[scheme_end + 3 :].partition("@")
    if at and not any(c in userinfo for c in ":/?#") and not is_placeholder(userinfo):
        cut = start + scheme_end + 3  # a key used as the user name (Sentry DSN)
        return m.string[m.start() : cut] + REDACTED, cut + len(userinfo)
    return start  # ``user:pass@`` is hidden by the URL rule when the value is scanned


def _secret_value(m: re.Match[str], p: str, name: str, *, prose: bool = False) -> Outcome:
    """Redact the value of rule ``p`` when ``name`` looks secret and the value is not evidence.

    ``prose``: the separator was ``: ``, so a lone word followed by more words is a sentence, not a value.
    """
    group, quoted = _value_group(m, p)
    start = m.start(group)
    if not looks_secret_name(name) or _SERVICE_ACCOUNT.search(m.string, max(0, m.start() - 24), m.start()):
        return _rescan(m, group)  # "system:serviceaccount:auth-gw:token-issuer" names a namespace, not a key
    if quoted:
        value = m.group(group)
        if is_placeholder(value):
            return m.end()
        return _url_value(m, start, value) if "://" in value else _splice(m, group, REDACTED)
    return _bare_value(m, start, prose=prose)


def _bare_value(m: re.Match[str], start: int, *, prose: bool) -> Outcome:
    """A bare value of a secret key, measured here rather than by the pattern (see ``_value``)."""
    text = m.string
    limit = start + _PEEK
    peek = _BARE_VALUE.match(text, start, limit)
    if peek is None:  # cannot happen: the pattern checked the first character
        return m.end()
    value = peek.group()
    if peek.end() < limit or limit >= len(text):  # the whole value is in view
        if is_placeholder(value) or value.lower() in STOP_WORDS or text.startswith(" bytes", peek.end()):
            return peek.end()  # "using password: YES", kubectl describe's "password:  8 bytes", "${DB_PASSWORD}"
        if prose and value.isalpha() and _PROSE_AFTER.match(text, peek.end()):
            return peek.end()  # "auth: invalid signature for ...", "credentials: missing or expired"
        end = peek.end()
    else:
        full = _BARE_VALUE.match(text, start)
        end = full.end() if full else peek.end()
    if "://" in value:
        return _url_value(m, start, value)
    return text[m.start() : start] + REDACTED, end


def _token_start(text: str, end: int, allowed: str, limit: int = 128) -> int:
    """Where the token of word characters and ``allowed`` that ends at ``end`` starts (at most ``limit`` back)."""
    i = end
    low = max(0, end - limit)
    while i > low and (text[i - 1].isalnum() or text[i - 1] in allowed):
        i -= 1
    return i


def _line_before(m: re.Match[str], limit: int = 300) -> str:
    text = m.string
    start = m.start()
    low = max(0, start - limit)  # bounded: an unbounded rfind on a huge line would make many matches quadratic
    newline = text.rfind("\n", low, start)
    return text[newline + 1 if newline >= 0 else low : start]


# ---- handlers ------------------------------------------------------------------------------------------------


def _on_whole(m: re.Match[str], p: str) -> Outcome:
    return REDACTED


def _on_group(name: str) -> Handler:
    """Hide group ``name`` unless it is already masked or a reference."""

    def handler(m: re.Match[str], p: str) -> Outcome:
        group = f"{p}_{name}"
        return m.end() if is_placeholder(m.group(group)) else _splice(m, group, REDACTED)

    return handler


_hide_password: Final = _on_group("p")


def _on_b64(m: re.Match[str], p: str) -> Outcome:
    blob = m.group()
    if blob.startswith("eyJhdXRocyI6"):  # base64 of '{"auths":' : a docker config
        return REDACTED
    head = blob[:64]
    try:
        decoded = base64.b64decode(head[: len(head) // 4 * 4], validate=True)
    except (binascii.Error, ValueError):
        return m.end()
    if b"PRIVATE KEY" in decoded or decoded.startswith(b"eyJ"):  # a PEM key, or a JWT (service-account token)
        return REDACTED
    return m.end()


def _on_header(m: re.Match[str], p: str) -> Outcome:
    if _g(m, p, "dv") is not None:
        return _splice(m, f"{p}_dv", REDACTED)
    value = _g(m, p, "v") or ""
    if is_placeholder(value) or (_g(m, p, "sch") is None and value.lower() in STOP_WORDS):
        return m.end()
    return _splice(m, f"{p}_v", REDACTED)


def _on_env(m: re.Match[str], p: str) -> Outcome:
    return _secret_value(m, p, _g(m, p, "n") or "")


# ``*v1.Secret: secrets "x" is forbidden`` (client-go): a Go type name, not a key.
_API_TYPE: Final = re.compile(r"\w*v\d+(?:(?:alpha|beta)\d+)?\.[A-Z][A-Za-z]*")


def _on_key_value(m: re.Match[str], p: str) -> Outcome:
    text = m.string
    start = _token_start(text, m.start(), "_.-")
    key_end = m.end(f"{p}_k")
    key = text[start:key_end]
    if (
        not looks_secret_name(key)
        or (start > 0 and text[start - 1] == "/")  # ".../serviceaccount/token: no such file": a path, not a key
        or _API_TYPE.fullmatch(key)
    ):
        return key_end  # the common case, kept cheap: rescan from the separator on
    separator = text[key_end : m.start(_value_group(m, p)[0])]
    return _secret_value(m, p, key, prose=":" in separator and separator[-1:].isspace())


def _on_flag(m: re.Match[str], p: str) -> Outcome:
    return _secret_value(m, p, _g(m, p, "k") or "")


def _on_xml(m: re.Match[str], p: str) -> Outcome:
    value = _g(m, p, "v") or ""
    if not looks_secret_name(_g(m, p, "k") or "") or is_placeholder(value):
        return _rescan(m, f"{p}_v")
    return _splice(m, f"{p}_v", REDACTED)


def _on_userinfo(m: re.Match[str], p: str) -> Outcome:
    """``user:pass@host`` without a scheme; the match starts at the ``:``."""
    text = m.string
    start = _token_start(text, m.start(), "._%+-", limit=65)
    before = text[start - 1] if start > 0 else " "
    if m.start() - start > 64 or before.isalnum() or before in "_/:@":
        return _rescan(m, f"{p}_p")
    return _hide_password(m, p)


def _on_curl(m: re.Match[str], p: str) -> Outcome:
    if (_g(m, p, "u") or "").isdigit() and (_g(m, p, "p") or "").isdigit():
        return m.end()  # ``docker run -u 1000:1000``: uid:gid
    return _hide_password(m, p)


def _on_cli_password(command: re.Pattern[str]) -> Handler:
    """``-pSECRET`` / ``-a SECRET``, only when the line runs a client that takes a password that way."""

    def handler(m: re.Match[str], p: str) -> Outcome:
        if command.search(_line_before(m)) is None:
            return _rescan(m, f"{p}_p")
        return _hide_password(m, p)

    return handler


def _on_vendor(m: re.Match[str], p: str) -> Outcome:
    prefix = _VENDOR_PREFIX.match(m.group())
    return (prefix.group() if prefix else "") + REDACTED


# ---- rules ---------------------------------------------------------------------------------------------------

_NOT_AFTER_WORD: Final = r"(?<![\w\-][\s\S])"  # the first character does not continue a word
_NOT_AFTER_ALNUM: Final = r"(?<![A-Za-z0-9][\s\S])"


def _vendor(first: str, rest: str) -> _Rule:
    return _Rule(first, _NOT_AFTER_ALNUM + rest, _on_vendor)


def _key_rules() -> list[_Rule]:
    """``key=value`` / ``key: value`` / ``"key": "value"`` / ``key => value``, anchored on the keyword."""
    by_first: dict[str, list[str]] = {}
    for word in _KEY_WORDS:
        by_first.setdefault(word[0], []).append(word[1:])
    rules = []
    for first, rests in by_first.items():
        rest = "(?i:" + "|".join(rests) + ")" + rf"(?P<{{p}}_k>[\w.\-]{{0,{_KEY_MAX}}}+)" + _SEP + _value()
        rules.append(_Rule(first.upper() + first, rest, _on_key_value))
    return rules


_RULES: Final = [
    # Private keys: everything between BEGIN and END (or up to 100k key-ish characters when truncated).
    _Rule(
        "-",
        r"----BEGIN[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----"
        r"(?P<{p}_v>(?:(?!-----END)[A-Za-z0-9+/=\s\\:,._\-]){0,100000}+)"
        r"(?:-----END[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----)?",
        _on_group("v"),
    ),
    _Rule("e", r"(?<![A-Za-z0-9_\-][\s\S])yJ[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]*+", _on_whole),
    # base64 of a PEM block, of a JWT (legacy service-account token Secrets), of a docker config.
    _Rule("L", r"(?<![A-Za-z0-9+/][\s\S])S0tLS1CRUdJTi[A-Za-z0-9+/]{20,}+={0,2}", _on_b64),
    _Rule("Z", r"(?<![A-Za-z0-9+/][\s\S])XlK[A-Za-z0-9+/]{20,}+={0,2}", _on_b64),
    _Rule("e", r"(?<![A-Za-z0-9+/][\s\S])yJhdXRocyI6[A-Za-z0-9+/]{20,}+={0,2}", _on_b64),
    # Authorization headers: keep the scheme, hide the credentials.
    *(
        _Rule(
            first,
            _NOT_AFTER_WORD + _ci(rest) + r"(?:\\{0,8}[\"'])?[ \t]*[:=][ \t]*\[?(?:\\{0,8}[\"'])?[ \t]*"
            # Digest / AWS4 credentials run to the end of the header, over their own quoted parameters.
            r"(?:(?P<{p}_ds>(?i:digest|aws4-hmac-sha256|hmac|signature)[ \t]+)"
            r"(?P<{p}_dv>(?:[^\r\n\"'\\\]]|\"[^\"\r\n]*+\"|\\\"[^\"\r\n\\]*+\\\")++)"
            r"|(?P<{p}_sch>(?i:bearer|basic|token|negotiate|ntlm|apikey|sharedkey|sso-key|key)[ \t]+)?"
            r"(?P<{p}_v>[^\s\"'\\,;\]{\[<(][^\s\"'\\,;\]]*+))",
            _on_header,
        )
        for first, rest in (("Aa", "uthorization"), ("Pp", "roxy-authorization"))
    ),
    *(
        _Rule(first, _NOT_AFTER_WORD + _ci(rest) + r"[ \t]*:[ \t]*(?P<{p}_v>[^\r\n\"'\\]+)", _on_group("v"))
        for first, rest in (("Cc", "ookie"), ("Ss", "et-cookie"))
    ),
    # YAML / JSON env entries: ``- name: DB_PASSWORD`` then ``value: ...``.
    _Rule(
        "n",
        _NOT_AFTER_WORD + r"ame(?:\\{0,8}[\"'])?[ \t]*[:=][ \t]*(?:\\{0,8}[\"'])?(?P<{p}_n>[A-Za-z_][\w.\-]{0,200}+)"
        r"(?:\\{0,8}[\"'])?[ \t]*,?[ \t]*(?:\r?\n[ \t\-]*)?(?:\\{0,8}[\"'])?value(?:\\{0,8}[\"'])?[ \t]*[:=][ \t]*"
        + _value(),
        _on_env,
    ),
    *_key_rules(),
    # ``--password hunter2`` (``--password=hunter2`` is a key=value).
    _Rule(
        "-",
        _NOT_AFTER_WORD
        + rf"-?(?P<{{p}}_k>(?>[\w\-]{{0,{_KEY_MAX}}}?{_KW})[\w\-]{{0,{_KEY_MAX}}}+)[ \t]+(?!-)"
        + _value(),
        _on_flag,
    ),
    _Rule(
        "<",
        rf"(?P<{{p}}_k>(?>[\w.:\-]{{0,{_KEY_MAX}}}?{_KW})[\w.:\-]{{0,{_KEY_MAX}}}+)>(?P<{{p}}_v>[^<\r\n]{{0,4096}}+)"
        r"</(?P={p}_k)>",
        _on_xml,
    ),
    # scheme://user:pass@host (the match starts at "://"), then user:pass@host without a scheme.
    _Rule(
        ":",
        r"(?<=[A-Za-z0-9+.\-][\s\S])//[^\s:/@?#\"'<>\\]{0,256}+:(?P<{p}_p>[^\s/?#\"'<>\\]{1,256})@(?!sha\d+:)",
        _hide_password,
    ),
    _Rule(
        ":",
        r"(?<=[A-Za-z0-9._%+\-][\s\S])(?P<{p}_p>[^\s:/\"'<>\\]{1,128})@(?!sha\d+:)(?=[A-Za-z0-9\[])",
        _on_userinfo,
    ),
    _Rule(
        "-",
        _NOT_AFTER_WORD + r"(?:u|-user|-proxy-user)(?:[ \t]+|=)[\"']?(?P<{p}_u>[^\s:\"']{1,256}+):"
        r"(?P<{p}_p>[^\s\"']{1,256}+)",
        _on_curl,
    ),
    _Rule("j", r"dbc:oracle:\w{1,16}+:[^/\s@:\"']{1,128}+/(?P<{p}_p>[^@\s\"']{1,256})@", _hide_password),
    _Rule(
        "-",
        r"(?<=[ \t]-)p[\"']?(?P<{p}_p>[^\s'\"]{1,256}+)",
        _on_cli_password(re.compile(r"\b(?:mysql|mysqladmin|mysqldump|mariadb|mariadb-admin)\b")),
    ),
    _Rule("-", r"(?<=[ \t]-)a[ \t]+[\"']?(?P<{p}_p>[^\s'\"]{1,256}+)", _on_cli_password(re.compile(r"\bredis-cli\b"))),
    # Webhook URLs are credentials: keep the service, hide the path.
    *(
        _Rule(first, rest + r"(?P<{p}_v>[A-Za-z0-9_\-/@.]{1,512}+)", _on_group("v"))
        for first, rest in (
            ("h", r"ooks\.slack\.com/(?:services|workflows|triggers)/"),
            ("d", r"iscord(?:app)?\.com/api/webhooks/"),
            ("w", r"ebhook\.office\.com/webhookb2/"),
        )
    ),
    # Vendor tokens, recognised by their prefix.
    _vendor("A", r"(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS key id
    _vendor("A", r"Iza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])"),  # Google API key
    _vendor("x", r"(?:ox[abposre]|app)-[0-9A-Za-z\-]{10,}+"),  # Slack
    _vendor("g", r"h[pousr]_[A-Za-z0-9]{30,}+"),  # GitHub
    _vendor("g", r"ithub_pat_[A-Za-z0-9_]{20,}+"),
    _vendor("g", r"l(?:pat|dt|rt|ptt|cbt|soat|ft|agent)-[A-Za-z0-9_\-]{20,}+"),  # GitLab
    _vendor("g", r"l(?:sa_[A-Za-z0-9_]{32,}+|c_[A-Za-z0-9+/=]{32,}+)"),  # Grafana
    _vendor("srp", r"k_(?:live|test)_[A-Za-z0-9]{10,}+"),  # Stripe (sk_, rk_; pk_ is public, hidden anyway)
    _vendor("w", r"hsec_[A-Za-z0-9]{20,}+"),
    _vendor("s", r"k-ant-[a-z]+[0-9]*-[A-Za-z0-9_\-]{20,}+"),  # Anthropic
    _vendor("s", r"k-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}+"),  # OpenAI
    _vendor("s", r"k-[A-Za-z0-9]{32,}+(?![\-_])"),
    _vendor("s", r"ntr[yu]s_[A-Za-z0-9+/=_\-]{30,}+"),  # Sentry
    _vendor("S", r"G\.[A-Za-z0-9_\-]{16,}+\.[A-Za-z0-9_\-]{16,}+"),  # SendGrid
    _vendor("S", r"K[0-9a-f]{32}(?![A-Za-z0-9])"),  # Twilio API key
    _vendor("A", r"C[0-9a-f]{32}(?![A-Za-z0-9])"),  # Twilio account SID
    _vendor("n", r"pm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _vendor("p", r"ypi-[A-Za-z0-9_\-]{50,}+"),
    _vendor("h", r"(?:f_[A-Za-z0-9]{30,}+|v[sbr]\.[A-Za-z0-9_\-]{20,}+)"),  # Hugging Face, Vault
    _vendor("d", r"(?:o[por]_v1_[a-f0-9]{64}|ckr_pat_[A-Za-z0-9_\-]{20,}+|api[a-f0-9]{32}(?![A-Za-z0-9]))"),
    _vendor("s", r"hp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),  # Shopify
    _vendor("N", r"RAK-[A-Z0-9]{27}"),  # New Relic
    _vendor("A", r"(?:GE-SECRET-KEY-1[0-9A-Z]{50,}+|TATT3[A-Za-z0-9_=\-]{30,}+)"),  # age, Atlassian
    _vendor("l", r"in_api_[A-Za-z0-9]{40}"),  # Linear
    _vendor("P", r"MAK-[a-f0-9]{24}-[a-f0-9]{34}"),  # Postman
    # A bearer token outside an Authorization header ("calling API with Bearer abc123...").
    _Rule(
        "Bb",
        _NOT_AFTER_WORD + r"(?i:earer)[ \t]+"
        r"(?P<{p}_v>(?=[A-Za-z._~+/=\-]{0,200}[0-9])[A-Za-z0-9._~+/=\-]{8,512}+)",
        _on_group("v"),
    ),
]

# The public part of a vendor token kept in front of [REDACTED].
_VENDOR_PREFIX: Final = re.compile(
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA|AIza|xox[a-z]-|xapp-|gh[a-z]_|github_pat_|gl[a-z]+-"
    r"|glsa_|glc_|(?:sk|rk|pk)_(?:live|test)_|whsec_|sk-ant-[a-z]+[0-9]*-|sk-(?:proj|svcacct|admin)-|sk-|sntr[a-z]s_"
    r"|SG\.|SK|AC|npm_|pypi-|hf_|hv[a-z]\.|do[a-z]_v1_|dckr_pat_|dapi|shp[a-z]{2}_|NRAK-|AGE-SECRET-KEY-1|ATATT3"
    r"|lin_api_|PMAK-)"
)


def _compile(rules: list[_Rule]) -> tuple[re.Pattern[str], dict[str, tuple[Handler, str]]]:
    """One alternative per first character (rules keep their order inside it), each ending with its tag group."""
    by_first: dict[str, list[str]] = {}
    handlers: dict[str, tuple[Handler, str]] = {}
    for i, rule in enumerate(rules):
        for j, first in enumerate(rule.first):
            tag = f"r{i}c{j}"
            by_first.setdefault(first, []).append(rule.rest.replace("{p}", tag) + f"(?P<{tag}>)")
            handlers[tag] = (rule.handler, tag)
    alternatives = (re.escape(first) + "(?:" + "|".join(rests) + ")" for first, rests in by_first.items())
    return re.compile("|".join(alternatives)), handlers


COMBINED, _HANDLERS = _compile(_RULES)


def dispatch(m: re.Match[str]) -> Outcome:
    # Each alternative ends with its empty tag group, so the tag is the last group closed.
    handler, tag = _HANDLERS[m.lastgroup or ""]
    return handler(m, tag)
