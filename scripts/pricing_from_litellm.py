"""Builds the shipped pricing tables (pricing/*.toml) from LiteLLM's published price data.

LiteLLM ships `model_prices_and_context_window_backup.json` inside its wheel; this script
reads it (path given, or downloaded with `pip download --no-deps litellm`), keeps the
models listed in SELECT below, converts USD per token to exact USD per million tokens,
and writes one TOML file per provider. Hand-kept additions (older dated prices) live in
pricing/history.toml and are not touched.

    python3 scripts/pricing_from_litellm.py [--json PATH]
"""
import argparse
import fnmatch
import glob
import json
import pathlib
import subprocess
import tempfile
import zipfile
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent

# provider file -> (LiteLLM provider names, key globs kept, prefix stripped from the id)
SELECT = {
    "openai": (["openai"], ["gpt-5*", "gpt-4.1*", "gpt-4o", "gpt-4o-mini", "gpt-4o-2024-*", "gpt-4o-mini-2024-*", "chatgpt-4o-latest",
                             "o1", "o1-mini", "o1-pro", "o3", "o3-mini", "o3-pro", "o4-mini", "o1-2*", "o3-2*", "o3-mini-2*", "o4-mini-2*",
                             "gpt-4-turbo*", "gpt-4", "gpt-4-0613", "gpt-4-1106-preview", "gpt-3.5-turbo*",
                             "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002", "gpt-oss-*"], ""),
    "anthropic": (["anthropic", "bedrock", "bedrock_converse"], ["claude-*", "anthropic.claude-3*", "anthropic.claude-sonnet-4-2*",
                                             "anthropic.claude-opus-4-2*", "anthropic.claude-opus-4-1-*"], ""),
    "gemini": (["gemini"], ["gemini/gemini-3*", "gemini/gemini-2.5-*", "gemini/gemini-2.0-flash", "gemini/gemini-2.0-flash-lite",
                             "gemini/gemini-1.5-pro", "gemini/gemini-1.5-flash", "gemini/gemini-1.5-flash-8b", "gemini/text-embedding-004",
                             "gemini/gemini-embedding-001"], "gemini/"),
    "mistral": (["mistral"], ["mistral/mistral-large-latest", "mistral/mistral-medium-latest", "mistral/mistral-small-latest",
                               "mistral/codestral-latest", "mistral/open-mistral-nemo", "mistral/pixtral-large-latest",
                               "mistral/ministral-8b-latest", "mistral/ministral-3b-latest", "mistral/magistral-medium-latest",
                               "mistral/magistral-small-latest", "mistral/mistral-embed", "mistral/devstral-medium-latest"], "mistral/"),
    "deepseek": (["deepseek"], ["deepseek/deepseek-chat", "deepseek/deepseek-reasoner", "deepseek/deepseek-v3*", "deepseek/deepseek-r1",
                               "deepseek/deepseek-v4-flash", "deepseek/deepseek-v4-pro", "deepseek/deepseek-coder"], "deepseek/"),
    "xai": (["xai"], ["xai/grok-4*", "xai/grok-3", "xai/grok-3-mini", "xai/grok-code-fast-1", "xai/grok-2-1212"], "xai/"),
    # Every model Bedrock serves, under the ids Bedrock takes (`anthropic.claude-…`,
    # cross-region inference profiles `us.anthropic.claude-…`): Bedrock's prices differ
    # from the vendors' own (regional profiles cost 10% more, some models far more).
    "bedrock": (["bedrock", "bedrock_converse"], ["*"], ""),
    "open-models": (["groq", "together_ai", "fireworks_ai"], [
        "groq/llama-3.3-70b-versatile", "groq/llama-3.1-8b-instant", "groq/meta-llama/llama-4-scout-17b-16e-instruct",
        "groq/meta-llama/llama-4-maverick-17b-128e-instruct", "groq/openai/gpt-oss-120b", "groq/openai/gpt-oss-20b",
        "groq/qwen/qwen3-32b", "groq/moonshotai/kimi-k2-instruct",
        "together_ai/meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
        "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "together_ai/deepseek-ai/DeepSeek-V3",
        "together_ai/deepseek-ai/DeepSeek-R1", "together_ai/Qwen/Qwen2.5-72B-Instruct-Turbo",
        "fireworks_ai/accounts/fireworks/models/llama-v3p1-405b-instruct",
        "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
        "fireworks_ai/accounts/fireworks/models/deepseek-v3", "fireworks_ai/accounts/fireworks/models/deepseek-r1",
    ], ""),
}

