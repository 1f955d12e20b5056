"""Contract tests: every registered policy against a fake Engine, and the real engine's guard.

The fake implements the :class:`simulation.policies.contract.Engine` protocol and nothing
else, over a small synthetic population whose record columns it serves as read-only arrays.
It calls the hooks in the order the pipeline does, runs scheduled callbacks in time order, and
records each verb the policy uses. Each registered policy runs on it with the config of its
example scenario in scenarios/ (found through the registry, so a new policy is covered
without editing this file). A policy passes if it uses nothing but the protocol, writes no
record column, schedules nothing in the past, and reports plain data of the right shapes.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pytest
from conftest import tiny
from invariants import missing_example_message, policy_examples

from simulation import Scenario
from simulation.core.records import (
    ATTRIBUTES,
    OUTCOMES,
    READABLE_BY_POLICIES,
    TIMES,
    DecisionOutcome,
    ExitOutcome,
    Origin,
)
from simulation.engine.pipeline import run_pipeline
from simulation.engine.rng import RandomStreams
from simulation.inputs.policy_config import PolicyConfig, registered
from simulation.policies.contract import Engine, Policy, PolicyOutput, ServedQueue, Stay

EXAMPLES = policy_examples()
YEARS = 3  # long enough for every example policy to act (offshore waits a year)


def protocol_members(protocol: type) -> set[str]:
    """The public names a protocol declares (methods, properties and attributes)."""
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {name for name in vars(protocol) if not name.startswith("_")}
    return names


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")} | set(
        getattr(cls, "__annotations__", {})
    )


# ---------------------------------------------------------------------- the fake engine


class World:
    """The fake engine's state: records, the clock and its events, and the verbs used.

    Every write a verb makes goes to the columns and to ``shadow``; the columns must equal
    the shadow at the end, so a policy that wrote a column by any route is caught even if it
    got round the read-only flag.
    """

    def __init__(self, columns: dict[str, np.ndarray], size: int, horizon: float) -> None:
        self.columns = columns
        self.shadow = {name: column.copy() for name, column in columns.items()}
        self.size = size
        self.horizon = horizon
        self.now = 0.0
        self.started = False
        self.events: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self.order = itertools.count()
        self.calls: Counter[str] = Counter()
        self.on_are: Callable[[int, float], None] | None = None
        self.claiming_again: set[int] = set()  # records brought back to claim
        self.on_claim: Callable[[int, float], None] | None = None

    def write(self, name: str, index, values) -> None:
        self.columns[name][index] = values
        self.shadow[name][index] = values

    def at(self, time: float, action: Callable[[Any], None], value: Any = None) -> None:
        assert time >= self.now, f"an event at {time} scheduled at {self.now}: in the past"
        heapq.heappush(self.events, (time, next(self.order), action, value))

    def run(self) -> None:
        while self.events and self.events[0][0] < self.horizon:
            time, _, action, value = heapq.heappop(self.events)
            assert time >= self.now
            self.now = time
            action(value)
        self.now = self.horizon

    def add_record(self) -> int:
        if self.size == len(self.columns["origin"]):
            raise AssertionError("the fake population is full")
        self.size += 1
        return self.size - 1


class FakeQueue:
    """A queue with the :class:`ServedQueue` protocol only: tiers in order, first come first
    served within each."""

    __slots__ = ("servers", "_world", "_args", "_rate", "_busy", "_tiers")

    def __init__(self, world: World, work, still_waiting, begin, finish, tiers: int = 1) -> None:
        self.servers = 0
        self._world = world
        self._args = (work, still_waiting, begin, finish)
        self._rate = 0.0
        self._busy = 0
        self._tiers: list[deque[int]] = [deque() for _ in range(tiers)]

    @property
    def _waiting(self) -> deque[int]:
        """The first tier with anyone waiting (the last one if none)."""
        return next((tier for tier in self._tiers if tier), self._tiers[-1])

    def push(self, person: int, tier: int = 0) -> None:
        self._tiers[tier].append(person)
        self._fill()

    def set_servers(self, servers: int) -> None:
        assert servers >= 0
        self.servers = servers
        self._fill()

    def set_rate(self, rate: float) -> None:
        assert rate >= 0 and np.isfinite(rate)
        self._rate = rate
        self._fill()

    def _fill(self) -> None:
        work, still_waiting, begin, _ = self._args
        while self._busy < self.servers and self._rate > 0 and self._waiting:
            person = self._waiting.popleft()
            now = self._world.now
            if not still_waiting(person, now):
                continue
            self._busy += 1
            begin(person, now)
            self._world.at(now + work[person] / self._rate, self._done, person)

    def _done(self, person: int) -> None:
        self._busy -= 1
        self._args[3](person, self._world.now)
        self._fill()


class FakeEngine:
    """The Engine protocol over a :class:`World`, and nothing else."""

    __slots__ = ("horizon", "_world")

    def __init__(self, world: World) -> None:
        self.horizon = world.horizon
        self._world = world

    @property
    def now(self) -> float:
        return self._world.now

    def _use(self, verb: str) -> World:
        self._world.calls[verb] += 1
        return self._world

    def read(self, column: str) -> np.ndarray:
        world = self._use("read")
        if column not in READABLE_BY_POLICIES:
            raise KeyError(f"policies cannot read {column!r}")
        view = world.columns[column][: world.size].view()
        view.flags.writeable = False
        return view

    def value(self, column: str, person: int) -> float:
        world = self._use("value")
        if column not in READABLE_BY_POLICIES:
            raise KeyError(f"policies cannot read {column!r}")
        assert 0 <= person < world.size, f"record {person} does not exist"
        return world.columns[column][person].item()

    def divert(self, people: np.ndarray) -> None:
        world = self._use("divert")
        assert not world.started, "divert is for claims known before the run"
        people = np.asarray(people, dtype=np.int64)
        assert np.all(world.columns["origin"][people] == Origin.NEW_CLAIM)
        world.write("dec_outcome", people, DecisionOutcome.DIVERTED)
        world.write("t_dec_end", people, world.columns["t_claim"][people])

    def withdraw_claims_by(self, people: np.ndarray, times: np.ndarray) -> np.ndarray:
        world = self._use("withdraw_claims_by")
        assert not world.started, "withdraw_claims_by is for claims known before the run"
        people, times = np.asarray(people, dtype=np.int64), np.asarray(times, dtype=float)
        assert people.shape == times.shape
        assert np.all(times >= np.maximum(world.columns["t_claim"][people], 0))
        sooner = times < world.columns["t_dec_end"][people]
        world.write("t_dec_end", people[sooner], times[sooner])
        world.write("dec_outcome", people[sooner], DecisionOutcome.WITHDRAWN)
        return sooner

    def withdraw_claim_by(self, person: int, time: float) -> bool:
        world = self._use("withdraw_claim_by")
        assert time >= world.now
        if time < world.columns["t_dec_end"][person]:
            world.write("t_dec_end", person, time)
            world.write("dec_outcome", person, DecisionOutcome.WITHDRAWN)
            return True
        return False

    def schedule(self, delay: float, action: Callable[[Any], None], value: Any = None) -> None:
        world = self._use("schedule")
        assert np.isfinite(delay) and delay >= 0, f"schedule with delay {delay}"
        world.at(world.now + delay, action, value)

    def queue(self, name, work, entry_time, still_waiting, begin, finish, tiers=1) -> ServedQueue:
        world = self._use("queue")
        return FakeQueue(world, work, still_waiting, begin, finish, tiers)

    def awaiting_removal(self, person: int) -> bool:
        world = self._use("awaiting_removal")
        return _awaiting_removal(world, person)

    def take_from_are(self, person: int, done: bool) -> None:
        world = self._use("take_from_are")
        columns = world.columns
        pending = columns["exit_outcome"][person] == ExitOutcome.POLICY and not np.isfinite(
            columns["t_exit"][person]
        )
        assert pending or _awaiting_removal(world, person), (
            f"record {person} taken from the ARE stock while not in it"
        )
        world.write("t_exit", person, world.now if done else np.inf)
        world.write("exit_outcome", person, ExitOutcome.POLICY)

    def return_to_are(self, person: int) -> int:
        world = self._use("return_to_are")
        child = world.add_record()
        for name in ("route", "group", "household", "supported", "returnable"):
            world.write(name, child, world.columns[name][person])
        world.write("origin", child, Origin.POLICY_RETURN)
        world.write("parent", child, person)
        world.write("t_are", child, world.now)
        world.write("t_exit", child, np.inf)
        world.write("exit_outcome", child, ExitOutcome.REMAINS)
        world.on_are(child, world.now)  # the engine tells every policy, as for anyone at ARE
        return child

    def return_to_claim(self, person: int) -> int:
        world = self._use("return_to_claim")
        assert world.started, "return_to_claim is for the run"
        columns = world.columns
        assert columns["dec_outcome"][person] == DecisionOutcome.DIVERTED, (
            f"record {person} brought back to claim was not held abroad since arriving"
        )
        assert columns["t_dec_end"][person] <= world.now, f"record {person} comes back early"
        assert person not in world.claiming_again, f"record {person} brought back twice"
        world.claiming_again.add(person)
        child = world.add_record()
        for name in ("route", "group", "household", "supported", "returnable"):
            world.write(name, child, columns[name][person])
        world.write("origin", child, Origin.POLICY_RETURN_CLAIM)
        world.write("parent", child, person)
        world.write("t_claim", child, world.now)
        world.write("t_dec_end", child, np.inf)  # waiting for a UK decision
        world.write("dec_outcome", child, DecisionOutcome.WITHDRAWN)
        world.on_claim(child, world.now)  # as for any claim made during the run
        return child

    def left_uk(self, person: int) -> None:
        world = self._use("left_uk")
        columns = world.columns
        if columns["dec_outcome"][person] == DecisionOutcome.DIVERTED:
            return  # held abroad since arrival (offshore), never in the UK stock
        assert columns["exit_outcome"][person] == ExitOutcome.POLICY, (
            f"record {person} left the UK from a place no policy holds"
        )
        assert columns["t_exit"][person] <= world.now, f"record {person} is still in the UK"

    def make_returnable(self, person: int) -> None:
        world = self._use("make_returnable")
        world.write("returnable", person, 1)


def _awaiting_removal(world: World, person: int) -> bool:
    columns = world.columns
    return bool(
        columns["t_are"][person] <= world.now < columns["t_exit"][person]
        and columns["exit_outcome"][person] not in (ExitOutcome.BEING_REMOVED, ExitOutcome.POLICY)
    )


# ---------------------------------------------------------------------- a synthetic run


def synthetic_world(scenario: Scenario, seed: int = 2) -> tuple[World, dict[str, np.ndarray]]:
    """A small population in every state a policy meets, and candidate arrivals.

    Starting stocks (awaiting a decision, in the ARE stock), new claims over the run (half
    refused, reaching ARE straight away, then leaving or staying), and claims made again
    during the run (returns after removal).
    """
    rng = np.random.default_rng(seed)
    horizon = float(scenario.horizon_days)
    groups = len(scenario.nationality_groups)
    n_awaiting, n_are, n_new, n_again, spare = 60, 80, 400, 40, 400
    n = n_awaiting + n_are + n_new + n_again
    size = n + spare
    columns = {name: np.zeros(size, dtype=dtype) for name, dtype in ATTRIBUTES.items()}
    columns["parent"][:] = -1
    columns.update({name: np.full(size, np.nan) for name in TIMES})
    columns.update({name: np.zeros(size, dtype=np.int8) for name in OUTCOMES})
    columns["route"][:n] = rng.integers(0, 3, n)
    columns["group"][:n] = rng.integers(0, groups, n)
    columns["household"][:n] = rng.choice(3, n, p=[0.7, 0.25, 0.05])
    columns["supported"][:n] = rng.random(n) < 0.6
    columns["returnable"][:n] = rng.random(n) < 0.4

    awaiting = np.arange(n_awaiting)
    are = np.arange(n_awaiting, n_awaiting + n_are)
    new = np.arange(n_awaiting + n_are, n_awaiting + n_are + n_new)
    again = np.arange(n - n_again, n)
    origin = columns["origin"]
    origin[awaiting], origin[are] = Origin.STOCK_AWAITING, Origin.STOCK_ARE
    origin[new], origin[again] = Origin.NEW_CLAIM, Origin.REENTRY
    columns["parent"][again] = rng.choice(new, n_again)

    t_claim = columns["t_claim"]
    t_claim[awaiting] = -rng.uniform(0, 900, n_awaiting)
    t_claim[new] = np.sort(rng.uniform(0, horizon, n_new))
    t_claim[again] = np.sort(rng.uniform(0, horizon, n_again))
    claims = np.concatenate([awaiting, new, again])
    decided = np.maximum(t_claim[claims], 0) + rng.exponential(120, len(claims))
    columns["t_dec_end"][claims] = decided
    refused = rng.random(len(claims)) < 0.5
    columns["dec_outcome"][claims] = np.where(
        decided >= horizon,
        DecisionOutcome.PENDING,
        np.where(refused, DecisionOutcome.REFUSED, DecisionOutcome.GRANTED),
    )
    columns["t_dec_end"][claims[decided >= horizon]] = np.inf
    reach = claims[(columns["dec_outcome"][claims] == DecisionOutcome.REFUSED)]
    columns["t_are"][are] = 0.0
    columns["t_are"][reach] = columns["t_dec_end"][reach]
    at_are = np.concatenate([are, reach])
    leave = columns["t_are"][at_are] + rng.exponential(250, len(at_are))
    how = rng.choice(
        [ExitOutcome.REMOVED, ExitOutcome.VOLUNTARY, ExitOutcome.ABSCONDED, ExitOutcome.REMAINS],
        len(at_are),
    )
    columns["exit_outcome"][at_are] = how
    columns["t_exit"][at_are] = np.where(how == ExitOutcome.REMAINS, np.inf, leave)
    columns["exit_outcome"][at_are[leave >= horizon]] = ExitOutcome.REMAINS
    columns["t_exit"][at_are[leave >= horizon]] = np.inf

    candidates = {
        "time": np.sort(rng.uniform(0, horizon, 500)),
        "route": rng.integers(0, 3, 500).astype(np.int8),
        "group": rng.integers(0, groups, 500).astype(np.int8),
        "household": rng.integers(0, 3, 500).astype(np.int8),
        "supported": (rng.random(500) < 0.5).astype(np.int8),
        "returnable": (rng.random(500) < 0.4).astype(np.int8),
    }
    for values in candidates.values():
        values.flags.writeable = False
    return World(columns, n, horizon), candidates


def run_on_fake_engine(policy: Policy, scenario: Scenario) -> tuple[World, PolicyOutput]:
    """Call the policy's hooks in the pipeline's order on a synthetic run."""
    world, candidates = synthetic_world(scenario)
    columns = world.columns

    factor = np.asarray(policy.arrival_multiplier(candidates), dtype=float)
    assert factor.shape == candidates["time"].shape
    assert np.all((factor >= 0) & (factor <= 1))
    steps = policy.voluntary_departure_multiplier()
    assert all(np.isfinite(float(t)) and float(f) >= 0 for t, f in steps)

    engine = FakeEngine(world)
    policy.attach(engine)
    world.on_are = policy.on_are
    world.on_claim = policy.on_claim
    size = world.size
    origin = columns["origin"][:size]
    new = np.flatnonzero(origin == Origin.NEW_CLAIM)
    policy.divert(new)
    kept = new[columns["dec_outcome"][new] != DecisionOutcome.DIVERTED]
    policy.on_claims(np.concatenate([np.flatnonzero(origin == Origin.STOCK_AWAITING), kept]))
    for person in np.flatnonzero(origin == Origin.STOCK_ARE).tolist():
        policy.on_are(person, 0.0)

    def claim_again(person: int) -> None:
        if policy.divert_one(person, world.now):
            world.write("dec_outcome", person, DecisionOutcome.DIVERTED)
            world.write("t_dec_end", person, world.now)
        else:
            policy.on_claim(person, world.now)

    def reach_are(person: int) -> None:
        # a claim withdrawn or diverted on the way never gets there
        if columns["dec_outcome"][person] == DecisionOutcome.REFUSED:
            policy.on_are(person, world.now)

    for person in np.flatnonzero(origin == Origin.REENTRY).tolist():
        world.at(columns["t_claim"][person], claim_again, person)
    reaching = kept[np.isfinite(columns["t_are"][kept])]
    for person in reaching.tolist():
        world.at(columns["t_are"][person], reach_are, person)

    world.started = True
    policy.start()
    world.run()
    records = {name: column[: world.size].view() for name, column in columns.items()}
    for view in records.values():
        view.flags.writeable = False
    return world, policy.finish(records, world.horizon)


def example_policy(name: str) -> tuple[Policy, Scenario]:
    if name not in EXAMPLES:
        pytest.skip(missing_example_message(name))
    scenario = Scenario.from_yaml(EXAMPLES[name].path).with_years(YEARS)
    config = scenario.policies[name]
    runtime = type(config).runtime
    policy = runtime(config, scenario, np.random.default_rng(7), float(scenario.horizon_days))
    return policy, scenario


# ---------------------------------------------------------------------- the tests


def test_the_fake_engine_is_the_protocol_and_nothing_more():
    """If the protocol gains or loses a member, the fake must follow (else the contract
    test below would let a policy use something the protocol does not promise)."""
    assert public_names(FakeEngine) == protocol_members(Engine)
    assert public_names(FakeQueue) == protocol_members(ServedQueue)


@pytest.mark.parametrize("name", sorted(registered()))
def test_policy_keeps_to_the_contract(name):
    policy, scenario = example_policy(name)
    world, output = run_on_fake_engine(policy, scenario)
    check_contract(name, world, output)


def test_offshore_brings_people_back_through_the_verb():
    """Offshore processing with its paths back on: people held abroad come back through
    ``return_to_claim`` (the fake checks each was diverted and comes back once), at a halt
    and by the brought-back share, and the policy still keeps to the contract."""
    policy, scenario = example_policy("offshore")
    changes = {
        "legal_delay_days": 0,
        "halt_probability": 1.0,
        "halt_within_days": 700,
        "bring_back_on_halt": True,
        "brought_back_share": 0.3,
        "decision_mean_days": 300,
        "grant_rate_there": 0.5,
    }
    config = policy.config.model_copy(update=changes)
    policy = type(policy)(config, scenario, np.random.default_rng(7), policy.horizon)
    world, output = run_on_fake_engine(policy, scenario)
    check_contract("offshore", world, output)
    summary = output.summary
    assert world.calls["return_to_claim"] == summary["brought_back"] > 0
    assert 0 < summary["brought_back_at_halt"] < summary["brought_back"]
    children = np.flatnonzero(world.columns["origin"] == Origin.POLICY_RETURN_CLAIM)
    assert len(children) == summary["brought_back"]


def check_contract(name: str, world: World, output: PolicyOutput) -> None:
    """What every policy's run on the fake engine must show."""
    # it wrote no record column, by any route (every verb's writes are in the shadow)
    for column, values in world.columns.items():
        assert np.array_equal(values, world.shadow[column], equal_nan=True), (
            f"{name} wrote the record column {column!r}"
        )
    # it reports plain data of the right shapes
    assert isinstance(output, PolicyOutput)
    days = int(round(world.horizon))
    for category, daily in output.costs.items():
        assert isinstance(daily, np.ndarray), category
        assert daily.shape == (days,), f"{category}: {daily.shape}, not ({days},)"
        assert np.all(np.isfinite(daily)), category
    for stock, stay in output.stays.items():
        assert isinstance(stay, Stay), stock
        for values in (stay.records, stay.start, stay.end):
            assert isinstance(values, np.ndarray) and values.ndim == 1, stock
        assert len(stay.records) == len(stay.start) == len(stay.end), stock
        assert np.all((stay.records >= 0) & (stay.records < world.size)), stock
        assert np.all(stay.start <= stay.end), stock
        left_uk = stay.left_uk()
        assert isinstance(left_uk, np.ndarray) and left_uk.shape == stay.start.shape, stock
        assert np.all(np.isfinite(left_uk) & (left_uk <= stay.start)), stock
    for event, times in output.events.items():
        assert isinstance(times, np.ndarray) and times.ndim == 1, event
    for metric, value in output.summary.items():
        float(value)  # a number
        assert isinstance(metric, str)
    for detail, values in output.details.items():
        assert isinstance(values, np.ndarray), detail
    # and the run exercised it: it used the engine or reported something
    reported = any(len(v) for v in (*output.costs.values(), *output.events.values()))
    assert world.calls or reported, f"{name} did nothing on the synthetic run"


