//! Token usage: every place a dialect records it, one source chosen per span (the
//! richest, never a sum of two), then made inclusive (input counts cache reads and
//! writes, output counts reasoning) whatever the source's own convention.

use super::attrs::{Attrs, json_int};
use super::model::Usage;
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
    input: &'static [&'static str],
    output: &'static [&'static str],
    cache_read: &'static [&'static str],
    cache_write: &'static [&'static str],
    reasoning: &'static [&'static str],
}

/// OpenTelemetry GenAI: current keys, then the underscore forms OpenLLMetry, Strands and
/// SideSeat write, then v1.26's prompt/completion names and Sentry's aliases.
const GENAI: FlatKeys = FlatKeys {
    source: "gen_ai.usage.*",
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
};

const OPENINFERENCE: FlatKeys = FlatKeys {
    source: "llm.token_count.*",
    input: &["llm.token_count.prompt"],
    output: &["llm.token_count.completion"],
    cache_read: &[
        "llm.token_count.prompt_details.cache_read",
        "llm.token_count.prompt_details.cache_input",
    ],
    cache_write: &["llm.token_count.prompt_details.cache_write"],
    reasoning: &["llm.token_count.completion_details.reasoning"],
};

const VERCEL: FlatKeys = FlatKeys {
    source: "ai.usage.*",
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
};

/// OpenLLMetry before 2024-04.
const OPENLLMETRY_OLD: FlatKeys = FlatKeys {
    source: "llm.usage.*",
    input: &["llm.usage.prompt_tokens"],
    output: &["llm.usage.completion_tokens"],
    cache_read: &["llm.usage.cache_read_input_tokens"],
    cache_write: &[],
    reasoning: &["llm.usage.reasoning_tokens"],
};

fn flat(a: &Attrs, k: &FlatKeys) -> Option<Reading> {
    let first = |keys: &[&str]| keys.iter().find_map(|key| a.int(key));
    let usage = Usage {
        input: first(k.input),
        output: first(k.output),
        cache_read: first(k.cache_read),
        cache_write: first(k.cache_write),
        reasoning: first(k.reasoning),
    };
    (!usage.is_empty()).then_some(Reading {
        usage,
        source: k.source,
        convention: InputConvention::Unknown,
    })
}