SKIP_WORDS = ["audio", "realtime", "search", "transcribe", "tts", "image", "codex-mini", "computer-use", "deep-research", "live"]


def per_million(v):
    if v is None:
        return None
    d = (Decimal(repr(float(v))) * Decimal(1_000_000)).normalize()
    s = format(d, "f")
    return s


def price_block(e, suffix=""):
    fields = {
        "input": e.get("input_cost_per_token" + suffix),
        "cached_input": e.get("cache_read_input_token_cost" + suffix),
        "cache_write_5m": e.get("cache_creation_input_token_cost" + suffix),
        "cache_write_1h": e.get("cache_creation_input_token_cost_above_1hr" + suffix) if not suffix else None,
        "output": e.get("output_cost_per_token" + suffix),
        "reasoning": e.get("output_cost_per_reasoning_token" + suffix),
    }
    return {k: per_million(v) for k, v in fields.items() if v is not None}


def toml_str(s):
    return json.dumps(s)


def load_json(path):
    if path:
        return json.loads(pathlib.Path(path).read_text())
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["python3", "-m", "pip", "download", "--no-deps", "-q", "-d", d, "litellm"], check=True)
        whl = glob.glob(d + "/litellm-*.whl")[0]
        with zipfile.ZipFile(whl) as z:
            version = whl.split("litellm-")[1].split("-")[0]
            return json.loads(z.read("litellm/model_prices_and_context_window_backup.json")), version


def litellm_from_args():
    """LiteLLM's table and version: `--json PATH --version V`, or the newest wheel."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--version", default="unknown")
    a = ap.parse_args()
    loaded = load_json(a.json)
    return (loaded, a.version) if a.json else loaded


def main():
    data, version = litellm_from_args()
    for file, (providers, globs, strip) in SELECT.items():
        keys = sorted(
            k for k, e in data.items()
            if isinstance(e, dict) and e.get("litellm_provider") in providers
            and e.get("mode") in ("chat", "embedding", "responses", "completion")
            and any(fnmatch.fnmatchcase(k, g) for g in globs)
            and not any(w in k for w in SKIP_WORDS)
            and e.get("input_cost_per_token") is not None
            # Path-style ids (`bedrock/us-gov-east-1/…`) name a region LiteLLM routes to,
            # not a model id a span records.
            and not (file == "bedrock" and "/" in k)
        )
        out = [f"# Generated by scripts/pricing_from_litellm.py from LiteLLM {version}'s",
               "# model_prices_and_context_window_backup.json. USD per million tokens.",
               "# Edit pricing/history.toml for hand-kept prices, not this file.", ""]
        for k in keys:
            e = data[k]
            mid = k[len(strip):] if strip and k.startswith(strip) else k
            if file == "anthropic" and e.get("litellm_provider", "").startswith("bedrock") and k.startswith("anthropic."):
                # Claude models LiteLLM now lists only in their Bedrock form; Bedrock's
                # on-demand list price is Anthropic's, so the model id is what is kept.
                mid = mid.removeprefix("anthropic.").rsplit("-v", 1)[0]
                if any(x in keys for x in (mid,)):
                    continue
            provider = {"open-models": k.split("/")[0], "bedrock": "aws.bedrock"}.get(file, file)
            out.append("[[model]]")
            out.append(f"id = {toml_str(mid)}")
            out.append(f"provider = {toml_str(provider)}")
            if e.get("mode") == "embedding":
                out.append('kind = "embedding"')
            src = e.get("source")
            out.append(f"source = {toml_str('litellm ' + version + (' (' + src + ')' if src else ''))}")
            out.append("[[model.price]]")
            for f, v in price_block(e).items():
                out.append(f"{f} = {toml_str(v)}")
            for tier, threshold in (("_above_200k_tokens", 200_000), ("_above_128k_tokens", 128_000), ("_above_272k_tokens", 272_000)):
                t = price_block(e, tier)
                if t:
                    out.append("[[model.price.tier]]")
                    out.append(f"above_input_tokens = {threshold}")
                    for f, v in t.items():
                        out.append(f"{f} = {toml_str(v)}")
            for st in ("flex", "priority"):
                t = price_block(e, "_" + st)
                if t:
                    out.append(f"[model.price.service_tier.{st}]")
                    for f, v in t.items():
                        out.append(f"{f} = {toml_str(v)}")
            out.append("")
        (ROOT / "pricing" / f"{file}.toml").write_text("\n".join(out))
        print(f"{file}: {len(keys)} models")


if __name__ == "__main__":
    main()
