//! One model for every dialect. Each dialect file owns its key names; this file applies
//! them, field by field, in one fixed order (a span often speaks several dialects, and
//! values are never added across them):
//!
//! | field | order |
//! |---|---|
//! | span type | Langfuse → OpenInference → GenAI → OpenLLMetry → AI SDK → tool keys ⇒ tool → model key ⇒ llm → other |
//! | provider | a known endpoint (`server.address`, base URLs) → GenAI `gen_ai.provider.name` → OpenInference → GenAI `gen_ai.system` (not a framework name) → AI SDK → OpenLLMetry era A |
//! | request model | GenAI → OpenInference request → AI SDK → Langfuse → OpenInference `llm.model_name` → OpenLLMetry era A |
//! | response model | GenAI → OpenInference → AI SDK → Langfuse → OpenLLMetry era A |
//! | usage | the richest source on the span (see `usage`), never a sum |
//! | session, user | Langfuse compat keys → `session.id`/`user.id` → GenAI conversation → OpenLLMetry association → AI SDK metadata → Langfuse metadata (user: → LiteLLM `metadata.user_api_key_user_id`, `llm.user`) |
//! | recorded cost | OpenInference `llm.cost.*` → Langfuse `cost_details` → `operation.cost` → `gen_ai.usage.cost` → LiteLLM `gen_ai.cost.total_cost` → any-agent `gen_ai.usage.input_cost` + `output_cost` |
//! | content (`content`) | GenAI → OpenInference → OpenLLMetry → AI SDK → Langfuse |

pub mod attrs;
pub mod content;
pub mod genai;
pub mod langfuse;
pub mod model;
pub mod openinference;
pub mod openllmetry;
pub mod usage;
pub mod vercel;

use crate::ingest::raw::{AnyValue, Event, KeyValue, RawLog, RawSpan, StatusCode};
use attrs::Attrs;
use model::{Content, Normalized, SpanType};
use serde_json::Value;

/// A log record of a span, as the event it stands for: its attributes, with its body
/// under `body`.
pub fn log_as_event(l: &RawLog) -> Event {
    let mut attributes = l.attributes.clone();
    if l.body != AnyValue::Empty {
        attributes.push(KeyValue::new("body", l.body.clone()));
    }
    Event {
        time_unix_nano: l.time_unix_nano.max(l.observed_time_unix_nano),
        name: l.effective_event_name().unwrap_or("log").to_string(),
        attributes,
    }
}

