"""Tests of handlers/scoring.py: rankings, signals, issues, strict mode, edge inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import scoring as sc
from handlers.errors import MalformedMessage
from handlers.scoring import ContentType, score_content

T = ContentType

GOOD_AND_BAD = {
    T.OPTIMIZATION: (
        "Reduce the batch size in `train.py` from 64 to 32: peak GPU memory drops from 22 GB "
        "to 13 GB and OOM restarts stop; throughput falls 8%.",
        "You might consider optimizing various aspects of the system to improve performance "
        "and leverage synergies.",
    ),
    T.DATA_ANALYSIS: (
        "Checkout conversion fell from 3.4% to 2.9% (-0.5 pp) week over week across 41,200 "
        "sessions; mobile Safari accounts for 78% of the drop, after the 2026-11-18 release "
        "of payment_form v2.3.",
        "The data shows some interesting trends and various factors seem to affect the "
        "results in certain ways.",
    ),
    T.ACTION_PLAN: (
        "## Plan\n"
        "1. Add an index on orders.customer_id (@maria, by Friday).\n"
        "2. Set the API timeout to 800 ms (owner: platform team, within 2 weeks).\n"
        "3. Run the load test at 2,000 req/s and compare p99 against the 250 ms target "
        "by 2026-12-05.",
        "We should probably look into things and maybe improve the process going forward, "
        "following best practices.",
    ),
    T.REPORT: (
        "# Weekly quality report\n\n## Findings\n"
        "- 1,240 validations, 87% passed (up from 81%).\n"
        "- Average score 0.74; p10 0.41.\n"
        "- The triage agent failed 31 of 120 validations, mostly for missing owners.\n\n"
        "## Recommendations\n"
        "1. Add an owner field to the triage template (@lee, by 2026-12-01).\n"
        "2. Review the 12 lowest-scoring error messages with the support team next week.\n"
        "3. Track pass rate per agent daily in Grafana.",
        "This report covers various things. Overall the results were good and some areas "
        "might need improvement. We will continue to monitor the situation.",
    ),
    T.TRIAGE: (
        "P1: checkout API returns 502 for 12% of requests since 09:10 UTC, affecting EU "
        "customers. Root cause: the payments-db connection pool (max 50) is exhausted because "
        "of the retry storm from worker v4.2. Next step: roll back worker to v4.1 "
        "(@oncall-payments), then raise the pool to 100.",
        "Something is wrong with the system, it seems to be slow sometimes. Not sure why.",
    ),
    T.ERROR: (
        "Upload failed: file report.csv is 120 MB, over the 100 MB limit, because the server "
        "caps request bodies. Split the file or compress it and retry.",
        "An error occurred. Please try again later.",
    ),
    T.GENERAL: (
        "The staging cluster runs 6 nodes with 32 GB each; Postgres 16.2 serves 1,800 "
        "queries/s at 40% CPU.",
        "It depends on various things, maybe.",
    ),
}


@pytest.mark.parametrize("content_type", list(T))
@pytest.mark.parametrize("strict", [False, True])
def test_good_text_passes_and_outranks_bad_text(content_type: ContentType, strict: bool) -> None:
    good, bad = GOOD_AND_BAD[content_type]
    good_result = score_content(good, content_type, strict)
    bad_result = score_content(bad, content_type, strict)
    assert good_result.passed
    assert not bad_result.passed
    assert good_result.score - bad_result.score >= 0.4
    assert bad_result.issues, "a failing text must say what to fix"


def test_a_text_ranks_higher_under_its_own_type() -> None:
    """An action plan scores better as an action plan than a bare vague note does."""
    plan = GOOD_AND_BAD[T.ACTION_PLAN][0]
    analysis = GOOD_AND_BAD[T.DATA_ANALYSIS][0]
    assert score_content(plan, T.ACTION_PLAN).score > score_content(analysis, T.ACTION_PLAN).score
    assert (
        score_content(analysis, T.DATA_ANALYSIS).metrics["quantification"]
        >= score_content(plan, T.DATA_ANALYSIS).metrics["quantification"]
    )


def test_weights_of_every_type_sum_to_one_and_cover_every_signal() -> None:
    for content_type in T:
        weights = sc.WEIGHTS[content_type]
        assert tuple(weights) == sc.SIGNALS
        assert math.isclose(sum(weights.values()), 1.0)


@pytest.mark.parametrize("content_type", list(T))
def test_score_is_the_weighted_sum_of_the_metrics(content_type: ContentType) -> None:
    for text in GOOD_AND_BAD[content_type]:
        result = score_content(text, content_type)
        weighted = sum(sc.WEIGHTS[content_type][k] * v for k, v in result.metrics.items())
        # metrics are rounded to 3 decimals after the score is computed from exact values
        assert abs(result.score - weighted) <= 0.004


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Latency is 5 ms here.", 1.0),  # a number with a unit
        ("Latency is 5 here.", 0.5),  # a bare number counts half
        ("Latency is low here.", 0.0),
        ("It costs $12 per month.", 1.0),  # currency
        ("Errors fell 12% today.", 1.0),
        ("Margin moved -0.5 pp today.", 1.0),  # a signed number
        ("Latency is 800ms here.", 1.0),  # a unit glued to the number
    ],
)
def test_quantification_counts_units_currency_and_bare_numbers(text: str, expected: float) -> None:
    assert score_content(text, T.GENERAL).metrics["quantification"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Add an index on orders.", 0.6),
        ("Please add an index on orders.", 0.6),
        ("An index on orders would help.", 0.0),
        ("Add an index on orders, @maria.", 0.8),  # owner
        ("Add an index on orders by Friday.", 0.8),  # deadline
        ("Maria will add an index on orders within 2 days.", 0.4),  # owner + deadline, no verb
    ],
)
def test_actionability_counts_imperatives_owner_and_deadline(text: str, expected: float) -> None:
    assert score_content(text, T.ACTION_PLAN).metrics["actionability"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The job failed.", 0.0),
        ("The job failed because the disk is full.", 0.4),
        ("The job failed because the disk is full. Retry after cleanup.", 0.8),
        ("P1: the job failed because the disk is full. Retry after cleanup.", 1.0),
    ],
)
def test_diagnosis_counts_cause_next_step_and_impact(text: str, expected: float) -> None:
    assert score_content(text, T.ERROR).metrics["diagnosis"] == pytest.approx(expected)


def test_structure_counts_list_items_heading_and_lines() -> None:
    flat = score_content("One line of plain text.", T.REPORT).metrics["structure"]
    listed = score_content("- one\n- two\n- three", T.REPORT).metrics["structure"]
    full = score_content("## Steps\n- one\n- two\n- three", T.REPORT).metrics["structure"]
    assert (flat, listed, full) == (0.0, 0.75, 1.0)


def test_vague_words_lower_specificity() -> None:
    concrete = "Move table orders_2024 to Postgres on db-7 tonight."
    vague = "Move some things to various places at some point etc."
    assert score_content(concrete, T.GENERAL).metrics["specificity"] == 1.0
    assert score_content(vague, T.GENERAL).metrics["specificity"] == 0.0


def test_abbreviations_and_hashtags_are_not_evidence() -> None:
    assert score_content("Fix it soon, e.g. today.", T.GENERAL).metrics["specificity"] == 0.0
    assert score_content("#1 priority is the cache", T.REPORT).metrics["structure"] == 0.0
    assert score_content("# Cache\ntext", T.REPORT).metrics["structure"] == 0.25


def test_hedges_and_generic_phrases_lower_clarity() -> None:
    plain = "Cache the user lookups in Redis for 60 s."
    hedged = "Maybe cache the user lookups in Redis for 60 s."
    generic = "Leverage synergies: cache the user lookups in Redis for 60 s."
    clarity = [score_content(t, T.GENERAL).metrics["clarity"] for t in (plain, hedged, generic)]
    assert clarity[0] == 1.0
    assert clarity[0] > clarity[1] > clarity[2]


@pytest.mark.parametrize(
    ("issue", "content_type", "present", "absent"),
    [
        (
            sc.ISSUE_VAGUE,
            T.GENERAL,
            "The system has some problems with various things now.",
            "The orders API on db-7 returns 502 for 3% of calls.",
        ),
        (
            sc.ISSUE_VAGUE_WORDS,
            T.GENERAL,
            "Fix some things in various parts.",
            "Fix the orders_api timeout in gateway.yaml.",
        ),
        (
            sc.ISSUE_NOT_QUANTIFIED,
            T.DATA_ANALYSIS,
            "Sales went down after the release and the mobile share went up a lot this week.",
            "Sales fell 12% to $41,000 after the release; mobile share rose from 30% to 45%.",
        ),
        (
            sc.ISSUE_NOT_ACTIONABLE,
            T.OPTIMIZATION,
            "The cache hit rate of the orders service is 40% at 2,000 req/s on 4 nodes.",
            "Raise the cache TTL of the orders service from 60 s to 300 s to lift hits to 70%.",
        ),
        (
            sc.ISSUE_NO_OWNER,
            T.ACTION_PLAN,
            "1. Add an index on orders.customer_id by Friday.",
            "1. Add an index on orders.customer_id by Friday (@maria).",
        ),
        (
            sc.ISSUE_NO_DEADLINE,
            T.ACTION_PLAN,
            "1. Add an index on orders.customer_id (@maria).",
            "1. Add an index on orders.customer_id (@maria) by 2026-12-01.",
        ),
        (
            sc.ISSUE_HEDGING,
            T.GENERAL,
            "Maybe the cache might possibly help.",
            "The cache cuts p99 from 900 ms to 120 ms.",
        ),
        (
            sc.ISSUE_GENERIC,
            T.GENERAL,
            "Follow best practices for the cache of the orders API (TTL 60 s).",
            "Set the cache TTL of the orders API to 60 s.",
        ),
        (
            sc.ISSUE_UNSTRUCTURED,
            T.ACTION_PLAN,
            "Add the index by Friday then raise the timeout to 800 ms then rerun the test.",
            "## Steps\n- Add the index by Friday.\n- Raise the timeout to 800 ms.\n- Rerun.",
        ),
        (
            sc.ISSUE_NO_CAUSE,
            T.ERROR,
            "Upload of report.csv failed. Retry with a file under 100 MB.",
            "Upload of report.csv failed because it is 120 MB. Retry with a file under 100 MB.",
        ),
        (
            sc.ISSUE_NO_NEXT_STEP,
            T.ERROR,
            "Upload of report.csv failed because it is 120 MB.",
            "Upload of report.csv failed because it is 120 MB. Compress it and retry.",
        ),
        (
            sc.ISSUE_NO_IMPACT,
            T.TRIAGE,
            "Checkout returns 502 because the pool is exhausted. Roll back worker v4.2 (@ops).",
            "Sev2: checkout returns 502 because the pool is exhausted. Roll back v4.2 (@ops).",
        ),
        (
            sc.issue_too_short(T.REPORT),
            T.REPORT,
            "Pass rate 87% this week.",
            " ".join(["Pass rate rose to 87% this week on 1,240 validations."] * 8),
        ),
        (
            sc.issue_too_long(T.ERROR),
            T.ERROR,
            " ".join(["Upload failed because the file is 120 MB; retry with 100 MB."] * 40),
            "Upload failed because the file is 120 MB; retry with 100 MB.",
        ),
    ],
)
def test_each_issue_is_raised_by_its_signal(
    issue: str, content_type: ContentType, present: str, absent: str
) -> None:
    assert issue in score_content(present, content_type).issues
    assert issue not in score_content(absent, content_type).issues


def test_issues_are_fixed_sentences_that_say_what_to_do() -> None:
    """Reports count issues by their text, so it must not vary with the content."""
    first = score_content("Maybe some things.", T.GENERAL).issues
    second = score_content("Perhaps various stuff.", T.GENERAL).issues
    assert first == second
    for issue in first:
        assert ": " in issue and issue.endswith(".")


def test_strict_mode_is_stricter() -> None:
    text = (
        "Raise the worker pool from 8 to 16 threads; it should probably cut queue wait "
        "from 2 s to about 1 s."
    )
    normal = score_content(text, T.OPTIMIZATION)
    strict = score_content(text, T.OPTIMIZATION, strict=True)
    assert normal.passed and not strict.passed
    assert strict.score < normal.score
    assert strict.metrics["clarity"] < normal.metrics["clarity"]
    assert set(normal.issues) <= set(strict.issues)


@pytest.mark.parametrize("content_type", list(T))
def test_strict_never_scores_higher_or_passes_more(content_type: ContentType) -> None:
    for text in GOOD_AND_BAD[content_type]:
        normal = score_content(text, content_type)
        strict = score_content(text, content_type, strict=True)
        assert strict.score <= normal.score
        assert normal.passed or not strict.passed


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n"])
def test_empty_or_whitespace_content_scores_zero(text: str) -> None:
    result = score_content(text, T.GENERAL)
    assert result == sc.ValidationResult(
        passed=False, score=0.0, metrics=dict.fromkeys(sc.SIGNALS, 0.0), issues=(sc.ISSUE_EMPTY,)
    )


def test_very_long_content_is_scored_and_flagged_too_long() -> None:
    text = "Reduce the cache TTL from 300 s to 60 s on db-7. " * 5000
    result = score_content(text, T.OPTIMIZATION)
    assert 0.0 < result.metrics["length"] < 1.0
    assert sc.issue_too_long(T.OPTIMIZATION) in result.issues


def test_unicode_content_is_scored() -> None:
    text = "Réduire le délai à 800 ms pour l\N{RIGHT SINGLE QUOTATION MARK}API « commandes » : 30 % d\N{RIGHT SINGLE QUOTATION MARK}erreurs en moins. 🚀 日本語"
    result = score_content(text, T.OPTIMIZATION)
    assert result.metrics["quantification"] == 1.0
    assert result.metrics["specificity"] > 0.0
    assert 0.0 <= result.score <= 1.0


def test_content_type_may_be_given_by_name() -> None:
    text = GOOD_AND_BAD[T.TRIAGE][0]
    assert score_content(text, "triage") == score_content(text, T.TRIAGE)


def test_unknown_content_type_is_a_malformed_message() -> None:
    with pytest.raises(MalformedMessage, match=r"unknown content_type 'poem'; use one of ") as e:
        score_content("text", "poem")
    assert e.value.code == "invalid_payload"  # a documented code (docs/design.md)


def test_scoring_is_deterministic() -> None:
    for content_type, texts in GOOD_AND_BAD.items():
        for text in texts:
            results = {repr(score_content(text, content_type, True)) for _ in range(3)}
            assert len(results) == 1


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400), content_type=st.sampled_from(list(T)), strict=st.booleans())
def test_any_text_gives_bounded_metrics(text: str, content_type: ContentType, strict: bool) -> None:
    result = score_content(text, content_type, strict)
    assert tuple(result.metrics) == sc.SIGNALS
    assert all(0.0 <= v <= 1.0 for v in result.metrics.values())
    assert 0.0 <= result.score <= 1.0
    assert result.passed == (
        result.score >= (sc.STRICT_PASS_THRESHOLD if strict else sc.PASS_THRESHOLD)
    )
    assert result.passed or result.issues
