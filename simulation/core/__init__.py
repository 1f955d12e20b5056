"""The vocabulary every layer shares: units, routes and households, the record schema,
dated schedules, counting over days, and the one family of input errors.

Nothing here knows about scenarios, SimPy or policies; every other layer may import it.
"""