fn first(a: &Attrs, lists: &[&[&'static str]]) -> Option<String> {
    lists
        .iter()
        .find_map(|keys| a.first_str(keys).map(|(v, _)| v))
}

const MODEL_KEYS: [&str; 6] = [
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "ai.model.id",
    "langfuse.observation.model.name",
    "embedding.model_name",
];

fn span_type(a: &Attrs) -> SpanType {
    langfuse::span_type(a)
        .or_else(|| openinference::span_type(a))
        .or_else(|| genai::span_type(a))
        .or_else(|| openllmetry::span_type(a))
        .or_else(|| vercel::span_type(a))
        .unwrap_or_else(|| {
            if a.has("gen_ai.tool.name") || a.has("gen_ai.tool.call.id") {
                SpanType::Tool
            } else if MODEL_KEYS.iter().any(|k| a.has(k)) {
                SpanType::Llm
            } else {
                SpanType::Other
            }
        })
}

/// Aliases of one provider, folded to the GenAI conventions' names.
pub fn canonical_provider(p: &str) -> String {
    let l = p.trim().to_ascii_lowercase();
    // LiteLLM's names for one cloud's several APIs (`vertex_ai-anthropic_models`).
    if l.starts_with("vertex_ai") {
        return "gcp.vertex_ai".into();
    }
    let l = l
        .strip_suffix(".chat")
        .or_else(|| l.strip_suffix(".responses"))
        .or_else(|| l.strip_suffix(".messages"))
        .unwrap_or(&l);
    match l {
        "azure" | "azure-openai" | "az.ai.openai" | "azure_openai" => "azure.ai.openai",
        "az.ai.inference" | "azure_ai" | "azure-ai-inference" => "azure.ai.inference",
        "azure_text" => "azure.ai.openai",
        "text-completion-openai" => "openai",
        "cohere_chat" => "cohere",
        "fireworks_ai-embedding-models" => "fireworks_ai",
        "aws" | "aws_bedrock" | "amazon-bedrock" | "bedrock" | "bedrock_converse" | "amazon" => {
            "aws.bedrock"
        }
        "together" | "togetherai" => "together_ai",
        "fireworks" => "fireworks_ai",
        "gemini" | "google" | "google.generative-ai" | "gcp.gemini" => "gcp.gemini",
        "vertex_ai" | "vertexai" | "google.vertex" => "gcp.vertex_ai",
        "mistral" | "mistralai" | "mistral_ai" => "mistral_ai",
        "xai" | "x_ai" => "x_ai",
        other => other,
    }
    .to_string()
}

/// Keys that carry the endpoint a call went to: the GenAI and HTTP conventions' host,
/// and OpenLLMetry's base URL.
const ADDRESS_KEYS: [&str; 6] = [
    "server.address",
    "net.peer.name",
    "gen_ai.openai.api_base",
    "url.full",
    "http.url",
    "llm.base_url",
];

/// The provider whose endpoint a span called, for the hosts whose owner is certain; a
/// proxy or a local server says nothing.
pub fn provider_of_address(a: &Attrs) -> Option<&'static str> {
    // One pass over the attributes, not one per key: this runs on every model call.
    a.0.iter()
        .filter(|kv| ADDRESS_KEYS.contains(&kv.key.as_str()))
        .find_map(|kv| match &kv.value {
            AnyValue::String(s) => provider_of_host(s),
            _ => None,
        })
}

pub fn provider_of_host(address: &str) -> Option<&'static str> {
    let t = address.trim().to_ascii_lowercase();
    let t = t.split_once("://").map_or(t.as_str(), |(_, rest)| rest);
    let host = t.split(['/', ':', '?']).next().unwrap_or("");
    let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    Some(if host.starts_with("bedrock") && under("amazonaws.com") {
        "aws.bedrock"
    } else if under("openai.azure.com") {
        "azure.ai.openai"
    } else if under("services.ai.azure.com") || under("inference.ai.azure.com") {
        "azure.ai.inference"
    } else if host.ends_with("aiplatform.googleapis.com") {
        "gcp.vertex_ai"
    } else if host == "generativelanguage.googleapis.com" {
        "gcp.gemini"
    } else {
        match host {
            "api.openai.com" => "openai",
            "api.anthropic.com" => "anthropic",
            "api.mistral.ai" => "mistral_ai",
            "api.x.ai" => "x_ai",
            "api.deepseek.com" => "deepseek",
            "api.groq.com" => "groq",
            "api.together.xyz" | "api.together.ai" => "together_ai",
            "api.fireworks.ai" => "fireworks_ai",
            "openrouter.ai" => "openrouter",
            "api.deepinfra.com" => "deepinfra",
            "api.cohere.com" | "api.cohere.ai" => "cohere",
            "api.perplexity.ai" => "perplexity",
            "api.cerebras.ai" => "cerebras",
            _ => return None,
        }
    })
}

/// The provider a model name belongs to, for spans that name no provider (Catalyst,
/// some raw exports). Only unambiguous families: a Llama may be served anywhere.
fn provider_of_model(model: &str) -> Option<&'static str> {
    let m = model.rsplit('/').next().unwrap_or(model);
    if [
        "gpt-",
        "o1",
        "o3",
        "o4-",
        "chatgpt-",
        "text-embedding-",
        "davinci",
        "babbage",
    ]
    .iter()
    .any(|p| m.starts_with(p))
    {
        Some("openai")
    } else if m.starts_with("claude") {
        Some("anthropic")
    } else if m.starts_with("gemini") {
        Some("gcp.gemini")
    } else if m.starts_with("grok") {
        Some("x_ai")
    } else if m.starts_with("deepseek") {
        Some("deepseek")
    } else if m.starts_with("mistral") || m.starts_with("codestral") || m.starts_with("magistral") {
        Some("mistral_ai")
    } else {
        None
    }
}

/// Values refused or questioned across many spans (`Normalized::refused_values`): all
/// counted, the first few kept with the span they were on, for one warning at the end of
/// a command.
/// Shared by the threads that normalize.
pub struct RefusedValues {
    seen: std::sync::Mutex<(u64, Vec<String>)>,
    shown: usize,
}

impl Default for RefusedValues {
    fn default() -> Self {
        RefusedValues::keeping(10)
    }
}

