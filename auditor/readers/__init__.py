"""Readers: one module per input format, each returning the normalized record frame.

Every reader has the signature ``scan_<format>(sources, options) -> pl.LazyFrame``
with the columns and types of :data:`auditor.schema.RECORD_SCHEMA`.
"""
