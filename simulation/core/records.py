"""The claimant record schema: one row per passage of a person through the system.

A record goes through the stages once: claim -> initial decision -> (appeal) -> (appeal
rights exhausted, ARE) -> exit. When a person comes back (further submissions, a return to
the UK after removal, a policy bringing them back) a new record starts, linked to the old one
by ``parent``, so every stock is a count of records whose stage interval covers the time.

Columns:

- attributes, drawn on arrival (``ATTRIBUTES``);
- times in days since the start date (``TIMES``), NaN when a stage was never reached and
  inf when it had not ended by the horizon;
- outcome codes (``OUTCOMES``), one per stage;
- per-record random draws (``DRAWS``), one stream per purpose, which make two scenarios run
  with the same seed comparable person by person.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Origin(IntEnum):
    """Why a record exists."""

    STOCK_AWAITING = 0  # awaiting a decision on the start date
    STOCK_APPEAL = 1  # appeal pending on the start date
    STOCK_ARE = 2  # appeal rights exhausted, in the UK, on the start date
    NEW_CLAIM = 3
    FURTHER_SUBMISSION = 4
    REENTRY = 5  # came back after a removal or departure
    POLICY_RETURN = 6  # brought back to the UK by a policy (e.g. from a return hub), at ARE
    # brought back to the UK by a policy before any UK decision (e.g. from offshore
    # processing), claiming again: joins the decision queue, never diverted again on arrival
    POLICY_RETURN_CLAIM = 7
    # granted before the start date and still in the move-on period on it (supported until it
    # ends); in no stage of the pipeline
    STOCK_MOVE_ON = 8


class DecisionOutcome(IntEnum):
    NONE = 0  # never in the decision queue (started in a later stage)
    PENDING = 1  # being decided when the run ended
    WITHDRAWN = 2
    GRANTED = 3
    REFUSED = 4
    DIVERTED = 5  # taken out of the UK system by a policy on arrival (offshore processing)


class AppealOutcome(IntEnum):
    NONE = 0
    PENDING = 1
    ALLOWED = 2
    DISMISSED = 3


class ExitOutcome(IntEnum):
    """How a record with appeal rights exhausted leaves (or not) the ARE stock."""

    NONE = 0  # never reached ARE
    BEING_REMOVED = 1  # removal under way when the run ended
    REMAINS = 2  # no way out: not returnable and no hazard
    REMOVED = 3
    VOLUNTARY = 4
    FURTHER_SUBMISSION = 5
    ABSCONDED = 6
    POLICY = 7  # taken out of the UK stock by a policy (details in the policy's output)


ATTRIBUTES = {
    "route": np.int8,
    "group": np.int8,
    "household": np.int8,
    "supported": np.int8,  # needs Home Office asylum support
    "returnable": np.int8,  # enforced removal to the home country is possible
    "origin": np.int8,
    "parent": np.int32,  # the record this one continues, or -1
    # the person's uniform behind ``returnable``: returnable while it is below the group's
    # returnable_share of the day (-inf once a policy made them returnable); kept by later
    # records, never readable by policies
    "u_returnable": np.float64,
}
#: Per-record random draws by purpose: uniforms (u_) and unit exponentials (e_, work_).
DRAWS = {
    "decisions": ("u_grant", "work_decision", "e_withdraw"),
    "appeals": ("u_lodge", "u_allowed", "work_appeal"),
    "after_refusal": (
        "work_removal",
        "e_voluntary",
        "e_further",
        "e_abscond",
        "u_reentry",
        "e_reentry",
    ),
}
TIMES = (
    "t_claim",
    "t_dec_start",
    "t_dec_end",
    "t_app_start",
    "t_app_hearing",
    "t_app_end",
    "t_are",
    "t_exit",
)
OUTCOMES = ("dec_outcome", "app_outcome", "exit_outcome")
COLUMNS = (*ATTRIBUTES, *TIMES, *OUTCOMES, *(name for names in DRAWS.values() for name in names))
#: Columns a policy may read (through its engine view); it writes none.
READABLE_BY_POLICIES = (*(a for a in ATTRIBUTES if a != "u_returnable"), *TIMES, *OUTCOMES)