impl RefusedValues {
    /// Keeps the first `shown` values to name in the warning.
    pub fn keeping(shown: usize) -> Self {
        RefusedValues {
            seen: Default::default(),
            shown,
        }
    }

    pub fn note(&self, span: &RawSpan, n: &Normalized) {
        if n.refused_values.is_empty() {
            return;
        }
        let Ok(mut g) = self.seen.lock() else { return };
        let (count, shown) = &mut *g;
        for bad in &n.refused_values {
            *count += 1;
            if shown.len() < self.shown {
                shown.push(format!(
                    "span {} ({:?}) of trace {}: {bad}",
                    span.span_id, span.name, span.trace_id
                ));
            }
        }
    }

    /// Warning lines: a head line, then one per refused value shown.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(g) = self.seen.lock() else {
            return Vec::new();
        };
        let (count, shown) = &*g;
        if *count == 0 {
            return Vec::new();
        }
        let mut out = vec![format!(
            "{count} problem(s) with usage numbers (a refused value is treated as missing, never as 0):"
        )];
        out.extend(shown.iter().map(|l| format!("  {l}")));
        if *count > shown.len() as u64 {
            out.push(format!("  … and {} more", *count - shown.len() as u64));
        }
        out
    }
}

/// Traceloop's `google_generativeai` instrumentation records Gemini's candidates count
/// as output, without the thoughts Google bills as output; its total is Google's, thoughts
/// included.
const DROPS_THOUGHTS: [&str; 1] = ["opentelemetry.instrumentation.google_generativeai"];

/// A total larger than input plus output: from a producer known to drop thinking tokens,
/// the difference is recovered as reasoning (a part of output); from any other, it is
/// reported, never silently dropped.
fn check_total(a: &Attrs, scope: &str, n: &mut Normalized) {
    let total = [
        "gen_ai.usage.total_tokens",
        "llm.usage.total_tokens",
        "llm.token_count.total",
    ]
    .iter()
    .find_map(|k| a.count(k).and_then(Result::ok).map(|t| (t, *k)));
    let (Some((total, key)), Some(input), Some(output)) = (total, n.usage.input, n.usage.output)
    else {
        return;
    };
    let Some(missing) = input
        .checked_add(output)
        .and_then(|sum| total.checked_sub(sum))
        .filter(|m| *m > 0)
    else {
        return;
    };
    if DROPS_THOUGHTS.contains(&scope) && n.usage.reasoning.is_none() {
        n.usage.output = Some(output + missing);
        n.usage.reasoning = Some(missing);
        if let Some(s) = &mut n.usage_source {
            s.push_str(" (thinking tokens recovered from the total)");
        }
    } else {
        n.refused_values.push(model::RefusedValue::new(
            key,
            &total.to_string(),
            format!(
                "the total exceeds input + output ({input} + {output}) by {missing}: the producer may leave thinking tokens out of output; counted as recorded"
            ),
        ));
    }
}

/// No call costs more; past this a recorded cost is a corrupt value, and a sum of such
/// values would stop being exact in a report.
const MAX_RECORDED_COST_USD: f64 = 1e9;

/// Logfire's OpenAI Agents spans name the run's session and user only on the trace's
/// root: the `metadata` given to `trace()` (where Logfire scrubs `session_id` by
/// default) and the SDK's `group_id`, which links the traces of one conversation.
fn agents_trace_identity(a: &Attrs, n: &mut Normalized) {
    let metadata = a.json("metadata");
    let field = |k: &str| {
        metadata
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
    };
    let usable = |v: &str| !v.trim().is_empty() && !attrs::is_scrubbed(v);
    if n.user_id.is_none() {
        n.user_id = field("user_id").filter(|v| usable(v)).map(String::from);
    }
    if n.session_id.is_none() {
        n.session_id = field("session_id")
            .filter(|v| usable(v))
            .map(String::from)
            .or_else(|| a.str("group_id"));
        if n.session_id.is_none()
            && let Some(v) = field("session_id").filter(|v| attrs::is_scrubbed(v))
        {
            n.refused_values.push(model::RefusedValue::new(
                "metadata.session_id",
                v,
                "Logfire scrubbed it as a secret, so it is missing; keep it with a scrubbing callback (logfire.configure(scrubbing=logfire.ScrubbingOptions(callback=…))), or give the trace a group_id",
            ));
        }
    }
}

