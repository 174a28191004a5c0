"""Content-quality scorer: deterministic, explainable, no model.

``score_content(text, content_type, strict)`` measures seven signals, each in 0..1
(higher is better), and combines them with weights that depend on the content type:

- ``specificity``: share of concrete tokens (numbers, identifiers such as
  ``snake_case``/``camelCase``/``dotted.names``/paths/`code`, acronyms, names
  capitalised mid-sentence); full marks at one concrete token per 8 words, minus
  a penalty per vague word ("various", "some", "things", "etc."...).
- ``actionability``: 0.6 for imperative steps (a verb such as "Add", "Reduce",
  "Run" opening a sentence, line or list item; one per 30 words for full marks),
  0.2 for an owner (``@handle``, "owner:", "assigned to"...), 0.2 for a deadline
  ("by Friday", "within 2 weeks", an ISO date, "Q3"...).
- ``quantification``: numbers with a unit, a percentage or a currency count 1,
  bare numbers 0.5; full marks at one quantity per 40 words (at least one).
- ``clarity``: ``1 / (1 + k * hits per 100 words)`` (at least 20 words assumed)
  where each hedge ("might", "maybe", "it depends"...) counts 1 and each generic
  word or phrase ("synergies", "leverage ...", "best practices", "consider
  optimizing"...) counts 2;
  ``k`` is 0.1, 0.2 in strict mode.
- ``length``: 1 inside the content type's word range, ``words / min`` below it,
  ``max / words`` above it (floor 0.3).
- ``structure``: 0.6 for list items (3 for full marks), 0.25 for a heading,
  0.15 for three or more non-empty lines.
- ``diagnosis``: 0.4 for a cause ("because", "caused by", "root cause"...), 0.4
  for a next step (an imperative, "retry", "roll back", "to fix"...), 0.2 for a
  severity or impact ("P1", "sev2", "critical", "affects"...).

The score is the weighted sum (weights per type in ``WEIGHTS``, each row sums
to 1), rounded to 3 decimals. It passes at ``PASS_THRESHOLD`` (0.6), or
``STRICT_PASS_THRESHOLD`` (0.75) in strict mode, which also doubles the hedging
and vague-word penalties, fails any text with a hedge, a generic phrase or a
vague word whatever its score, and reports a weak signal below 0.7 instead of 0.5.
Issues are fixed sentences (so reports can count them) that say what to add or
remove; only signals that weigh at least 0.1 for the type raise one.
Evidence is gathered in one linear pass over the lines and whitespace tokens, with
word and phrase lexicons built at import (dict lookups: about 25 us for 200
characters, where case-insensitive regexes cost 130 us). See ``docs/validation.md``
for examples with scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from handlers.errors import MalformedMessage

__all__ = [
    "ISSUE_BELOW_THRESHOLD",
    "ISSUE_EMPTY",
    "ISSUE_GENERIC",
    "ISSUE_HEDGING",
    "ISSUE_NOT_ACTIONABLE",
    "ISSUE_NOT_QUANTIFIED",
    "ISSUE_NO_CAUSE",
    "ISSUE_NO_DEADLINE",
    "ISSUE_NO_IMPACT",
    "ISSUE_NO_NEXT_STEP",
    "ISSUE_NO_OWNER",
    "ISSUE_UNSTRUCTURED",
    "ISSUE_VAGUE",
    "ISSUE_VAGUE_WORDS",
    "LENGTH_RANGES",
    "PASS_THRESHOLD",
    "SIGNALS",
    "STRICT_PASS_THRESHOLD",
    "WEIGHTS",
    "ContentType",
    "ValidationResult",
    "issue_too_long",
    "issue_too_short",
    "score_content",
]


class ContentType(StrEnum):
    """What the content is meant to be; selects the weights and the length range."""

    OPTIMIZATION = "optimization"
    DATA_ANALYSIS = "data_analysis"
    ACTION_PLAN = "action_plan"
    REPORT = "report"
    TRIAGE = "triage"
    ERROR = "error"
    GENERAL = "general"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The verdict on one piece of content: pass/fail, score, per-signal metrics, issues."""

    passed: bool
    score: float
    metrics: dict[str, float]
    issues: tuple[str, ...]


PASS_THRESHOLD = 0.6
STRICT_PASS_THRESHOLD = 0.75
SIGNALS = (
    "specificity",
    "actionability",
    "quantification",
    "clarity",
    "length",
    "structure",
    "diagnosis",
)

