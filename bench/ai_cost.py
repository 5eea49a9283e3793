"""AI cost per email, from the prompt our code builds for every labelled email (tests/data/labelled*/).

The sizing itself is bench/extraction_eval.py's (imported, not repeated): the cacheable prefix is
the system prompt plus the output schema, the per-email part the user message as
extraction.prompt builds it, the output the JSON the rules provider answers; tokens ≈
characters / 4 × 1.3 (Haiku 5.5's newer tokenizer, per Anthropic's pricing page; no public tokenizer for 5.x).
This adds the whole-corpus figures, the Batches discount, and the minimum cacheable length check.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from extraction_eval import MODEL, ROOT, evaluate

from extraction.prices import cost_usd

# Minimum cacheable prefix per model family (Anthropic's prompt-caching documentation); below it nothing is cached.
MIN_CACHEABLE = {"claude-haiku-5-5": 512, "claude-haiku-4-5": 4096, "claude-sonnet-4-5": 1024}
TARGET_WARM_USD = Decimal("0.001")


def main() -> None:
    sets = sorted(p for p in (ROOT / "tests" / "data").glob("labelled*") if p.is_dir())
    emails = 0
    per_email_sum = output_sum = 0.0
    prefix = 0
    print("## AI cost per email (bench/ai_cost.py)\n")
    print(
        f"Default model `{MODEL}`, list prices from extraction/prices.py. Token counts estimated offline as "
        "bench/extraction_eval.py does (characters / 4 × 1.3, no public tokenizer for Claude 5.x); the prefix "
        "is the system prompt + output schema sent with `cache_control`, the per-email part the user message.\n"
    )
    print("| labelled set | emails | per-email tokens (mean) | output tokens (mean) |\n|---|---|---|---|")
    for data in sets:
        result = evaluate(Path(data))
        prompt = result["prompt"]
        count = int(result["emails"])
        emails += count
        per_email_sum += float(prompt["per_email_tokens_mean"]) * count
        output_sum += float(prompt["output_tokens_mean"]) * count
        prefix = int(prompt["prefix_tokens"])
        print(f"| {data.name} | {count} | {prompt['per_email_tokens_mean']} | {prompt['output_tokens_mean']} |")
    per_email = round(per_email_sum / emails)
    output = round(output_sum / emails)
    uncached = cost_usd(MODEL, input_tokens=prefix + per_email, output_tokens=output)
    warm = cost_usd(MODEL, input_tokens=per_email, cache_read_tokens=prefix, output_tokens=output)
    write = cost_usd(MODEL, input_tokens=per_email, cache_write_tokens=prefix, output_tokens=output)
    batch_uncached = cost_usd(MODEL, input_tokens=prefix + per_email, output_tokens=output, batch=True)
    batch_warm = cost_usd(MODEL, input_tokens=per_email, cache_read_tokens=prefix, output_tokens=output, batch=True)
    minimum = MIN_CACHEABLE.get(MODEL, 0)
    print(
        f"\nAll {emails} labelled emails: cacheable prefix **{prefix} tokens**, per email {per_email}, output {output}.\n"
    )
    print("| cost per email (USD) | value |\n|---|---|")
    print(f"| uncached | {uncached} |")
    print(f"| the call that writes the cache | {write} |")
    print(f"| **cache warm** (target < ${TARGET_WARM_USD}) | **{warm}** {'✓' if warm < TARGET_WARM_USD else '✗'} |")
    print(f"| Batches API, uncached | {batch_uncached} |")
    print(f"| Batches API, cache warm | {batch_warm} |")
    print(f"| 1,000 emails, cache warm | {(warm * 1000).quantize(Decimal('0.01'))} |")
    reaches = prefix >= minimum
    print(
        f"\nMinimum cacheable prefix for `{MODEL}`: {minimum} tokens; the prefix is {prefix} tokens, "
        f"{prefix / minimum:.1f}× the minimum: caching {'applies ✓' if reaches else 'does NOT apply ✗'}. "
        "On Haiku 4.5 (4,096) it would not."
    )


if __name__ == "__main__":
    main()
