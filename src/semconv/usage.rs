//! Token usage: every place a dialect records it, one source chosen per span (the
//! richest, never a sum of two), then made inclusive (input counts cache reads and
//! writes, output counts reasoning) whatever the source's own convention.

use super::attrs::{Attrs, as_json, json_at, json_count};
use super::model::{RefusedValue, Usage};
use crate::ingest::raw::AnyValue;
use serde_json::Value;

/// Whether a source's input count already includes cache tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputConvention {
    /// Input includes cache reads and writes (OpenAI, GenAI conventions v1.40+).
    Inclusive,
    /// Input excludes them (Anthropic's raw API, Langfuse's stored buckets).
    Exclusive,
    /// The source does not say; decided from the numbers and the provider.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub usage: Usage,
    pub source: &'static str,
    pub convention: InputConvention,
}

/// Where one dialect writes usage as flat attributes, each field's keys in order.
struct FlatKeys {
    source: &'static str,
    /// What every key below starts with: a span with none of them has none of the keys,
    /// and is not looked up key by key (most spans are not model calls).
    prefixes: &'static [&'static str],
    input: &'static [&'static str],
    output: &'static [&'static str],
    cache_read: &'static [&'static str],
    cache_write: &'static [&'static str],
    reasoning: &'static [&'static str],
    cache_write_1h: &'static [&'static str],
    audio_input: &'static [&'static str],
    audio_output: &'static [&'static str],
}

/// OpenTelemetry GenAI: current keys, then the underscore forms OpenLLMetry, Strands and
/// SideSeat write, then v1.26's prompt/completion names and Sentry's aliases.
const GENAI: FlatKeys = FlatKeys {
    source: "gen_ai.usage.*",
    prefixes: &["gen_ai.usage.", "anthropic.usage."],
    input: &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
    output: &[
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ],
    cache_read: &[
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.input_tokens.cached",
        "gen_ai.usage.details.cache_read_tokens",
    ],
    cache_write: &[
        "gen_ai.usage.cache_creation.input_tokens",
        // The official Anthropic instrumentation and the anthropic SDK's own tracing.
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_write_input_tokens",
        "gen_ai.usage.input_tokens.cache_write",
        "gen_ai.usage.details.cache_write_tokens",
    ],
    reasoning: &[
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.output_tokens.reasoning",
        "gen_ai.usage.details.reasoning_tokens",
    ],
    cache_write_1h: &[
        "gen_ai.usage.cache_creation.ephemeral_1h_input_tokens",
        "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
    ],
    audio_input: &[],
    audio_output: &[],
};

const OPENINFERENCE: FlatKeys = FlatKeys {
    source: "llm.token_count.*",
    prefixes: &["llm.token_count."],
    input: &["llm.token_count.prompt"],
    output: &["llm.token_count.completion"],
    cache_read: &[
        "llm.token_count.prompt_details.cache_read",
        "llm.token_count.prompt_details.cache_input",
    ],
    cache_write: &["llm.token_count.prompt_details.cache_write"],
    reasoning: &["llm.token_count.completion_details.reasoning"],
    cache_write_1h: &[],
    audio_input: &["llm.token_count.prompt_details.audio"],
    audio_output: &["llm.token_count.completion_details.audio"],
};

const VERCEL: FlatKeys = FlatKeys {
    source: "ai.usage.*",
    prefixes: &["ai.usage."],
    input: &[
        "ai.usage.inputTokens",
        "ai.usage.promptTokens",
        "ai.usage.tokens",
    ],
    output: &["ai.usage.outputTokens", "ai.usage.completionTokens"],
    cache_read: &[
        "ai.usage.inputTokenDetails.cacheReadTokens",
        "ai.usage.cachedInputTokens",
    ],
    cache_write: &["ai.usage.inputTokenDetails.cacheWriteTokens"],
    reasoning: &[
        "ai.usage.outputTokenDetails.reasoningTokens",
        "ai.usage.reasoningTokens",
    ],
    cache_write_1h: &[],
    audio_input: &[],
    audio_output: &[],
};

/// OpenLLMetry before 2024-04.
const OPENLLMETRY_OLD: FlatKeys = FlatKeys {
    source: "llm.usage.*",
    prefixes: &["llm.usage."],
    input: &["llm.usage.prompt_tokens"],
    output: &["llm.usage.completion_tokens"],
    cache_read: &["llm.usage.cache_read_input_tokens"],
    cache_write: &[],
    reasoning: &["llm.usage.reasoning_tokens"],
    cache_write_1h: &[],
    audio_input: &[],
    audio_output: &[],
};

