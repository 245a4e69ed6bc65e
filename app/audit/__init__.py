"""The audit trail as its readers get it: paged entries (API) and chained exports (CLI).

Everything here reads the ``rm_audit_entries`` read model; nothing here knows HTTP.
"""
