"""The engine: the asylum system as a discrete-event simulation, one module per stage.

``arrivals`` and ``start_state`` make the records known before the run; ``decisions``,
``appeals``, ``after_refusal`` and ``removals`` are the stages; ``pipeline`` wires them;
``accommodation`` houses the supported population after the run. ``queueing``, ``hazards``,
``population`` and ``rng`` are the machinery. This is the only layer that touches SimPy, and
policies reach it only through ``policy_view``.
"""