fn flat(a: &Attrs, k: &FlatKeys, bad: &mut Vec<RefusedValue>) -> Option<Reading> {
    if !k.prefixes.iter().any(|p| a.has_prefix(p)) {
        return None;
    }
    let mut first = |keys: &[&str]| {
        keys.iter().find_map(|key| match a.count(key)? {
            Ok(n) => Some(n),
            Err(problem) => {
                let value = a.get(key).map(any_text).unwrap_or_default();
                bad.push(RefusedValue::new(key, &value, problem));
                None
            }
        })
    };
    let usage = Usage {
        input: first(k.input),
        output: first(k.output),
        cache_read: first(k.cache_read),
        cache_write: first(k.cache_write),
        reasoning: first(k.reasoning),
        cache_write_1h: first(k.cache_write_1h),
        audio_input: first(k.audio_input),
        audio_output: first(k.audio_output),
        image_input: None,
    };
    // Details alone (a reasoning count beside another dialect's input and output) are
    // kept: they can fill that reading's gaps.
    (usage.richness() > 0).then_some(Reading {
        usage,
        source: k.source,
        convention: InputConvention::Unknown,
    })
}

/// AI SDK 4.x keeps cached and reasoning counts only in the provider's metadata JSON
/// (`{"openai":{"cachedPromptTokens":…,"reasoningTokens":…}}`,
/// `{"anthropic":{"cacheReadInputTokens":…,"cacheCreationInputTokens":…}}`): they fill
/// what the flat `ai.usage.*` keys lack, never replace it.
fn vercel_provider_metadata(a: &Attrs, r: &mut Reading, bad: &mut Vec<RefusedValue>) {
    let Some(Value::Object(m)) = a.json("ai.response.providerMetadata") else {
        return;
    };
    for v in m.values() {
        let source: &'static str = "ai.response.providerMetadata";
        let mut c = RawCounts { v, source, bad };
        let u = &mut r.usage;
        if u.cache_read.is_none() {
            u.cache_read = c
                .get(&["cachedPromptTokens"])
                .or_else(|| c.get(&["cacheReadInputTokens"]));
        }
        if u.cache_write.is_none() {
            u.cache_write = c.get(&["cacheCreationInputTokens"]);
        }
        if u.reasoning.is_none() {
            u.reasoning = c.get(&["reasoningTokens"]);
        }
    }
}

fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.clone(),
        other => as_json(other).map(|j| j.to_string()).unwrap_or_default(),
    }
}

/// Reads counts out of one raw usage object, noting each refused value under
/// `source.path`.
struct RawCounts<'v, 'b> {
    v: &'v Value,
    source: &'static str,
    bad: &'b mut Vec<RefusedValue>,
}

impl RawCounts<'_, '_> {
    fn get(&mut self, path: &[&str]) -> Option<i64> {
        match json_count(self.v, path)? {
            Ok(n) => Some(n),
            Err(problem) => {
                let key = format!("{}.{}", self.source, path.join("."));
                let value = json_at(self.v, path)
                    .map(|cur| cur.as_str().map_or_else(|| cur.to_string(), String::from))
                    .unwrap_or_default();
                self.bad.push(RefusedValue::new(&key, &value, problem));
                None
            }
        }
    }

    /// Gemini's per-modality counts: `[{"modality": "AUDIO", "tokenCount": 12}, …]`.
    fn modality(&mut self, path: &[&str], modality: &str) -> Option<i64> {
        let i = json_at(self.v, path)?
            .as_array()?
            .iter()
            .position(|d| d.get("modality").and_then(Value::as_str) == Some(modality))?;
        let mut at: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        at.push(i.to_string());
        at.push("tokenCount".into());
        let at: Vec<&str> = at.iter().map(String::as_str).collect();
        self.get(&at)
    }

    /// `a + b`, or missing with a note when the sum passes 2^63 - 1.
    fn sum(&mut self, what: &str, a: i64, b: i64) -> Option<i64> {
        let s = a.checked_add(b);
        if s.is_none() {
            let key = format!("{}.{what}", self.source);
            self.bad.push(RefusedValue::overflow(&key, a, b));
        }
        s
    }
}