@pytest.mark.parametrize("name", sorted(registered()))
def test_policy_is_the_same_on_the_same_draws(name):
    """Two fresh runtimes with the same random stream give the same output (a policy keeps
    no state between replications and draws only from the stream it was given)."""
    outputs = []
    for _ in range(2):
        policy, scenario = example_policy(name)
        outputs.append(run_on_fake_engine(policy, scenario)[1])
    first, second = outputs
    for part in ("costs", "events", "details"):
        a, b = getattr(first, part), getattr(second, part)
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key], equal_nan=True), (part, key)
    assert first.summary.keys() == second.summary.keys()


def test_every_registered_policy_has_an_example():
    missing = [name for name in registered() if name not in EXAMPLES]
    if missing:
        pytest.skip("; ".join(missing_example_message(name) for name in missing))


# ---------------------------------------------------------------------- the real engine


class Vandal(Policy):
    """A policy that tries to write a record column it reads (in the hook named)."""

    name = "vandal"

    def __init__(self, config, scenario, rng, horizon, hook: str, column: str) -> None:
        super().__init__(config, scenario, rng, horizon)
        self.hook, self.column = hook, column

    @classmethod
    def hooks(cls) -> list[str]:
        return ["on_are", "start"]

    def _write(self) -> None:
        self.engine.read(self.column)[0] = 1

    def start(self) -> None:
        if self.hook == "start":
            self._write()

    def on_are(self, person: int, now: float) -> None:
        if self.hook == "on_are" and now > 0:
            self._write()

    def finish(self, records: Mapping[str, np.ndarray], horizon: float) -> PolicyOutput:
        if self.hook == "finish":
            records[self.column][0] = 1
        return PolicyOutput()


def run_with(policy_of: Callable[[Scenario], Policy]):
    scenario = tiny()
    streams = RandomStreams(1)
    return run_pipeline(scenario, streams, [policy_of(scenario)])


@pytest.mark.parametrize(
    ("hook", "column"),
    [
        ("start", "t_claim"),
        ("on_are", "exit_outcome"),
        ("on_are", "returnable"),
        ("finish", "t_exit"),
    ],
)
def test_the_engine_refuses_a_policy_writing_a_column(hook, column):
    def vandal(scenario):
        config = PolicyConfig(start_date=date(2026, 1, 1))
        return Vandal(config, scenario, np.random.default_rng(0), 366.0, hook, column)

    with pytest.raises(ValueError, match="read-only"):
        run_with(vandal)


def test_the_engine_does_not_show_policies_the_draws():
    def reader(scenario):
        class Reader(Policy):
            name = "reader"

            def start(self) -> None:
                self.engine.read("u_grant")

        return Reader(PolicyConfig(start_date=date(2026, 1, 1)), scenario, None, 366.0)

    with pytest.raises(KeyError, match="u_grant"):
        run_with(reader)