_T = ContentType
# Order of each row follows SIGNALS. The type's purpose gets the heaviest weight.
WEIGHTS: dict[ContentType, dict[str, float]] = {
    _T.GENERAL: dict(zip(SIGNALS, (0.25, 0.05, 0.20, 0.25, 0.15, 0.05, 0.05), strict=True)),
    _T.OPTIMIZATION: dict(zip(SIGNALS, (0.20, 0.25, 0.25, 0.15, 0.10, 0.05, 0.00), strict=True)),
    _T.DATA_ANALYSIS: dict(zip(SIGNALS, (0.20, 0.05, 0.40, 0.20, 0.10, 0.05, 0.00), strict=True)),
    _T.ACTION_PLAN: dict(zip(SIGNALS, (0.15, 0.35, 0.10, 0.10, 0.10, 0.20, 0.00), strict=True)),
    _T.REPORT: dict(zip(SIGNALS, (0.20, 0.10, 0.20, 0.15, 0.15, 0.20, 0.00), strict=True)),
    _T.TRIAGE: dict(zip(SIGNALS, (0.20, 0.20, 0.05, 0.10, 0.05, 0.05, 0.35), strict=True)),
    _T.ERROR: dict(zip(SIGNALS, (0.25, 0.10, 0.05, 0.10, 0.10, 0.00, 0.40), strict=True)),
}
# Acceptable word counts per type: (minimum, maximum).
LENGTH_RANGES: dict[ContentType, tuple[int, int]] = {
    _T.GENERAL: (5, 400),
    _T.OPTIMIZATION: (12, 400),
    _T.DATA_ANALYSIS: (20, 500),
    _T.ACTION_PLAN: (25, 600),
    _T.REPORT: (60, 1200),
    _T.TRIAGE: (12, 300),
    _T.ERROR: (8, 200),
}
_TOO_SHORT_HINT: dict[ContentType, str] = {
    _T.GENERAL: "say what, where and how much",
    _T.OPTIMIZATION: "name the change, its target and its expected effect",
    _T.DATA_ANALYSIS: "add the figures, their comparison and the conclusion",
    _T.ACTION_PLAN: "list the steps with owners and deadlines",
    _T.REPORT: "add the findings, figures and recommendations",
    _T.TRIAGE: "add severity, impact, suspected cause and next step",
    _T.ERROR: "add what failed, why and what to do next",
}

_ISSUE_LIMIT = 0.5
_STRICT_ISSUE_LIMIT = 0.7
_MIN_WEIGHT_FOR_ISSUE = 0.1

ISSUE_EMPTY = "Content is empty: write the text to validate."
ISSUE_VAGUE = (
    "Too vague: name the exact components, files, metrics or people instead of general terms."
)
ISSUE_VAGUE_WORDS = (
    'Vague words: replace "various", "some", "things", "etc." with the actual items and amounts.'
)
ISSUE_NOT_ACTIONABLE = 'Not actionable: start each step with a verb ("Reduce", "Add", "Run") saying exactly what to do.'
ISSUE_NO_OWNER = "No owner: say who does each step (a name, a team or an @handle)."
ISSUE_NO_DEADLINE = (
    'No deadline: say when each step is due (a date, "by Friday", "within 2 weeks").'
)
ISSUE_NOT_QUANTIFIED = (
    "Not quantified: add numbers with units (ms, %, GB, req/s) for current values, "
    "targets and expected impact."
)
ISSUE_HEDGING = (
    'Hedging: remove "might", "maybe", "probably", "it depends"; '
    "state what is known and what will be checked."
)
ISSUE_GENERIC = (
    'Generic phrases: replace buzzwords ("leverage synergies", "best practices", '
    '"consider optimizing") with the concrete change and its effect.'
)
ISSUE_UNSTRUCTURED = "Unstructured: use a numbered list of steps or headed sections."
ISSUE_NO_CAUSE = 'No cause: say why it happened ("because ...", "caused by ...").'
ISSUE_NO_NEXT_STEP = (
    "No next step: say what to do next (retry, roll back, run a command, contact someone)."
)
ISSUE_NO_IMPACT = (
    "No severity or impact: state the priority (P1, sev2) and who or what is affected."
)
ISSUE_BELOW_THRESHOLD = "Below the pass threshold: strengthen the weakest signals in metrics."


def issue_too_short(content_type: ContentType) -> str:
    """The fixed 'too short' issue of a content type."""
    low = LENGTH_RANGES[content_type][0]
    return (
        f"Too short for {content_type.value} (under {low} words): {_TOO_SHORT_HINT[content_type]}."
    )


