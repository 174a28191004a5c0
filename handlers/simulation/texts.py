"""The words of simulated users: chat prompts, thread titles, and content to validate.

Validation samples come in pairs per content type: a concrete text that the
scorer passes and a vague one that it fails, so that metrics, reports and
below-threshold alerts all have something to say.
"""

from __future__ import annotations

from typing import Final

CHAT_TEXTS: Final = (
    "Our p99 latency on the checkout API doubled since Monday's deploy.",
    "Can you compare last week's error rate with this week's?",
    "Summarise the incidents we had in the payments service this month.",
    "Why does the nightly ETL job take 40 minutes longer than in March?",
    "Draft a plan to cut our S3 storage bill by a fifth.",
    "Which customers were affected by the login outage on Tuesday?",
    "The search index rebuild keeps failing with an out-of-memory error.",
    "What changed in the recommendation model between v12 and v13?",
    "Give me the top five slow queries on the orders database.",
    "How many support tickets mention the new billing page?",
    "Let's continue with the capacity plan for the Black Friday peak.",
    "Thanks, now break that down by region please.",
    "Can you double-check the numbers for the EU cluster?",
    "Write a short status update for the leadership channel.",
    "Is the cache hit ratio still below 80% on the edge nodes?",
    "ok",
)

THREAD_TITLES: Final = (
    "Checkout latency",
    "Storage costs",
    "Incident review",
    "ETL slowdown",
    "Capacity planning",
    "Weekly metrics",
    "Model regression",
    "Support trends",
)

AGENTS: Final = ("assistant", "triage-bot", "analyst", "planner")

#: (content type, good text, bad text) for every content type of the protocol.
VALIDATION_SAMPLES: Final = (
    (
        "optimization",
        "Reduce the checkout_service p99 latency from 840 ms to 400 ms by adding an index on "
        "orders.customer_id and caching the PriceTable lookups for 60 s; expected saving 35% CPU.",
        "You might consider optimizing various things and leveraging best practices where it "
        "makes sense, maybe.",
    ),
    (
        "data_analysis",
        "Error rate rose from 0.4% to 1.9% between 3 March and 10 March; 78% of the 5xx errors "
        "come from the eu-west-1 pool, and the rise starts within 2 minutes of deploy v2.14.0, "
        "so the deploy is the likely cause.",
        "Some numbers went up and some went down, it depends on things, and overall it looks "
        "somewhat different than before in various ways.",
    ),
    (
        "action_plan",
        "1. Roll back deploy v2.14.0 on eu-west-1 by 14:00 UTC (owner: @maria).\n"
        "2. Add a canary stage of 5% traffic for 30 minutes before each deploy.\n"
        "3. Run the load test suite nightly and page on-call when p99 exceeds 500 ms.\n"
        "Target: error rate back under 0.5% within 2 days.",
        "We should probably look into this at some point and maybe improve things generally, "
        "leveraging synergies across teams as appropriate.",
    ),
    (
        "report",
        "# Weekly reliability report\n\n"
        "- Availability: 99.93% (target 99.9%), down from 99.97% last week.\n"
        "- Incidents: 2 (one P1 on checkout, 47 minutes; one P3 on search, 12 minutes).\n"
        "- The P1 was caused by a connection pool limit of 50 on orders-db; "
        "we raised it to 200 and added an alert at 80% use.\n"
        "- Cost: $41,200, 6% under budget, mostly from reserved instances.\n"
        "Next week: migrate the search cluster to r6g nodes by Thursday (owner: @lee) "
        "and review the on-call runbooks.",
        "Things were mostly fine this week. Some stuff happened but it was handled. "
        "We might do more things next week.",
    ),
    (
        "triage",
        "P1: checkout returns HTTP 502 for 12% of EU requests since 09:40 UTC, caused by the "
        "payments-gateway pod restarts; roll back gateway to v3.2.1 and page @payments-oncall.",
        "Something seems broken somewhere, not sure what, maybe look at it.",
    ),
    (
        "error",
        "ConnectionTimeout in orders_client.fetch after 30 s because orders-db hit "
        "max_connections=50; retry with backoff and raise the pool to 200.",
        "An error happened.",
    ),
    (
        "general",
        "The cache hit ratio on edge nodes fell from 91% to 76% after the TTL change to 60 s "
        "in config/cdn.yaml.",
        "It is kind of okay I guess.",
    ),
)
