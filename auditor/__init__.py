"""Continuity auditor: reads traces and logs of any backend and measures continuity breaks.

Pipeline: readers (one per input format) -> one normalized record frame
(:mod:`auditor.schema`) -> continuity analysis -> report / compare / exports.
"""
