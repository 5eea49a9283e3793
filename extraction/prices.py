"""The one price table (USD per million tokens) and the cost of a call.

Prices are list prices from Anthropic's Claude pricing page as of PRICE_VERSION. They are
explicit per model, never derived from multipliers, because the 5.5 generation changed the
cache-read ratios. Settings may override a model's row (PROJECTR_AI_PRICE_OVERRIDES, passed
in by extraction.api) without a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

PRICE_VERSION = "2026-11-24"
MILLION = Decimal(1_000_000)
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    # Haiku 5.5 bills the whole request at a second band when its prompt exceeds 100K tokens.
    long_prompt_threshold: int | None = None
    long_prompt: Price | None = None


def _p(i: str, o: str, w5: str, w1: str, r: str, **extra: object) -> Price:
    return Price(Decimal(i), Decimal(o), Decimal(w5), Decimal(w1), Decimal(r), **extra)  # type: ignore[arg-type]


_OPUS = _p("5", "25", "6.25", "10", "0.50")
_SONNET_4 = _p("3", "15", "3.75", "6", "0.30")

PRICES: dict[str, Price] = {
    "claude-haiku-5-5": _p(
        "0.10", "0.50", "0.125", "0.20", "0.01",
        long_prompt_threshold=100_000, long_prompt=_p("0.50", "2.50", "0.625", "1.00", "0.05"),
    ),
    "claude-sonnet-5-5": _p("2", "10", "2.50", "4", "0.10"),
    "claude-opus-5-5": _p("4", "20", "5", "8", "0.20"),
    "claude-sonnet-5": _p("2", "10", "2.50", "4", "0.20"),
    "claude-opus-5": _OPUS,
    "claude-haiku-4-5": _p("1", "5", "1.25", "2", "0.10"),
    "claude-haiku-4-5-20251001": _p("1", "5", "1.25", "2", "0.10"),
    "claude-sonnet-4-5": _SONNET_4,
    "claude-sonnet-4-5-20250929": _SONNET_4,
    "claude-sonnet-4-6": _SONNET_4,
    "claude-opus-4-5": _OPUS,
    "claude-opus-4-5-20251101": _OPUS,
    "claude-opus-4-6": _OPUS,
    "claude-opus-4-7": _OPUS,
    "claude-opus-4-8": _OPUS,
    "claude-fable-5": _p("10", "50", "12.50", "20", "1"),
    "claude-fable-5-1": _p("10", "50", "12.50", "20", "0.25"),
}  # fmt: skip


class UnknownModelPrice(KeyError):
    """No price for this model: configure PROJECTR_AI_PRICE_OVERRIDES rather than bill $0."""


def price_for(model: str, overrides: Mapping[str, Mapping[str, Decimal]] | None = None) -> Price:
    base = PRICES.get(model)
    override = (overrides or {}).get(model)
    if override:
        fields = {key: Decimal(str(value)) for key, value in override.items() if key in Price.__dataclass_fields__}
        if base is None:
            missing = {"input", "output", "cache_write_5m", "cache_write_1h", "cache_read"} - set(fields)
            if missing:
                raise UnknownModelPrice(f"price override for {model} lacks {sorted(missing)}")
            return Price(**fields)  # type: ignore[arg-type]
        return replace(base, **fields)  # type: ignore[arg-type]
    if base is None:
        raise UnknownModelPrice(model)
    return base


def cost_usd(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    batch: bool = False,
    overrides: Mapping[str, Mapping[str, Decimal]] | None = None,
) -> Decimal:
    """USD for one call. The three input counters are additive (Anthropic's usage object: cached reads and writes are not in input_tokens); 1h writes are a
    subset of `cache_write_tokens` priced at the 1h rate."""
    price = price_for(model, overrides)
    prompt = input_tokens + cache_write_tokens + cache_read_tokens
    if (
        price.long_prompt is not None
        and price.long_prompt_threshold is not None
        and prompt > price.long_prompt_threshold
    ):
        price = price.long_prompt
    write_5m = max(cache_write_tokens - cache_write_1h_tokens, 0)
    total = (
        input_tokens * price.input
        + output_tokens * price.output
        + write_5m * price.cache_write_5m
        + cache_write_1h_tokens * price.cache_write_1h
        + cache_read_tokens * price.cache_read
    ) / MILLION
    if batch:
        total *= BATCH_DISCOUNT
    return total.quantize(Decimal("0.000001"))
