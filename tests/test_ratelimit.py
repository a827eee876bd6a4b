"""The originate-rate bucket: a node whose rate is cut places only what the new rate allows."""

from __future__ import annotations

from dialer.policy.ratelimit import TokenBucket, burst_for


def test_a_bucket_holds_one_second_of_its_rate_and_at_least_one_call() -> None:
    assert burst_for(20.0) == 20.0
    assert burst_for(0.5) == 1.0
    assert TokenBucket(0.5, burst_for(0.5)).available(0.0) == 1


def test_a_rate_of_zero_holds_nothing_so_no_call_is_placed() -> None:
    assert burst_for(0.0) == 0.0
    assert TokenBucket(0.0, burst_for(0.0)).available(100.0) == 0


def test_a_node_cut_to_zero_places_no_call_from_what_it_saved() -> None:
    bucket = TokenBucket(10.0, burst_for(10.0))
    assert bucket.available(0.0) == 10
    bucket.reconfigure(0.0, burst_for(0.0))
    assert bucket.available(0.0) == 0
    assert bucket.available(60.0) == 0


def test_a_node_cut_to_a_lower_rate_keeps_at_most_the_new_second() -> None:
    bucket = TokenBucket(10.0, burst_for(10.0))
    bucket.reconfigure(2.0, burst_for(2.0))
    assert bucket.available(0.0) == 2
    bucket.take(0.0, 2)
    assert bucket.available(0.5) == 1
