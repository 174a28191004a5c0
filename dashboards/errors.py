"""The dashboards' exception family.

It derives from `auditor.errors.AuditError` because the dashboard only ever fails on
audit reports it cannot use, and the CLI root already maps that family to a one-line
`error: <message>` and exit 2.
"""

from auditor.errors import AuditError


class DashboardError(AuditError):
    """An audit report that cannot be read or is not an audit report; the message names it."""