/// Raw provider usage JSON, as Logfire (`gen_ai.usage.raw`), Catalyst (`llm.usage`) and
/// the Langfuse SDK (`usage_details`) record it: OpenAI Chat, OpenAI Responses,
/// Anthropic, Gemini and Bedrock shapes, and Langfuse's own bucket names.
pub fn from_raw_json(v: &Value, source: &'static str) -> Option<Reading> {
    let i = |p: &[&str]| json_int(v, p);
    if v.get("prompt_tokens").is_some() || v.get("completion_tokens").is_some() {
        let usage = Usage {
            input: i(&["prompt_tokens"]),
            output: i(&["completion_tokens"]),
            cache_read: i(&["prompt_tokens_details", "cached_tokens"])
                .or_else(|| i(&["cache_read_input_tokens"])),
            cache_write: i(&["cache_creation_input_tokens"]),
            reasoning: i(&["completion_tokens_details", "reasoning_tokens"]),
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
            input: i(&["input_tokens"]),
            output: i(&["output_tokens"]),
            cache_read: i(&["cache_read_input_tokens"]),
            cache_write: i(&["cache_creation_input_tokens"]),
            reasoning: None,
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Exclusive,
        });
    }
    if v.get("input_tokens").is_some() || v.get("output_tokens").is_some() {
        let usage = Usage {
            input: i(&["input_tokens"]),
            output: i(&["output_tokens"]),
            cache_read: i(&["input_tokens_details", "cached_tokens"]),
            cache_write: None,
            reasoning: i(&["output_tokens_details", "reasoning_tokens"]),
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    if v.get("promptTokenCount").is_some() {
        // Gemini: thoughts are reported beside candidates, not inside them.
        let thoughts = i(&["thoughtsTokenCount"]);
        let usage = Usage {
            input: i(&["promptTokenCount"]),
            output: i(&["candidatesTokenCount"]).map(|c| c + thoughts.unwrap_or(0)),
            cache_read: i(&["cachedContentTokenCount"]),
            cache_write: None,
            reasoning: thoughts,
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    if v.get("inputTokens").is_some() {
        let usage = Usage {
            input: i(&["inputTokens"]),
            output: i(&["outputTokens"]),
            cache_read: i(&["cacheReadInputTokens"]),
            cache_write: i(&["cacheWriteInputTokens"]),
            reasoning: None,
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
        let sum = |prefix: &str| -> Option<i64> {
            let vals: Vec<i64> = obj
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .filter_map(|(k, _)| json_int(v, &[k.as_str()]))
                .collect();
            (!vals.is_empty()).then(|| vals.iter().sum())
        };
        let pick = |keys: &[&str]| keys.iter().find_map(|k| json_int(v, &[k]));
        let usage = Usage {
            input: sum("input"),
            output: sum("output"),
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
        };
        return Some(Reading {
            usage,
            source,
            convention: InputConvention::Inclusive,
        });
    }
    None
}

/// Every reading a span offers, in the documented priority order.
pub fn readings(a: &Attrs) -> Vec<Reading> {
    let mut out: Vec<Reading> = [GENAI, OPENINFERENCE, VERCEL, OPENLLMETRY_OLD]
        .iter()
        .filter_map(|k| flat(a, k))
        .collect();
    for key in [
        "gen_ai.usage.raw",
        "llm.usage",
        "langfuse.observation.usage_details",
        "mlflow.chat.tokenUsage",
    ] {
        if let Some(v) = a.json(key).filter(Value::is_object) {
            out.extend(from_raw_json(&v, key));
        }
    }
    out
}

/// The span's usage: the richest reading (ties go to the earlier, higher-priority one),
/// made inclusive. `exclusive_producer` says the producer is known to copy Anthropic's
/// raw input count, which leaves cache tokens out.
pub fn choose(readings: Vec<Reading>, exclusive_producer: bool) -> Option<(Usage, String)> {
    let best = readings
        .into_iter()
        .fold(None::<Reading>, |best, r| match best {
            Some(b) if b.usage.richness() >= r.usage.richness() => Some(b),
            _ => Some(r),
        })?;
    let mut u = best.usage;
    let mut source = best.source.to_string();
    let cache = u.cache_read.unwrap_or(0) + u.cache_write.unwrap_or(0);
    let exclusive = cache > 0
        && match best.convention {
            InputConvention::Exclusive => true,
            InputConvention::Inclusive => false,
            // More cache than input can only mean the input left it out.
            InputConvention::Unknown => exclusive_producer || u.input.unwrap_or(0) < cache,
        };
    if exclusive && let Some(i) = u.input {
        u.input = Some(i + cache);
        source.push_str(" (cache tokens added to input)");
    }
    if let (Some(o), Some(r)) = (u.output, u.reasoning)
        && r > o
    {
        // Reasoning reported beside the output rather than inside it.
        u.output = Some(o + r);
        source.push_str(" (reasoning tokens added to output)");
    }
    Some((u, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::{AnyValue, KeyValue};
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
        let (u, src) = choose(readings(&Attrs(&attrs)), false).unwrap();
        assert_eq!(
            u,
            Usage {
                input: Some(1000),
                output: Some(50),
                cache_read: Some(256),
                cache_write: None,
                reasoning: Some(32)
            }
        );
        assert_eq!(src, "gen_ai.usage.raw");
    }

    #[test]
    fn anthropic_raw_input_is_made_inclusive() {
        let v = json!({"input_tokens": 10, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 100, "output_tokens": 5});
        let (u, src) = choose(vec![from_raw_json(&v, "raw").unwrap()], true).unwrap();
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
        let (u, _) = choose(readings(&Attrs(&attrs)), true).unwrap();
        assert_eq!(u.input, Some(21248));
        let attrs = vec![
            kv("gen_ai.usage.input_tokens", AnyValue::Int(1000)),
            kv("gen_ai.usage.cache_read.input_tokens", AnyValue::Int(256)),
        ];
        let (u, _) = choose(readings(&Attrs(&attrs)), false).unwrap();
        assert_eq!(u.input, Some(1000), "inclusive input is left alone");
    }

    #[test]
    fn langfuse_buckets_are_summed_back() {
        let v = json!({"input": 744, "input_cached_tokens": 256, "output": 18, "output_reasoning_tokens": 32, "total": 1050});
        let (u, _) = choose(vec![from_raw_json(&v, "lf").unwrap()], false).unwrap();
        assert_eq!(
            (u.input, u.output, u.cache_read, u.reasoning),
            (Some(1000), Some(50), Some(256), Some(32))
        );
    }

    #[test]
    fn missing_usage_is_none() {
        assert!(choose(readings(&Attrs(&[])), false).is_none());
    }
}