/// Normalizes one span: type, provider, models, usage, session, user, ids, errors. Log
/// records never contribute usage (a log that repeats a span's usage must not add to
/// it), so they are not an input here; see `content`.
pub fn normalize(span: &RawSpan) -> Normalized {
    let a = Attrs(&span.attributes);
    let mut n = Normalized {
        span_type: span_type(&a),
        operation: a.str("gen_ai.operation.name"),
        ..Default::default()
    };
    // A known endpoint names the provider that served the call, whichever SDK made it
    // (the OpenAI SDK pointed at Azure still says `openai`).
    let model_call = n.span_type.is_model_call();
    n.provider = model_call
        .then(|| provider_of_address(&a))
        .flatten()
        .map(String::from)
        .or_else(|| genai::provider(&a).filter(|_| a.has("gen_ai.provider.name")))
        .or_else(|| openinference::provider(&a))
        .or_else(|| genai::provider(&a))
        .or_else(|| vercel::provider(&a))
        .or_else(|| first(&a, &[openllmetry::PROVIDER]))
        .map(|p| canonical_provider(&p));
    n.request_model = first(
        &a,
        &[
            genai::REQUEST_MODEL,
            openinference::REQUEST_MODEL,
            vercel::REQUEST_MODEL,
            langfuse::MODEL,
            openinference::RESPONSE_MODEL,
            openllmetry::REQUEST_MODEL,
        ],
    );
    n.response_model = first(
        &a,
        &[
            genai::RESPONSE_MODEL,
            openinference::RESPONSE_MODEL,
            vercel::RESPONSE_MODEL,
            langfuse::MODEL,
            openllmetry::RESPONSE_MODEL,
        ],
    );
    let model = n
        .response_model
        .as_deref()
        .or(n.request_model.as_deref())
        .unwrap_or("")
        .to_ascii_lowercase();
    if n.provider.is_none() && n.span_type.is_model_call() {
        n.provider = provider_of_model(&model).map(String::from);
    }
    // SideSeat's Bedrock instrumentor copies Claude's raw input count, which leaves
    // cache tokens out.
    let exclusive_producer =
        a.str("gen_ai.system").as_deref() == Some("aws_bedrock") && model.contains("claude");
    let bad = &mut n.refused_values;
    if let Some((u, source)) = usage::choose(
        usage::readings(&a, model_call, bad),
        exclusive_producer,
        bad,
    ) {
        n.usage = u;
        n.usage_source = Some(source);
        if model_call {
            check_total(&a, &span.scope.name, &mut n);
        }
    }
    // Logfire scrubs `session.id` by default: say so, rather than lose sessions quietly.
    // One pass over the attributes, as this runs on every span.
    const IDENTITY_KEYS: [&str; 4] = [
        "session.id",
        "user.id",
        "enduser.id",
        "gen_ai.conversation.id",
    ];
    for kv in a.0 {
        if let AnyValue::String(v) = &kv.value
            && attrs::is_scrubbed(v)
            && IDENTITY_KEYS.contains(&kv.key.as_str())
        {
            n.refused_values.push(model::RefusedValue::new(
                &kv.key,
                v,
                "Logfire scrubbed it as a secret, so it is missing; keep it with a scrubbing callback (logfire.configure(scrubbing=logfire.ScrubbingOptions(callback=…)))",
            ));
        }
    }
    n.session_id = first(
        &a,
        &[
            langfuse::SESSION,
            &["session.id"],
            genai::SESSION,
            openllmetry::SESSION,
            vercel::SESSION,
            langfuse::SESSION_FALLBACK,
        ],
    );
    n.user_id = first(
        &a,
        &[
            langfuse::USER,
            &["user.id", "enduser.id"],
            openllmetry::USER,
            vercel::USER,
            langfuse::USER_FALLBACK,
            // The LiteLLM SDK's and proxy's OpenTelemetry callback: the end user the
            // request names before the owner of the proxy key it came with.
            &[
                "metadata.user_api_key_end_user_id",
                "llm.user",
                "metadata.user_api_key_user_id",
            ],
        ],
    );
    if span.scope.name == "logfire.openai_agents" {
        agents_trace_identity(&a, &mut n);
    }
    let recorded = openinference::recorded_cost(&a)
        .map(|c| (c, "llm.cost.*"))
        .or_else(|| langfuse::recorded_cost(&a).map(|c| (c, "langfuse.observation.cost_details")))
        .or_else(|| a.float("operation.cost").map(|c| (c, "operation.cost")))
        .or_else(|| {
            a.float("gen_ai.usage.cost")
                .map(|c| (c, "gen_ai.usage.cost"))
        })
        // LiteLLM's own per-call cost.
        .or_else(|| {
            a.float("gen_ai.cost.total_cost")
                .map(|c| (c, "gen_ai.cost.total_cost"))
        })
        // any-agent prices the two sides apart.
        .or_else(|| {
            let (i, o) = (
                a.float("gen_ai.usage.input_cost"),
                a.float("gen_ai.usage.output_cost"),
            );
            (i.is_some() || o.is_some()).then(|| {
                (
                    decimal_sum(i.unwrap_or(0.0), o.unwrap_or(0.0)),
                    "gen_ai.usage.input_cost+output_cost",
                )
            })
        });
    n.recorded_cost_usd = match recorded {
        Some((c, key)) if !(0.0..=MAX_RECORDED_COST_USD).contains(&c) => {
            n.refused_values.push(model::RefusedValue::new(
                key,
                &c.to_string(),
                "a recorded cost must be between $0 and $1,000,000,000 a call",
            ));
            None
        }
        r => r.map(|(c, _)| c),
    };
    n.response_id = first(&a, &[&["gen_ai.response.id", "ai.response.id"]])
        .or_else(|| openinference::response_id(&a));
    n.previous_response_id = openinference::previous_response_id(&a);
    n.finish_reasons = genai::finish_reasons(&a);
    if n.finish_reasons.is_empty() {
        n.finish_reasons = a.str_list("llm.finish_reason");
    }
    n.service_tier = first(
        &a,
        &[&[
            "openai.response.service_tier",
            "gen_ai.openai.response.service_tier",
            "openai.request.service_tier",
        ]],
    );
    n.error_type = a.str("error.type");
    if span.status_code == StatusCode::Error {
        n.error_message = (!span.status_message.is_empty())
            .then(|| span.status_message.clone())
            .or_else(|| {
                span.events
                    .iter()
                    .find(|e| e.name == "exception")
                    .and_then(|e| Attrs(&e.attributes).str("exception.message"))
            })
            .or_else(|| n.error_type.clone());
        if n.error_type.is_none() {
            n.error_type = span
                .events
                .iter()
                .find(|e| e.name == "exception")
                .and_then(|e| Attrs(&e.attributes).str("exception.type"));
        }
    }
    n
}

