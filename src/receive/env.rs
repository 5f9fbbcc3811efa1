//! The environment `traces record` gives the command it runs, so that the standard
//! OpenTelemetry and Langfuse SDKs export to the receiver with no setup. The table is
//! the documentation too: the README's table is checked against it.

/// How OTLP exporters are told to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    HttpProtobuf,
    Grpc,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::Grpc => "grpc",
        }
    }
}

/// How a variable's value is made from the receiver's base URL (`http://127.0.0.1:PORT`).
#[derive(Debug, Clone, Copy)]
pub enum Value {
    Base,
    /// The base, plus this path for OTLP/HTTP (gRPC exporters take the base alone).
    Signal(&'static str),
    Protocol,
    Fixed(&'static str),
    /// `Authorization=Bearer%20T` with `--token`, else not set.
    Headers,
    /// Set only when the environment has no value of its own.
    Default(&'static str),
    /// The token with `--token`; else a dummy key unless one is set.
    SecretKey,
}

/// Every variable set, with why.
pub const VARIABLES: &[(&str, Value, &str)] = &[
    ("OTEL_EXPORTER_OTLP_ENDPOINT", Value::Base, "the receiver"),
    (
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        Value::Signal("/v1/traces"),
        "wins over a signal endpoint already set",
    ),
    (
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        Value::Signal("/v1/logs"),
        "the same for logs",
    ),
    (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        Value::Protocol,
        "`http/protobuf`, or `grpc` with `--protocol grpc`",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        Value::Protocol,
        "the same",
    ),
    (
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        Value::Protocol,
        "the same",
    ),
    (
        "OTEL_EXPORTER_OTLP_HEADERS",
        Value::Headers,
        "`Authorization=Bearer%20T`, with `--token T` only",
    ),
    ("OTEL_TRACES_EXPORTER", Value::Fixed("otlp"), "export spans"),
    (
        "OTEL_LOGS_EXPORTER",
        Value::Fixed("otlp"),
        "export log records",
    ),
    (
        "OTEL_METRICS_EXPORTER",
        Value::Default("none"),
        "metrics are not kept (unless set)",
    ),
    (
        "OTEL_BSP_SCHEDULE_DELAY",
        Value::Fixed("200"),
        "ms: spans leave the batch processor soon, nothing waits at exit",
    ),
    (
        "OTEL_BLRP_SCHEDULE_DELAY",
        Value::Fixed("200"),
        "the same for logs",
    ),
    ("LANGFUSE_HOST", Value::Base, "Langfuse SDK 2.x"),
    ("LANGFUSE_BASE_URL", Value::Base, "Langfuse SDK 3+"),
    (
        "LANGFUSE_PUBLIC_KEY",
        Value::Default("pk-lf-traces-record"),
        "a dummy key (unless set): any key is accepted",
    ),
    (
        "LANGFUSE_SECRET_KEY",
        Value::SecretKey,
        "the token with `--token`, else a dummy key (unless set)",
    ),
];

/// The variables for a command exporting to `base`; `existing` reads the environment
/// it would otherwise inherit. `--env KEY=VALUE` is applied after these by the caller.
pub fn child_env(
    base: &str,
    protocol: Protocol,
    token: Option<&str>,
    existing: &dyn Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value, _) in VARIABLES {
        let v = match value {
            Value::Base => Some(base.to_string()),
            Value::Signal(path) => Some(match protocol {
                Protocol::HttpProtobuf => format!("{base}{path}"),
                Protocol::Grpc => base.to_string(),
            }),
            Value::Protocol => Some(protocol.name().to_string()),
            Value::Fixed(v) => Some(v.to_string()),
            Value::Headers => token.map(|t| format!("Authorization=Bearer%20{t}")),
            Value::Default(v) => existing(key).is_none().then(|| v.to_string()),
            Value::SecretKey => match (token, existing(key)) {
                (Some(t), _) => Some(t.to_string()),
                (None, Some(_)) => None,
                (None, None) => Some("sk-lf-traces-record".to_string()),
            },
        };
        if let Some(v) = v {
            out.push((key.to_string(), v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn http_exporters_get_signal_paths_and_grpc_the_base() {
        let none = |_: &str| None;
        let http = child_env("http://127.0.0.1:9", Protocol::HttpProtobuf, None, &none);
        assert_eq!(
            get(&http, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            Some("http://127.0.0.1:9/v1/traces")
        );
        assert_eq!(get(&http, "OTEL_EXPORTER_OTLP_HEADERS"), None);
        let grpc = child_env("http://127.0.0.1:9", Protocol::Grpc, Some("t"), &none);
        assert_eq!(
            get(&grpc, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(get(&grpc, "OTEL_EXPORTER_OTLP_PROTOCOL"), Some("grpc"));
        assert_eq!(
            get(&grpc, "OTEL_EXPORTER_OTLP_HEADERS"),
            Some("Authorization=Bearer%20t")
        );
        assert_eq!(get(&grpc, "LANGFUSE_SECRET_KEY"), Some("t"));
    }

    #[test]
    fn keys_and_metrics_the_user_set_are_kept() {
        let set = |k: &str| (k != "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "mine".to_string());
        let env = child_env("http://h:1", Protocol::HttpProtobuf, None, &set);
        assert_eq!(get(&env, "LANGFUSE_PUBLIC_KEY"), None);
        assert_eq!(get(&env, "LANGFUSE_SECRET_KEY"), None);
        assert_eq!(get(&env, "OTEL_METRICS_EXPORTER"), None);
        // The endpoint is the receiver whatever was set: that is the point.
        assert_eq!(get(&env, "OTEL_EXPORTER_OTLP_ENDPOINT"), Some("http://h:1"));
    }
}
