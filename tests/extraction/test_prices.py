"""The price table and the cost of a call."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extraction.prices import UnknownModelPrice, cost_usd, price_for


def test_it_prices_every_counter_of_a_haiku_5_5_call() -> None:
    # 1M each of input, output, 5m cache writes and cache reads at list prices.
    cost = cost_usd(
        "claude-haiku-5-5",
        input_tokens=1_000_000 // 100,
        output_tokens=1_000_000 // 100,
        cache_write_tokens=1_000_000 // 100,
        cache_read_tokens=1_000_000 // 100,
    )

    assert cost == Decimal("0.007350")  # (0.10 + 0.50 + 0.125 + 0.01) / 100


def test_one_hour_cache_writes_cost_more_than_five_minute_ones() -> None:
    five = cost_usd("claude-sonnet-5-5", input_tokens=0, output_tokens=0, cache_write_tokens=1_000_000)
    hour = cost_usd(
        "claude-sonnet-5-5",
        input_tokens=0,
        output_tokens=0,
        cache_write_tokens=1_000_000,
        cache_write_1h_tokens=1_000_000,
    )

    assert (five, hour) == (Decimal("2.500000"), Decimal("4.000000"))


def test_batches_cost_half() -> None:
    full = cost_usd("claude-haiku-4-5", input_tokens=10_000, output_tokens=2_000)

    assert cost_usd("claude-haiku-4-5", input_tokens=10_000, output_tokens=2_000, batch=True) == full / 2


def test_haiku_5_5_bills_long_prompts_at_the_higher_band() -> None:
    short = cost_usd("claude-haiku-5-5", input_tokens=100_000, output_tokens=0)
    long = cost_usd("claude-haiku-5-5", input_tokens=60_000, cache_read_tokens=50_000, output_tokens=0)

    assert short == Decimal("0.010000")
    assert long == Decimal("0.032500")  # 60K × 0.50 + 50K × 0.05, per million


def test_settings_can_override_a_price() -> None:
    overrides = {"claude-haiku-5-5": {"input": Decimal("1")}}

    assert price_for("claude-haiku-5-5", overrides).input == Decimal("1")
    assert price_for("claude-haiku-5-5", overrides).output == Decimal("0.50")


def test_an_unknown_model_is_an_error_not_a_free_call() -> None:
    with pytest.raises(UnknownModelPrice):
        cost_usd("claude-unknown-9", input_tokens=1, output_tokens=1)