/// Attribute keys only `content` reads: messages, prompts, tool definitions. They are
/// most of a dump's bytes, and `normalize` gives the same answer without them (tested
/// on every SDK's dump), so a cost report skips them when decoding.
pub fn content_only(key: &str) -> bool {
    const EXACT: [&str; 18] = [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.prompt",
        "gen_ai.completion",
        "llm.prompts",
        "llm.completions",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "ai.prompt",
        "ai.prompt.messages",
        "ai.prompt.tools",
        "ai.response.text",
        "ai.response.toolCalls",
        "ai.response.object",
        "traceloop.entity.input",
        "traceloop.entity.output",
    ];
    const PREFIX: [&str; 7] = [
        "llm.input_messages.",
        "llm.output_messages.",
        "llm.tools.",
        "llm.prompts.",
        "llm.completions.",
        "gen_ai.prompt.",
        "gen_ai.completion.",
    ];
    EXACT.contains(&key) || PREFIX.iter().any(|p| key.starts_with(p))
}

/// What went in and out of a call. Kept out of `normalize`, which import runs on every
/// span: content is read when a trace is shown, from the raw attributes, events and the
/// span's log records, so it is never stored twice.
pub fn content(span: &RawSpan, logs: &[RawLog]) -> Content {
    let a = Attrs(&span.attributes);
    let events: Vec<Event> = span
        .events
        .iter()
        .cloned()
        .chain(logs.iter().map(log_as_event))
        .collect();
    let mut c = genai::content(&a, &events)
        .or_else(|| openinference::content(&a))
        .or_else(|| openllmetry::content(&a))
        .or_else(|| vercel::content(&a))
        .or_else(|| langfuse::content(&a))
        .unwrap_or_default();
    // Parameters come from every dialect that has them, first writer wins per name.
    genai::parameters(&a, &mut c.parameters);
    c
}

