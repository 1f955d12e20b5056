"""Outputs: what a run means to a reader. Every outcome is declared once (name, unit,
description, how replications aggregate) in :mod:`.outcomes`; series, summary, costs, the
printed tables and plots derive from the records and the policies' reports.
"""
