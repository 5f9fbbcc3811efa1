"""Builds the shipped pricing tables (pricing/*.toml) from LiteLLM's published price data.

LiteLLM ships `model_prices_and_context_window_backup.json` inside its wheel; this script
reads it (path given, or downloaded with `pip download --no-deps litellm`), keeps every
model priced per token (chat, responses, completion, embedding; every provider),
converts USD per token to exact USD per million tokens, and writes one TOML file per
provider, entries sorted, plus pricing/table.toml (version and date). Hand-kept
additions (older dated prices) live in pricing/history.toml and are not touched.

    python3 scripts/pricing_from_litellm.py [--json PATH]
"""
import argparse
import glob
import gzip
import json
import pathlib
import subprocess
import tempfile
import zipfile
from decimal import Decimal

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The vendors' own APIs come first: where a model is also sold elsewhere, a span that
# names no provider is priced at its vendor's list price. Their LiteLLM prefix is left
# out of the id, as their SDKs record the bare name.
VENDORS = ["openai", "anthropic", "gemini", "mistral", "deepseek", "xai"]
STRIP = {"gemini": "gemini/", "mistral": "mistral/", "deepseek": "deepseek/", "xai": "xai/"}
MODES = ("chat", "responses", "completion", "embedding")
TIERS = (("_above_100k_tokens", 100_000), ("_above_128k_tokens", 128_000),
         ("_above_200k_tokens", 200_000), ("_above_272k_tokens", 272_000))


def family(provider):
    """(file, provider written) of a LiteLLM provider: a cloud's several LiteLLM
    providers are one provider to whoever is billed."""
    if provider.startswith("vertex_ai"):
        return "vertex_ai", "gcp.vertex_ai"
    fixed = {
        "bedrock": ("bedrock", "aws.bedrock"), "bedrock_converse": ("bedrock", "aws.bedrock"),
        "azure": ("azure", "azure.ai.openai"), "azure_text": ("azure", "azure.ai.openai"),
        "azure_ai": ("azure_ai", "azure.ai.inference"),
        "text-completion-openai": ("openai", "openai"),
        "fireworks_ai-embedding-models": ("fireworks_ai", "fireworks_ai"),
        "cohere_chat": ("cohere", "cohere"),
    }
    if provider in fixed:
        return fixed[provider]
    return provider.replace("/", "_"), provider


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
        "cache_write_1h": e.get("cache_creation_input_token_cost_above_1hr" + suffix),
        "output": e.get("output_cost_per_token" + suffix),
        "reasoning": e.get("output_cost_per_reasoning_token" + suffix),
        "input_audio": e.get("input_cost_per_audio_token" + suffix),
        "output_audio": e.get("output_cost_per_audio_token" + suffix),
        "input_image": e.get("input_cost_per_image_token" + suffix),
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


AS_OF = None


def litellm_from_args():
    """LiteLLM's table and version: `--json PATH --version V`, or the newest wheel.
    `--as-of DATE` is the day the table was taken (default today)."""
    global AS_OF
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--version", default="unknown")
    ap.add_argument("--as-of", default=__import__("datetime").date.today().isoformat())
    a = ap.parse_args()
    AS_OF = a.as_of
    loaded = load_json(a.json)
    return (loaded, a.version) if a.json else loaded


def entry_lines(mid, key, provider, e, version):
    out = ["[[model]]", f"id = {toml_str(mid)}", f"provider = {toml_str(provider)}"]
    if key != mid:
        out.append(f"litellm = {toml_str(key)}")
    if e.get("mode") == "embedding":
        out.append('kind = "embedding"')
    src = e.get("source")
    out.append(f"source = {toml_str('litellm ' + version + (' (' + src + ')' if src else ''))}")
    out.append("[[model.price]]")
    for f, v in price_block(e).items():
        out.append(f"{f} = {toml_str(v)}")
    for tier, threshold in TIERS:
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
    return out


def main():
    data, version = litellm_from_args()
    files = {}
    for k, e in data.items():
        if (isinstance(e, dict) and e.get("mode") in MODES
                and e.get("input_cost_per_token") is not None and "litellm_provider" in e):
            files.setdefault(family(e["litellm_provider"])[0], []).append(k)
    for old in (ROOT / "pricing").glob("*.toml"):
        if old.name not in ("history.toml", "table.toml"):
            old.unlink()
    order = [f for f in VENDORS if f in files] + sorted(f for f in files if f not in VENDORS)
    ids = set()
    total = 0
    for file in order:
        out = [f"# Generated by scripts/pricing_from_litellm.py from LiteLLM {version}'s",
               "# model_prices_and_context_window_backup.json. USD per million tokens.",
               "# Edit pricing/history.toml for hand-kept prices, not this file.", ""]
        n = 0
        for k in sorted(files[file]):
            e = data[k]
            _, provider = family(e["litellm_provider"])
            strip = STRIP.get(file, "")
            mid = k[len(strip):] if strip and k.startswith(strip) else k
            if mid.lower() in ids:
                # A key whose stripped form another entry has: its own key, prefix
                # included (`gemini/gemini-exp-1206` beside `gemini-exp-1206`), or for a
                # bare key of another provider (Vertex AI's `gemini-2.5-pro`) the route
                # prefix that tells them apart.
                route = "vertex_ai/" if file == "vertex_ai" else file + "/"
                mid = k if mid != k else route + k
            if mid.lower() in ids:
                print(f"skipped {k!r}: its id {mid!r} is taken")
                continue
            ids.add(mid.lower())
            out += entry_lines(mid, k, provider, e, version)
            n += 1
        (ROOT / "pricing" / f"{file}.toml").write_text("\n".join(out))
        total += n
    (ROOT / "pricing" / "table.toml").write_text(
        "# Where the generated tables come from; read by `traces pricing list` and reports.\n"
        f"litellm = {toml_str(version)}\n"
        f"as_of = {toml_str(AS_OF)}\n"
        f"vendors = {json.dumps([f for f in VENDORS if f in files])}\n")
    # The entries the tables were made from, as LiteLLM wrote them, for the test that
    # prices one call of each and checks it against LiteLLM's own arithmetic.
    kept = {k: {f: v for f, v in data[k].items() if "cost" in f or f in ("litellm_provider", "mode")}
            for f in order for k in files[f]}
    fixture = ROOT / "testdata" / "pricing" / "litellm-prices.json.gz"
    fixture.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": version, "models": kept}, sort_keys=True, indent=0).encode()
    fixture.write_bytes(gzip.compress(body, mtime=0))
    print(f"{total} models in {len(order)} files")


if __name__ == "__main__":
    main()