/// Two dollar amounts as written, added as decimals: 2.69e-05 + 4.8e-06 is 3.17e-05,
/// not the 3.1700000000000005e-05 of binary floating point.
fn decimal_sum(a: f64, b: f64) -> f64 {
    use rust_decimal::prelude::{FromStr, ToPrimitive};
    let d = |x: f64| rust_decimal::Decimal::from_str(&x.to_string()).ok();
    match (d(a), d(b)) {
        (Some(x), Some(y)) => x.checked_add(y).and_then(|s| s.to_f64()).unwrap_or(a + b),
        _ => a + b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::KeyValue;

    #[test]
    fn known_endpoints_name_their_provider_and_others_nothing() {
        for (address, want) in [
            (
                "bedrock-runtime.eu-west-1.amazonaws.com",
                Some("aws.bedrock"),
            ),
            (
                "https://acme.openai.azure.com/openai/deployments/gpt4o",
                Some("azure.ai.openai"),
            ),
            ("acme.services.ai.azure.com", Some("azure.ai.inference")),
            (
                "us-central1-aiplatform.googleapis.com",
                Some("gcp.vertex_ai"),
            ),
            ("generativelanguage.googleapis.com:443", Some("gcp.gemini")),
            ("https://api.openai.com/v1", Some("openai")),
            ("api.groq.com", Some("groq")),
            ("s3.amazonaws.com", None),
            ("127.0.0.1:4000", None),
            ("litellm-proxy.internal", None),
            ("evil-openai.azure.com.example.org", None),
        ] {
            assert_eq!(provider_of_host(address), want, "{address}");
        }
    }

    fn span_in(scope: &str, attributes: Vec<KeyValue>) -> RawSpan {
        use crate::ingest::ids::{SpanId, TraceId};
        use crate::ingest::raw::{Scope, SpanKind};
        RawSpan {
            trace_id: TraceId([1; 16]),
            span_id: SpanId([1; 8]),
            parent_span_id: None,
            trace_state: String::new(),
            name: "chat".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            status_code: StatusCode::Unset,
            status_message: String::new(),
            flags: 0,
            attributes,
            events: vec![],
            links: vec![],
            resource: Default::default(),
            scope: std::sync::Arc::new(Scope {
                name: scope.into(),
                ..Default::default()
            }),
        }
    }

    fn text(k: &str, v: &str) -> KeyValue {
        KeyValue::new(k, AnyValue::String(v.into()))
    }

    fn int(k: &str, v: i64) -> KeyValue {
        KeyValue::new(k, AnyValue::Int(v))
    }

    #[test]
    fn the_endpoint_outranks_the_sdk_s_provider_name() {
        let s = span_in(
            "t",
            vec![
                text("gen_ai.request.model", "gpt-4o"),
                text("gen_ai.system", "openai"),
                text("server.address", "acme.openai.azure.com"),
            ],
        );
        assert_eq!(normalize(&s).provider.as_deref(), Some("azure.ai.openai"));
        let local = span_in(
            "t",
            vec![
                text("gen_ai.request.model", "gpt-4o"),
                text("gen_ai.system", "openai"),
                text("server.address", "localhost"),
            ],
        );
        assert_eq!(normalize(&local).provider.as_deref(), Some("openai"));
    }

    /// Traceloop's google_generativeai instrumentation: output is the candidates alone,
    /// the total is Google's (one streamed call: 407 candidates, 276 thoughts).
    #[test]
    fn thoughts_a_producer_drops_are_recovered_from_the_total_and_others_reported() {
        let attrs = || {
            vec![
                text("gen_ai.request.model", "gemini-2.5-flash"),
                int("gen_ai.usage.input_tokens", 100),
                int("gen_ai.usage.output_tokens", 407),
                int("gen_ai.usage.total_tokens", 783),
            ]
        };
        let n = normalize(&span_in(
            "opentelemetry.instrumentation.google_generativeai",
            attrs(),
        ));
        assert_eq!((n.usage.output, n.usage.reasoning), (Some(683), Some(276)));
        assert!(n.usage_source.unwrap().contains("recovered"));
        assert!(n.refused_values.is_empty());
        let n = normalize(&span_in("some.other.instrumentation", attrs()));
        assert_eq!((n.usage.output, n.usage.reasoning), (Some(407), None));
        assert_eq!(n.refused_values.len(), 1);
        assert!(
            n.refused_values[0].problem.contains("by 276"),
            "{}",
            n.refused_values[0]
        );
    }

    #[test]
    fn litellm_usage_object_cost_and_user() {
        // As LiteLLM's otel callback writes it: a Python dict's text.
        let usage = "{'completion_tokens': 40, 'prompt_tokens': 2000, 'total_tokens': 2040, \
            'completion_tokens_details': {'reasoning_tokens': 8, 'audio_tokens': None}, \
            'prompt_tokens_details': {'cached_tokens': 1500, 'text_tokens': None}, \
            'cache_creation_input_tokens': 0, 'cache_read_input_tokens': 1500}";
        let n = normalize(&span_in(
            "litellm",
            vec![
                text("gen_ai.request.model", "gpt-4o"),
                text("gen_ai.system", "openai"),
                int("gen_ai.usage.input_tokens", 2000),
                int("gen_ai.usage.output_tokens", 40),
                text("metadata.usage_object", usage),
                KeyValue::new("gen_ai.cost.total_cost", AnyValue::Double(0.00229)),
                text("metadata.user_api_key_user_id", "alice"),
            ],
        ));
        assert_eq!(
            (
                n.usage.input,
                n.usage.cache_read,
                n.usage.output,
                n.usage.reasoning
            ),
            (Some(2000), Some(1500), Some(40), Some(8))
        );
        assert_eq!(n.recorded_cost_usd, Some(0.00229));
        assert_eq!(n.user_id.as_deref(), Some("alice"));
        assert_eq!(
            usage::python_literal("{'a': True, 'b': [1, -2.5e-3]}").unwrap(),
            serde_json::json!({"a": true, "b": [1, -0.0025]})
        );
        assert!(usage::python_literal("{'a': Decimal('1')}").is_none());
    }

    #[test]
    fn usage_json_on_every_span_of_a_run_is_read_on_the_model_call_only() {
        let usage = text(
            "usage",
            r#"{"requests": 1, "input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024}, "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 1230}"#,
        );
        let call = normalize(&span_in(
            "logfire.openai_agents",
            vec![text("gen_ai.request.model", "gpt-4.1"), usage.clone()],
        ));
        assert_eq!(
            (call.usage.input, call.usage.cache_read),
            (Some(1200), Some(1024))
        );
        let turn = normalize(&span_in("logfire.openai_agents", vec![usage]));
        assert!(turn.usage.is_empty());
    }

    #[test]
    fn ai_sdk_4_provider_metadata_fills_what_the_flat_keys_lack() {
        let n = normalize(&span_in(
            "ai",
            vec![
                text("ai.operationId", "ai.generateText.doGenerate"),
                text("ai.model.id", "o4-mini"),
                text("ai.model.provider", "openai.chat"),
                int("ai.usage.promptTokens", 3000),
                int("ai.usage.completionTokens", 500),
                text(
                    "ai.response.providerMetadata",
                    r#"{"openai":{"cachedPromptTokens":2048,"reasoningTokens":384}}"#,
                ),
            ],
        ));
        assert_eq!(
            (
                n.usage.input,
                n.usage.cache_read,
                n.usage.output,
                n.usage.reasoning
            ),
            (Some(3000), Some(2048), Some(500), Some(384))
        );
    }

    #[test]
    fn cache_writes_thinking_and_scrubbed_sessions() {
        let n = normalize(&span_in(
            "opentelemetry.instrumentation.anthropic",
            vec![
                text("gen_ai.request.model", "claude-sonnet-4-5"),
                text("gen_ai.provider.name", "anthropic"),
                int("gen_ai.usage.input_tokens", 5000),
                int("gen_ai.usage.cache_write.input_tokens", 4000),
                int("gen_ai.usage.output_tokens", 10),
                text("session.id", "[Scrubbed due to 'session']"),
            ],
        ));
        assert_eq!(n.usage.cache_write, Some(4000));
        assert_eq!(n.session_id, None);
        assert!(
            n.refused_values
                .iter()
                .any(|r| r.key == "session.id" && r.problem.contains("scrubbing callback"))
        );
        let raw = serde_json::json!({"input_tokens": 50, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
            "output_tokens": 900, "output_tokens_details": {"thinking_tokens": 700}});
        let n = normalize(&span_in(
            "t",
            vec![
                text("gen_ai.request.model", "claude-sonnet-4-5"),
                text("gen_ai.usage.raw", &raw.to_string()),
            ],
        ));
        assert_eq!((n.usage.output, n.usage.reasoning), (Some(900), Some(700)));
    }
}
