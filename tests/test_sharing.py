"""Sharing ready operators between campaigns: nobody counted twice, calls in flight keep theirs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dialer.policy.sharing import share_operators


def test_an_operator_in_two_campaigns_counts_for_one_of_them() -> None:
    shares = share_operators({1: ["anna", "ivan"], 2: ["anna", "ivan", "olga"]}, {})
    assert sorted(shares[1] + shares[2]) == ["anna", "ivan", "olga"]
    assert len(shares[1]) >= 1 and len(shares[2]) >= 1


def test_calls_in_flight_keep_the_operators_they_were_placed_for() -> None:
    shares = share_operators({1: ["anna", "ivan"], 2: ["anna", "ivan"]}, {2: 2})
    assert shares == {1: [], 2: ["anna", "ivan"]}


def test_the_first_pick_goes_round_the_campaigns_tick_by_tick() -> None:
    ready = {1: ["anna"], 2: ["anna"], 3: ["anna"]}
    winners = [next(cid for cid, got in share_operators(ready, {}, tick).items() if got) for tick in range(3)]
    assert sorted(winners) == [1, 2, 3]


@given(
    st.dictionaries(
        st.integers(1, 5),
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), unique=True, max_size=6),
        max_size=5,
    ),
    st.dictionaries(st.integers(1, 5), st.integers(0, 6), max_size=5),
    st.integers(0, 10),
)
def test_every_ready_operator_is_given_once_to_a_campaign_it_serves(
    ready: dict[int, list[str]], pending: dict[int, int], first: int
) -> None:
    shares = share_operators(ready, pending, first)
    given_out = [op for got in shares.values() for op in got]
    assert len(given_out) == len(set(given_out))
    assert set(given_out) == {op for ops in ready.values() for op in ops}
    for cid, got in shares.items():
        assert set(got) <= set(ready[cid])
