"""Policies that can be switched on in a scenario: the contract (:mod:`.contract`), the
registry (:mod:`.registry`) and one module per policy.

Built in: ``offshore`` (Rwanda-style), ``return_hubs``, ``returns_agreement`` (the
UK-Albania model) and ``voluntary_return``. Any combination can be on at once.
"""
