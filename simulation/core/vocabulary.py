"""The categories a claimant belongs to, with the integer codes the records store.

Codes are fixed: records, sweeps and saved results depend on them, so never renumber.
"""

from __future__ import annotations

from typing import Literal

#: How a claimant came: small boat, other irregular routes, or a claim made in the country.
ROUTES = ("small_boat", "other_irregular", "in_country")
Route = Literal["small_boat", "other_irregular", "in_country"]
ROUTE_CODES = {name: code for code, name in enumerate(ROUTES)}

#: Household types; families keep support after refusal, unaccompanied children are looked
#: after by local authorities and are never sent abroad by a policy.
HOUSEHOLDS = ("single_adult", "family_member", "unaccompanied_child")
Household = Literal["single_adult", "family_member", "unaccompanied_child"]
HOUSEHOLD_CODES = {name: code for code, name in enumerate(HOUSEHOLDS)}
SINGLE_ADULT, FAMILY_MEMBER, UNACCOMPANIED_CHILD = 0, 1, 2

#: Accommodation types, cheapest-first candidates then the overflow (hotels).
ACCOMMODATION_TYPES = ("dispersal", "large_sites", "hotels")