/// Raw provider usage JSON, as Logfire (`gen_ai.usage.raw`), Catalyst (`llm.usage`) and
/// the Langfuse SDK (`usage_details`) record it: OpenAI Chat, OpenAI Responses,
/// Anthropic, Gemini and Bedrock shapes, and Langfuse's own bucket names.
pub fn from_raw_json(
    v: &Value,
    source: &'static str,
    bad: &mut Vec<RefusedValue>,
) -> Option<Reading> {
    let mut r = RawCounts { v, source, bad };
    if v.get("prompt_tokens").is_some() || v.get("completion_tokens").is_some() {
        let usage = Usage {
            input: r.get(&["prompt_tokens"]),
            output: r.get(&["completion_tokens"]),
            cache_read: r
                .get(&["prompt_tokens_details", "cached_tokens"])
                .or_else(|| r.get(&["cache_read_input_tokens"])),
            // LiteLLM's usage object also carries Anthropic's writes, in its own keys.
            cache_write: r
                .get(&["cache_creation_input_tokens"])
                .or_else(|| r.get(&["prompt_tokens_details", "cache_write_tokens"]))
                .or_else(|| r.get(&["prompt_tokens_details", "cache_creation_tokens"])),
            cache_write_1h: r
                .get(&[
                    "prompt_tokens_details",
                    "cache_creation_token_details",
                    "ephemeral_1h_input_tokens",
                ])
                .or_else(|| r.get(&["cache_creation", "ephemeral_1h_input_tokens"])),
            reasoning: r.get(&["completion_tokens_details", "reasoning_tokens"]),
            audio_input: r.get(&["prompt_tokens_details", "audio_tokens"]),
            audio_output: r.get(&["completion_tokens_details", "audio_tokens"]),
            image_input: r.get(&["prompt_tokens_details", "image_tokens"]),
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    if v.get("cache_read_input_tokens").is_some() || v.get("cache_creation_input_tokens").is_some()
    {
        // Anthropic Messages: input_tokens counts neither cache reads nor writes.
        let usage = Usage {
            input: r.get(&["input_tokens"]),
            output: r.get(&["output_tokens"]),
            cache_read: r.get(&["cache_read_input_tokens"]),
            cache_write: r.get(&["cache_creation_input_tokens"]),
            cache_write_1h: r.get(&["cache_creation", "ephemeral_1h_input_tokens"]),
            // Extended thinking, a part of output_tokens.
            reasoning: r.get(&["output_tokens_details", "thinking_tokens"]),
            ..Default::default()
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Exclusive,
        });
    }
    if v.get("input_tokens").is_some() || v.get("output_tokens").is_some() {
        let usage = Usage {
            input: r.get(&["input_tokens"]),
            output: r.get(&["output_tokens"]),
            cache_read: r.get(&["input_tokens_details", "cached_tokens"]),
            reasoning: r
                .get(&["output_tokens_details", "reasoning_tokens"])
                .or_else(|| r.get(&["output_tokens_details", "thinking_tokens"])),
            ..Default::default()
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    if v.get("promptTokenCount").is_some() {
        // Gemini: thoughts are reported beside candidates, not inside them.
        let thoughts = r.get(&["thoughtsTokenCount"]);
        let output = r.get(&["candidatesTokenCount"]).and_then(|c| {
            r.sum(
                "candidatesTokenCount+thoughtsTokenCount",
                c,
                thoughts.unwrap_or(0),
            )
        });
        let usage = Usage {
            input: r.get(&["promptTokenCount"]),
            output,
            cache_read: r.get(&["cachedContentTokenCount"]),
            reasoning: thoughts,
            audio_input: r.modality(&["promptTokensDetails"], "AUDIO"),
            image_input: r.modality(&["promptTokensDetails"], "IMAGE"),
            audio_output: r.modality(&["candidatesTokensDetails"], "AUDIO"),
            ..Default::default()
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    if v.get("inputTokens").is_some() {
        let usage = Usage {
            input: r.get(&["inputTokens"]),
            output: r.get(&["outputTokens"]),
            cache_read: r.get(&["cacheReadInputTokens"]),
            cache_write: r.get(&["cacheWriteInputTokens"]),
            ..Default::default()
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Unknown,
        });
    }
    if v.get("input").is_some() || v.get("output").is_some() {
        // Langfuse buckets are disjoint: inclusive input is the sum of all input*
        // keys, inclusive output the sum of all output* keys.
        let obj = v.as_object()?;
        let mut sum = |prefix: &str| -> Option<i64> {
            let mut total: Option<i64> = None;
            for k in obj.keys().filter(|k| k.starts_with(prefix)) {
                if let Some(n) = r.get(&[k.as_str()]) {
                    total = Some(match total {
                        None => n,
                        Some(t) => r.sum(prefix, t, n)?,
                    });
                }
            }
            total
        };
        let input = sum("input");
        let output = sum("output");
        let mut pick = |keys: &[&str]| keys.iter().find_map(|k| r.get(&[k]));
        let usage = Usage {
            input,
            output,
            cache_read: pick(&[
                "input_cached_tokens",
                "input_cache_read",
                "cache_read_input_tokens",
            ]),
            cache_write: pick(&[
                "input_cache_creation",
                "input_cache_write",
                "cache_creation_input_tokens",
            ]),
            reasoning: pick(&["output_reasoning_tokens", "output_reasoning"]),
            audio_input: pick(&["input_audio_tokens", "input_audio"]),
            audio_output: pick(&["output_audio_tokens", "output_audio"]),
            ..Default::default()
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    None
}

/// Every reading a span offers, in the documented priority order; values that cannot
/// be counts are left out and noted in `bad`.
pub fn readings(a: &Attrs, model_call: bool, bad: &mut Vec<RefusedValue>) -> Vec<Reading> {
    let mut out: Vec<Reading> = [GENAI, OPENINFERENCE, VERCEL, OPENLLMETRY_OLD]
        .iter()
        .filter_map(|k| {
            let mut r = flat(a, k, bad)?;
            if k.source == VERCEL.source && model_call {
                vercel_provider_metadata(a, &mut r, bad);
            }
            Some(r)
        })
        .collect();
    for key in [
        "gen_ai.usage.raw",
        "llm.usage",
        "langfuse.observation.usage_details",
        "mlflow.chat.tokenUsage",
    ] {
        if let Some(v) = a.json(key).filter(Value::is_object) {
            out.extend(from_raw_json(&v, key, bad));
        }
    }
    // Keys that hold usage JSON on every span of an agent run (Logfire's `usage` on the
    // model call, the turn and the run): read on the model call alone, as they repeat
    // its numbers elsewhere.
    if model_call {
        for key in ["usage", "litellm.usage_object", "metadata.usage_object"] {
            if let Some(v) = a.get(key).and_then(python_or_json).filter(Value::is_object) {
                out.extend(from_raw_json(&v, key, bad));
            }
        }
    }
    out
}

/// A usage object written as JSON, or as a Python dict's text as LiteLLM writes it
/// (`{'prompt_tokens': 12, 'prompt_tokens_details': None}`): read with a tolerant
/// reader for literals, never evaluated.
fn python_or_json(v: &AnyValue) -> Option<Value> {
    let AnyValue::String(s) = v else {
        return as_json(v);
    };
    serde_json::from_str(s).ok().or_else(|| python_literal(s))
}

/// The JSON of a Python literal of dicts, lists, strings, numbers, `None`, `True` and
/// `False`; `None` for anything else (a call, an object's repr).
pub fn python_literal(text: &str) -> Option<Value> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // A string: re-quoted for JSON, its escapes kept.
                let mut s = String::new();
                loop {
                    match chars.next()? {
                        '\\' => match chars.next()? {
                            '\'' => s.push('\''),
                            e => {
                                s.push('\\');
                                s.push(e);
                            }
                        },
                        q if q == c => break,
                        '"' => s.push_str("\\\""),
                        ch => s.push(ch),
                    }
                }
                out.push('"');
                out.push_str(&s);
                out.push('"');
            }
            'N' | 'T' | 'F' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                    word.push(n);
                    chars.next();
                }
                out.push_str(match word.as_str() {
                    "None" => "null",
                    "True" => "true",
                    "False" => "false",
                    _ => return None,
                });
            }
            c if c.is_ascii_digit() || c == '-' => {
                out.push(c);
                while let Some(&n) = chars
                    .peek()
                    .filter(|n| n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-'))
                {
                    out.push(n);
                    chars.next();
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '(' => return None,
            c => out.push(c),
        }
    }
    serde_json::from_str(&out).ok()
}

/// The span's usage: the richest reading (ties go to the earlier, higher-priority one),
/// made inclusive. `exclusive_producer` says the producer is known to copy Anthropic's
/// raw input count, which leaves cache tokens out.
pub fn choose(
    readings: Vec<Reading>,
    exclusive_producer: bool,
    bad: &mut Vec<RefusedValue>,
) -> Option<(Usage, String)> {
    let best_at = readings
        .iter()
        .enumerate()
        .fold(None::<usize>, |best, (i, r)| {
            // A reading with input or output beats one of details alone.
            let rank = |u: &Usage| (!u.is_empty(), u.richness());
            match best {
                Some(b) if rank(&readings[b].usage) >= rank(&r.usage) => Some(b),
                _ => Some(i),
            }
        })?;
    let mut readings = readings;
    let best = readings.remove(best_at);
    let rest = readings;
    let mut u = best.usage;
    let mut source = best.source.to_string();
    // A detail only another dialect on the same span records (ai 7 writes reasoning as
    // `ai.usage.outputTokenDetails.reasoningTokens` beside `gen_ai.usage.*`) fills the
    // gap, from a reading of the same call: its output, and its input unless it leaves
    // cache tokens out, agree or are missing.
    for other in &rest {
        let agrees = |mine: Option<i64>, theirs: Option<i64>| theirs.is_none() || theirs == mine;
        if !agrees(u.output, other.usage.output)
            || (other.convention != InputConvention::Exclusive
                && !agrees(u.input, other.usage.input))
        {
            continue;
        }
        let mut filled = Vec::new();
        let mut counts = u.counts();
        for ((mine, theirs), name) in counts
            .iter_mut()
            .zip(other.usage.counts())
            .zip(Usage::COLUMNS)
            .skip(2)
        {
            if mine.is_none() && theirs.is_some() {
                *mine = theirs;
                filled.push(name.trim_end_matches("_tokens"));
            }
        }
        if !filled.is_empty() {
            u = Usage::from_counts(counts);
            source.push_str(&format!(" + {} ({})", other.source, filled.join(", ")));
        }
    }
    let overflow = |what: &str, a: i64, b: i64, bad: &mut Vec<RefusedValue>| {
        bad.push(RefusedValue::overflow(
            &format!("{} ({what})", best.source),
            a,
            b,
        ));
    };
    let (cr, cw) = (u.cache_read.unwrap_or(0), u.cache_write.unwrap_or(0));
    let Some(cache) = cr.checked_add(cw) else {
        // Neither part can be trusted once their sum is beyond any count.
        overflow("cache reads + cache writes", cr, cw, bad);
        u.cache_read = None;
        u.cache_write = None;
        return (!u.is_empty()).then_some((u, source));
    };
    let exclusive = cache > 0
        && match best.convention {
            InputConvention::Exclusive => true,
            InputConvention::Inclusive => false,
            // More cache than input can only mean the input left it out.
            InputConvention::Unknown => exclusive_producer || u.input.unwrap_or(0) < cache,
        };
    if exclusive && let Some(i) = u.input {
        match i.checked_add(cache) {
            Some(sum) => {
                u.input = Some(sum);
                source.push_str(" (cache tokens added to input)");
            }
            None => {
                overflow("input + cache tokens", i, cache, bad);
                u.input = None;
            }
        }
    }
    if let (Some(o), Some(r)) = (u.output, u.reasoning)
        && r > o
    {
        // Reasoning reported beside the output rather than inside it.
        match o.checked_add(r) {
            Some(sum) => {
                u.output = Some(sum);
                source.push_str(" (reasoning tokens added to output)");
            }
            None => {
                overflow("output + reasoning tokens", o, r, bad);
                u.output = None;
                u.reasoning = None;
            }
        }
    }
    (!u.is_empty()).then_some((u, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flat_key_starts_with_a_prefix_of_its_dialect() {
        for k in [GENAI, OPENINFERENCE, VERCEL, OPENLLMETRY_OLD] {
            let keys = [
                k.input,
                k.output,
                k.cache_read,
                k.cache_write,
                k.reasoning,
                k.cache_write_1h,
                k.audio_input,
                k.audio_output,
            ];
            for key in keys.iter().flat_map(|k| k.iter()) {
                assert!(
                    k.prefixes.iter().any(|p| key.starts_with(p)),
                    "{key} is under none of {:?}: spans holding it alone would not be read",
                    k.prefixes
                );
            }
        }
    }
    use crate::ingest::raw::KeyValue;
    use serde_json::json;

    fn kv(k: &str, v: AnyValue) -> KeyValue {
        KeyValue::new(k, v)
    }

    #[test]
    fn richest_source_wins_and_is_never_summed() {
        // SideSeat: flat keys without details, and the raw usage with them.
        let attrs = vec![
            kv("gen_ai.usage.input_tokens", AnyValue::Int(1000)),
            kv("gen_ai.usage.output_tokens", AnyValue::Int(50)),
            kv(
                "gen_ai.usage.raw",
                AnyValue::String(
                    json!({"prompt_tokens":1000,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":256},"completion_tokens_details":{"reasoning_tokens":32}})
                        .to_string(),
                ),
            ),
        ];
        let (u, src) = choose(
            readings(&Attrs(&attrs), true, &mut vec![]),
            false,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(
            u,
            Usage {
                input: Some(1000),
                output: Some(50),
                cache_read: Some(256),
                reasoning: Some(32),
                ..Default::default()
            }
        );
        assert_eq!(src, "gen_ai.usage.raw");
    }

    #[test]
    fn anthropic_raw_input_is_made_inclusive() {
        let v = json!({"input_tokens": 10, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 100, "output_tokens": 5});
        let (u, src) = choose(
            vec![from_raw_json(&v, "raw", &mut vec![]).unwrap()],
            true,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(u.input, Some(1010));
        assert!(src.contains("cache tokens added"));
    }

    #[test]
    fn more_cache_than_input_means_exclusive() {
        let attrs = vec![
            kv("gen_ai.usage.input_tokens", AnyValue::Int(3)),
            kv("gen_ai.usage.cache_read_input_tokens", AnyValue::Int(21245)),
            kv("gen_ai.usage.output_tokens", AnyValue::Int(7)),
        ];
        let (u, _) = choose(
            readings(&Attrs(&attrs), true, &mut vec![]),
            true,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(u.input, Some(21248));
        let attrs = vec![
            kv("gen_ai.usage.input_tokens", AnyValue::Int(1000)),
            kv("gen_ai.usage.cache_read.input_tokens", AnyValue::Int(256)),
        ];
        let (u, _) = choose(
            readings(&Attrs(&attrs), true, &mut vec![]),
            false,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(u.input, Some(1000), "inclusive input is left alone");
    }

    #[test]
    fn langfuse_buckets_are_summed_back() {
        let v = json!({"input": 744, "input_cached_tokens": 256, "output": 18, "output_reasoning_tokens": 32, "total": 1050});
        let (u, _) = choose(
            vec![from_raw_json(&v, "lf", &mut vec![]).unwrap()],
            false,
            &mut vec![],
        )
        .unwrap();
        assert_eq!(
            (u.input, u.output, u.cache_read, u.reasoning),
            (Some(1000), Some(50), Some(256), Some(32))
        );
    }

    #[test]
    fn missing_usage_is_none() {
        assert!(choose(readings(&Attrs(&[]), true, &mut vec![]), false, &mut vec![]).is_none());
    }

    #[test]
    fn refused_counts_are_missing_and_named() {
        let attrs = vec![
            kv("gen_ai.usage.input_tokens", AnyValue::Int(-40)),
            kv("gen_ai.usage.prompt_tokens", AnyValue::Int(100)),
            kv("gen_ai.usage.output_tokens", AnyValue::Double(2.5)),
            kv(
                "gen_ai.usage.cache_read.input_tokens",
                AnyValue::String("99999999999999999999".into()),
            ),
        ];
        let mut bad = vec![];
        let (u, _) = choose(readings(&Attrs(&attrs), true, &mut bad), false, &mut bad).unwrap();
        // The next alias is read in place of a refused value; nothing becomes 0.
        assert_eq!((u.input, u.output, u.cache_read), (Some(100), None, None));
        let keys: Vec<&str> = bad.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.cache_read.input_tokens"
            ]
        );
        assert!(bad[2].to_string().contains("2^63"), "{}", bad[2]);
    }

    #[test]
    fn sums_past_the_largest_count_are_refused() {
        let v = json!({"input_tokens": 5, "cache_read_input_tokens": i64::MAX, "output_tokens": 1});
        let mut bad = vec![];
        let (u, _) = choose(
            vec![from_raw_json(&v, "raw", &mut bad).unwrap()],
            false,
            &mut bad,
        )
        .unwrap();
        assert_eq!(u.input, None, "input + cache would wrap");
        assert_eq!(u.output, Some(1));
        assert_eq!(bad.len(), 1);
        let v = json!({"input": i64::MAX, "input_cached_tokens": 3, "output": 1});
        let mut bad = vec![];
        let r = from_raw_json(&v, "lf", &mut bad).unwrap();
        assert_eq!(r.usage.input, None);
        assert_eq!(bad.len(), 1);
    }
}