def issue_too_long(content_type: ContentType) -> str:
    """The fixed 'too long' issue of a content type."""
    high = LENGTH_RANGES[content_type][1]
    return (
        f"Too long for {content_type.value} (over {high} words): "
        "cut repetition and keep the key points."
    )


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Word lexicons, looked up per token (a dict lookup is far cheaper than a case-insensitive
# regex alternation, which costs about 15 us per pattern on a 200-character text).
_VAGUE, _HEDGE, _GENERIC, _CAUSE, _NEXT, _OWNER, _DEADLINE, _IMPACT = range(8)
_WORDS_BY_CATEGORY = {
    _VAGUE: "thing things stuff various several some many lots numerous somehow something "
    "somewhat certain etc aspect aspects factors appropriate relevant significant "
    "significantly generally overall",
    _HEDGE: "might maybe perhaps possibly potentially probably arguably presumably seem seems "
    "unclear hopefully ideally",
    _GENERIC: "synergy synergies synergistic holistic holistically value-add game-changer "
    "deep-dive",
    _CAUSE: "because",
    _NEXT: "retry rollback workaround contact escalate",
    _OWNER: "owner owners assignee responsible dri oncall on-call",
    _DEADLINE: "deadline today tomorrow tonight eod eow q1 q2 q3 q4",
    _IMPACT: "p0 p1 p2 p3 p4 sev0 sev1 sev2 sev3 sev4 severity priority critical blocker "
    "urgent impact impacts impacted impacting affect affects affected affecting outage "
    "degraded customer customers user users",
}
_LEXICON = {w: cat for cat, words in _WORDS_BY_CATEGORY.items() for w in words.split()}
# Multi-word phrases, matched on the tokens that follow their first word (a regex
# alternation over the whole text costs ~15 us at 200 characters; this costs ~1 us).
# In the rest of a phrase, "w*" matches a word starting with "w" and "#" a number.
_PHRASES_BY_CATEGORY = {
    _VAGUE: "a bit, a lot, kind of, sort of",
    _HEDGE: "it depends, could be, may be, appears to, i think, i believe, i guess, not sure, "
    "roughly speaking",
    _GENERIC: "leverage *, best practice*, consider optimi*, consider improving, consider "
    "looking, consider reviewing, going forward, moving forward, low-hanging fruit, low "
    "hanging fruit, move the needle, outside the box, paradigm shift, game changer, robust "
    "solution*, streamline process*, streamline the process*, improve efficiency, improve "
    "performance, improve quality, improve the efficiency, improve the performance, improve "
    "the quality, optimize performance, optimise performance, optimize the performance, "
    "next level, end of the day, circle back, deep dive",
    _CAUSE: "caused by, due to, root cause, as a result of, triggered by, result from, results "
    "from, resulted from, the cause",
    _NEXT: "next step*, to fix, to resolve, roll back, try again",
    _OWNER: "owned by, assigned to",
    _DEADLINE: "due by, due on, due date, within #, by #, by end, by next, by tomorrow, by "
    "tonight, by noon, by mon*, by tue*, by wed*, by thu*, by fri*, by sat*, by sun*, by jan*, "
    "by feb*, by mar*, by apr*, by may, by jun*, by jul*, by aug*, by sep*, by oct*, by nov*, "
    "by dec*, by eod, by eow, this week, next week, this sprint, next sprint",
    _IMPACT: "sev #",
}


def _phrase_rules() -> dict[str, tuple[tuple[tuple[str, ...], int], ...]]:
    rules: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for category, phrases in _PHRASES_BY_CATEGORY.items():
        for phrase in phrases.split(","):
            first, *rest = phrase.split()
            rules.setdefault(first, []).append((tuple(rest), category))
    return {first: tuple(options) for first, options in rules.items()}


_PHRASE_RULES = _phrase_rules()


def _phrase_at(lows: list[str], i: int) -> int | None:
    """The category of the phrase starting at ``lows[i]``, if one does."""
    for rest, category in _PHRASE_RULES[lows[i]]:
        if i + len(rest) >= len(lows):
            continue
        for offset, want in enumerate(rest, i + 1):
            got = lows[offset]
            if want == "#":
                if not got[:1].isdigit():
                    break
            elif want[-1] == "*":
                if not got.startswith(want[:-1]):
                    break
            elif got != want:
                break
        else:
            return category
    return None


_VERBS = _words(
    "add adjust allocate analyse analyze archive assign audit automate benchmark block "
    "build bump cache call cap change check clean close collect compare compress "
    "configure confirm contact convert create cut debug decrease delete deploy disable "
    "document downgrade drop email enable escalate estimate fix flush gather grant "
    "implement increase index inspect install investigate isolate limit log measure merge "
    "migrate monitor move notify open page partition patch pin profile prune publish push "
    "raise rebuild reduce refactor reindex release remove rename replace replicate report "
    "reproduce request reroute reset resize restart restore retry revert review rewrite "
    "roll rotate run scale schedule send set ship shard split start stop switch test "
    "throttle track trim tune update upgrade use validate verify write"
)
_UNITS = _words(
    "% percent pp x \N{MULTIPLICATION SIGN} ms µs us ns s sec secs second seconds min mins minute minutes h hr "
    "hrs hour hours day days week weeks month months year years k m g t kb mb gb tb kib "
    "mib gib tib byte bytes rps qps req/s msg/s ops/s request requests user users token "
    "tokens row rows item items call calls queries query error errors cpu cpus core cores "
    "gpu gpus vcpu vcpus node nodes pod pods instance instances replica replicas worker "
    "workers thread threads connection connections usd eur gbp dollar dollars °c point "
    "points"
)
_PUNCT = ".,;:!?()[]{}\"'*`<>"
_CLAUSE_END = tuple(".!?;:")
_BULLETS = frozenset("-*•+")
_CURRENCY = frozenset("$€£")
_NUMBER_CHARS = "0123456789.,"
_SIGNS = "+-~±≈$€£"
_ABBREVIATIONS = _words("e.g i.e etc vs a.m p.m")
_PRONOUNS = _words("i we you he she it they this that there")


@dataclass(slots=True)
class _Counts:
    """What one pass over the text finds; ``found`` counts lexicon hits per category."""

    words: int = 0
    lines: int = 0
    items: int = 0
    heading: bool = False
    imperatives: int = 0
    concrete: int = 0
    quantities: float = 0.0
    found: list[int] = field(default_factory=lambda: [0] * 8)


def _scan(text: str) -> _Counts:
    """Count every signal's evidence in one pass over the lines and tokens of ``text``."""
    counts = _Counts()
    found = counts.found
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        counts.lines += 1
        counts.words += len(tokens)
        first = tokens[0]
        start = 0
        if first in _BULLETS or (first[-1] in ".)" and first[:-1].isdigit()):
            counts.items += 1
            start = 1
        elif first.strip("#") == "" or (line.rstrip()[-1] == ":" and len(line) <= 64):
            counts.heading = True
            start = 1 if first[0] == "#" else 0
        clause_start = True
        last = len(tokens) - 1
        lows = [token.strip(_PUNCT) for token in line.lower().split()]
        for i in range(start, last + 1):
            low = lows[i]
            if not low:
                continue
            token = tokens[i]
            core = token.strip(_PUNCT) or low
            category = _LEXICON.get(low)
            if category is not None:
                found[category] += 1
            if low in _PHRASE_RULES:
                category = _phrase_at(lows, i)
                if category is not None:
                    found[category] += 1
            number = core.lstrip(_SIGNS)
            head = number[0] if number else core[0]
            if clause_start and low in _VERBS:
                counts.imperatives += 1
            if head.isdigit():
                counts.concrete += 1
                unit = low.lstrip(_SIGNS).lstrip(_NUMBER_CHARS)
                if not unit and i < last:
                    unit = lows[i + 1]
                counts.quantities += 1.0 if core[0] in _CURRENCY or unit in _UNITS else 0.5
                if len(low) >= 10 and low[4] == "-" and low[7] == "-":  # an ISO date
                    found[_DEADLINE] += 1
            elif head == "@":
                counts.concrete += 1
                found[_OWNER] += 1
            elif (
                token[0] == "`"
                or "_" in core
                or "/" in core
                or ("." in core and low not in _ABBREVIATIONS)
                or (len(core) > 1 and core.isupper())
                or (head.islower() and not core.islower())
                or (head.isupper() and not clause_start and low not in _PRONOUNS)
            ):
                counts.concrete += 1
            if (
                head.isupper()
                and i < last
                and lows[i + 1] in ("will", "owns")
                and low not in _PRONOUNS
            ):
                found[_OWNER] += 1  # "Maria will ..."
            clause_start = (clause_start and low == "please") or token.endswith(_CLAUSE_END)
    return counts


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def _length(words: int, content_type: ContentType) -> float:
    low, high = LENGTH_RANGES[content_type]
    if words < low:
        return words / low
    if words > high:
        return max(0.3, high / words)
    return 1.0


def score_content(
    content: str, content_type: ContentType | str, strict: bool = False
) -> ValidationResult:
    """Score ``content`` as ``content_type``; see the module docstring for the rules."""
    try:
        kind = ContentType(content_type)
    except ValueError:
        names = ", ".join(t.value for t in ContentType)
        raise MalformedMessage(
            f"unknown content_type {content_type!r}; use one of {names}"
        ) from None
    text = content.strip()
    if not text:
        return ValidationResult(
            passed=False, score=0.0, metrics=dict.fromkeys(SIGNALS, 0.0), issues=(ISSUE_EMPTY,)
        )
    counts = _scan(text)
    found = counts.found
    words = counts.words
    imperatives = counts.imperatives
    has_owner = found[_OWNER] > 0
    has_deadline = found[_DEADLINE] > 0
    has_cause = found[_CAUSE] > 0
    has_next = imperatives > 0 or found[_NEXT] > 0
    has_impact = found[_IMPACT] > 0
    hedges, generic, vague = found[_HEDGE], found[_GENERIC], found[_VAGUE]
    per_word = 20 / max(words, 20)  # hits per 20 words, short texts counted as 20 words

    specific = min(1.0, counts.concrete / max(1.0, words / 8))
    specific -= min(0.6, (0.3 if strict else 0.15) * vague * per_word)
    steps = min(1.0, imperatives / max(1.0, words / 30))
    metrics = {
        "specificity": _clamp(specific),
        "actionability": 0.6 * steps + 0.2 * has_owner + 0.2 * has_deadline,
        "quantification": min(1.0, counts.quantities / max(1.0, words / 40)),
        "clarity": 1.0 / (1.0 + (0.2 if strict else 0.1) * 5 * (hedges + 2 * generic) * per_word),
        "length": _length(words, kind),
        "structure": 0.6 * min(1.0, counts.items / 3)
        + 0.25 * counts.heading
        + 0.15 * (counts.lines >= 3),
        "diagnosis": 0.4 * has_cause + 0.4 * has_next + 0.2 * has_impact,
    }
    weights = WEIGHTS[kind]
    score = round(math.fsum(weights[name] * metrics[name] for name in SIGNALS), 3)
    passed = score >= (STRICT_PASS_THRESHOLD if strict else PASS_THRESHOLD)

    limit = _STRICT_ISSUE_LIMIT if strict else _ISSUE_LIMIT

    def weak(name: str) -> bool:
        return weights[name] >= _MIN_WEIGHT_FOR_ISSUE and metrics[name] < limit

    issues: list[str] = []
    if weak("length"):
        low = LENGTH_RANGES[kind][0]
        issues.append(issue_too_short(kind) if words < low else issue_too_long(kind))
    if weak("specificity"):
        issues.append(ISSUE_VAGUE)
    if vague and (strict or vague * per_word >= 1):
        issues.append(ISSUE_VAGUE_WORDS)
    if weak("quantification"):
        issues.append(ISSUE_NOT_QUANTIFIED)
    if weak("actionability") and steps < limit:
        issues.append(ISSUE_NOT_ACTIONABLE)
    if kind in (_T.ACTION_PLAN, _T.TRIAGE) and not has_owner:
        issues.append(ISSUE_NO_OWNER)
    if kind is _T.ACTION_PLAN and not has_deadline:
        issues.append(ISSUE_NO_DEADLINE)
    if hedges and (strict or weak("clarity") or hedges * per_word >= 1):
        issues.append(ISSUE_HEDGING)
    if generic:
        issues.append(ISSUE_GENERIC)
    if weak("structure"):
        issues.append(ISSUE_UNSTRUCTURED)
    if weights["diagnosis"] >= _MIN_WEIGHT_FOR_ISSUE:
        if not has_cause:
            issues.append(ISSUE_NO_CAUSE)
        if not has_next:
            issues.append(ISSUE_NO_NEXT_STEP)
        if kind is _T.TRIAGE and not has_impact:
            issues.append(ISSUE_NO_IMPACT)
    if strict and (hedges or generic or vague):
        passed = False  # strict: content that hedges or stays vague never passes
    if not passed and not issues:
        issues.append(ISSUE_BELOW_THRESHOLD)
    return ValidationResult(
        passed=passed,
        score=score,
        metrics={name: round(metrics[name], 3) for name in SIGNALS},
        issues=tuple(issues),
    )
