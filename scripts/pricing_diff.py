"""Compares the shipped pricing tables (pricing/*.toml) with LiteLLM's price data and
writes pricing/LITELLM_DIFF.md: every shipped model whose prices differ from LiteLLM's,
every shipped model LiteLLM lacks, and the LiteLLM models of the covered providers that
the shipped table lacks. Each shipped entry that differs must carry a `note` saying why.

    python3 scripts/pricing_diff.py [--json PATH] [--version V]
"""
import json
import pathlib
import tomllib
from decimal import Decimal

from pricing_from_litellm import litellm_from_args, per_million

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIELDS = [("input", "input_cost_per_token"), ("cached_input", "cache_read_input_token_cost"),
          ("cache_write_5m", "cache_creation_input_token_cost"), ("output", "output_cost_per_token")]
PREFIXES = ["", "gemini/", "mistral/", "deepseek/", "xai/"]
MODES = ("chat", "responses", "completion", "embedding")


def shipped():
    entries = {}
    for f in sorted((ROOT / "pricing").glob("*.toml")):
        if f.name == "table.toml":
            continue
        for m in tomllib.loads(f.read_text()).get("model", []):
            # history.toml is applied over the generated files: its entry wins.
            if f.name == "history.toml" or m["id"] not in entries:
                entries[m["id"]] = (f.name, m)
    return entries


def litellm_key(data, mid, m):
    if m.get("litellm") in data:
        return m["litellm"]
    for p in PREFIXES:
        if p + mid in data:
            return p + mid
    for k in data:
        if k.startswith("anthropic.") and k.removeprefix("anthropic.").rsplit("-v", 1)[0] == mid:
            return k
    return None


def main():
    data, version = litellm_from_args()
    ours = shipped()
    differ, missing = [], []
    for mid, (file, m) in sorted(ours.items()):
        key = litellm_key(data, mid, m)
        if key is None:
            missing.append((mid, file, m.get("note", "")))
            continue
        current = max(m["price"], key=lambda v: v.get("since", ""))
        diffs = []
        for ours_f, theirs_f in FIELDS:
            mine = current.get(ours_f)
            theirs = per_million(data[key].get(theirs_f))
            if mine is not None and theirs is not None and Decimal(mine) != Decimal(theirs):
                diffs.append(f"{ours_f} {mine} vs {theirs}")
            elif (mine is None) != (theirs is None) and not (ours_f == "cached_input" and theirs is None):
                diffs.append(f"{ours_f} {mine or '-'} vs {theirs or '-'}")
        tiers_ours = {t["above_input_tokens"] for t in current.get("tier", [])}
        tiers_theirs = {n for s, n in (("100k", 100000), ("200k", 200000), ("128k", 128000), ("272k", 272000)) if f"input_cost_per_token_above_{s}_tokens" in data[key]}
        if tiers_ours != tiers_theirs:
            diffs.append(f"long-context tiers {sorted(tiers_ours)} vs {sorted(tiers_theirs)}")
        if len(m["price"]) > 1:
            diffs.append(f"{len(m['price'])} dated prices (LiteLLM keeps the current one)")
        if diffs:
            differ.append((mid, key, file, "; ".join(diffs), m.get("note", "")))
    keys = {litellm_key(data, mid, m) for mid, (_, m) in ours.items()}
    lacking = sorted(
        k for k, e in data.items()
        if isinstance(e, dict) and e.get("mode") in MODES and "litellm_provider" in e
        and e.get("input_cost_per_token") is not None
        and k not in keys
    )
    out = [f"# Shipped pricing vs LiteLLM {version}", "",
           "Made by `python3 scripts/pricing_diff.py`. Prices in USD per million tokens (shipped vs LiteLLM).", "",
           f"## Shipped models whose prices differ ({len(differ)})", "", "| model | LiteLLM key | file | difference | why |", "|---|---|---|---|---|"]
    for mid, key, file, d, note in differ:
        out.append(f"| {mid} | {key} | {file} | {d} | {note or '**no note**'} |")
    out += ["", f"## Shipped models LiteLLM lacks ({len(missing)})", "", "| model | file | why |", "|---|---|---|"]
    for mid, file, note in missing:
        out.append(f"| {mid} | {file} | {note or '**no note**'} |")
    out += ["", f"## LiteLLM models priced per token that are not shipped ({len(lacking)})", "",
            "Every chat, responses, completion and embedding model LiteLLM prices per token is shipped; "
            "a key listed here is one whose entry a hand-kept one in history.toml replaces.", "",
            ", ".join(f"`{k}`" for k in lacking), ""]
    (ROOT / "pricing" / "LITELLM_DIFF.md").write_text("\n".join(out))
    unexplained = [d for d in differ if not d[4]] + [m for m in missing if not m[2]]
    print(f"{len(differ)} differing, {len(missing)} missing from LiteLLM, {len(lacking)} not shipped; {len(unexplained)} without a note")


if __name__ == "__main__":
    main()
