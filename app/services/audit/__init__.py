"""The audit trail as its readers get it: paged entries (API) and chained exports (CLI).

Everything here reads the audit read model (projections/audit_queries.py); nothing here knows HTTP.
"""
