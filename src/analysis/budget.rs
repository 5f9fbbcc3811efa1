//! Budgets (`traces check`): rules read from TOML, each checked by asking the cost report
//! grouped by the rule's scope with the rule's filters, then comparing every member's
//! sums (or a percentile over the members) with the rule's limits. Durations and errors
//! are of the members' traces (the trace rows `traces list` has), joined by trace id.
//! Money limits are exact decimals, read from the TOML text digit for digit, never
//! through a float. Also the baseline comparison (`compare`, `diff`) that `traces check
//! --baseline` gates on and `traces diff` reports, and the forecast of period scopes.

use super::cost_report::{CallFilter, CostReport, Dim, Metrics, SumOverflow};
use super::source::{Source, SourceError, cost_reports, trace_rows};
use super::time_bound::parse_time_bound;
use crate::pricing::Pricing;
use crate::semconv::RefusedValues;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use toml::de::{DeTable, DeValue};

/// Why a budget file cannot be used. Every message names the file and line, and for a
/// rule's problem the rule and the key.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("cannot read budget file {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: invalid TOML: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: {rule}: {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        /// `rule 2 ("cost per test case")`, or `budget` for a top-level key.
        rule: String,
        key: String,
        message: String,
    },
}

/// What a rule's members are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Trace,
    Session,
    User,
    Model,
    /// The root span's name: one test case.
    Name,
    Attr(String),
    /// UTC calendar periods.
    Day,
    Week,
    Month,
    /// Every call the filters keep, as one member.
    Total,
}

pub const SCOPES: [&str; 10] = [
    "trace", "session", "user", "model", "name", "attr:KEY", "day", "week", "month", "total",
];

impl Scope {
    fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "trace" => Scope::Trace,
            "session" => Scope::Session,
            "user" => Scope::User,
            "model" => Scope::Model,
            "name" => Scope::Name,
            "day" => Scope::Day,
            "week" => Scope::Week,
            "month" => Scope::Month,
            "total" => Scope::Total,
            _ => match s.strip_prefix("attr:") {
                Some(k) if !k.is_empty() => Scope::Attr(k.to_string()),
                _ => return None,
            },
        })
    }

    pub fn name(&self) -> String {
        match self {
            Scope::Trace => "trace".into(),
            Scope::Session => "session".into(),
            Scope::User => "user".into(),
            Scope::Model => "model".into(),
            Scope::Name => "name".into(),
            Scope::Attr(k) => format!("attr:{k}"),
            Scope::Day => "day".into(),
            Scope::Week => "week".into(),
            Scope::Month => "month".into(),
            Scope::Total => "total".into(),
        }
    }

    /// The report grouping whose rows make up the members.
    fn dims(&self) -> Vec<Dim> {
        match self {
            Scope::Trace => vec![Dim::Trace],
            Scope::Session => vec![Dim::Session],
            Scope::User => vec![Dim::User],
            Scope::Model => vec![Dim::Model],
            Scope::Name => vec![Dim::Name],
            Scope::Attr(k) => vec![Dim::Attr(k.clone())],
            Scope::Day | Scope::Week | Scope::Month => vec![Dim::Day],
            Scope::Total => vec![],
        }
    }

    /// The member a report row's scope key belongs to (`day` rows fold into weeks and
    /// months); `None` for calls without one (no session, no user).
    fn member(&self, key: &mut [Option<String>]) -> Option<String> {
        match self {
            Scope::Total => Some("total".into()),
            Scope::Week => {
                let d = NaiveDate::parse_from_str(key.first()?.as_deref()?, "%Y-%m-%d").ok()?;
                let w = d.iso_week();
                Some(format!("{}-W{:02}", w.year(), w.week()))
            }
            Scope::Month => key
                .first()?
                .as_deref()
                .map(|d| d[..7.min(d.len())].to_string()),
            // The member is the key itself: moved out of the row, not copied.
            _ => key.first_mut()?.take(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Fail,
    Warn,
}

/// A per-member quantity a limit bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    CostUsd,
    InputTokens,
    OutputTokens,
    TotalTokens,
    ReasoningTokens,
    CacheReadTokens,
    CacheWriteTokens,
    Calls,
    /// The wall time of the member's traces, summed: each trace from its first span's
    /// start to its last span's end.
    DurationMs,
    /// Spans with an error status in the member's traces.
    Errors,
    /// Cache-read input tokens over all input tokens; members without input have none.
    CacheHitRatio,
}

impl Metric {
    const ALL: [(&'static str, Metric); 10] = [
        ("cost_usd", Metric::CostUsd),
        ("input_tokens", Metric::InputTokens),
        ("output_tokens", Metric::OutputTokens),
        ("total_tokens", Metric::TotalTokens),
        ("reasoning_tokens", Metric::ReasoningTokens),
        ("cache_read_tokens", Metric::CacheReadTokens),
        ("cache_write_tokens", Metric::CacheWriteTokens),
        ("calls", Metric::Calls),
        ("duration_ms", Metric::DurationMs),
        ("errors", Metric::Errors),
    ];

    /// Whether the value is of the member's traces' spans, not of its calls.
    fn of_traces(self) -> bool {
        matches!(self, Metric::DurationMs | Metric::Errors)
    }

    /// The value of a member's calls; `None` for a member without input (the cache-hit
    /// ratio) and for the metrics of traces (`Member::value` has those).
    pub fn of(self, m: &Metrics) -> Option<Decimal> {
        Some(match self {
            Metric::DurationMs | Metric::Errors => return None,
            Metric::CostUsd => m.cost_usd,
            Metric::InputTokens => m.input_tokens.into(),
            Metric::OutputTokens => m.output_tokens.into(),
            Metric::TotalTokens => m.total_tokens().into(),
            Metric::ReasoningTokens => m.reasoning_tokens.into(),
            Metric::CacheReadTokens => m.cache_read_tokens.into(),
            Metric::CacheWriteTokens => m.cache_write_tokens.into(),
            Metric::Calls => m.calls.into(),
            Metric::CacheHitRatio => {
                if m.input_tokens <= 0 {
                    return None;
                }
                Decimal::from(m.cache_read_tokens) / Decimal::from(m.input_tokens)
            }
        })
    }
}

/// How a limit applies: to every member, or to a percentile over the members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Each,
    /// The p-th percentile (50, 90, 95, 99) over the members' values.
    Percentile(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Max,
    Min,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// The key as written (`max_cost_usd`, `p95_total_tokens`).
    pub key: String,
    pub metric: Metric,
    pub stat: Stat,
    pub bound: Bound,
    pub value: Decimal,
}

impl Limit {
    fn exceeded_by(&self, v: Decimal) -> bool {
        match self.bound {
            Bound::Max => v > self.value,
            Bound::Min => v < self.value,
        }
    }

    /// How far a value is inside the limit: negative past it.
    pub fn margin(&self, v: Decimal) -> Decimal {
        match self.bound {
            Bound::Max => self.value - v,
            Bound::Min => v - self.value,
        }
    }
}

/// A rule's filters, resolved when the file is read (globs compiled, times parsed).
#[derive(Debug, Default)]
pub struct RuleFilter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub model: Option<globset::GlobMatcher>,
    /// A glob on the root span's name.
    pub name: Option<globset::GlobMatcher>,
    pub service: Option<String>,
    pub session: Option<String>,
    pub user: Option<String>,
    pub trace: Option<String>,
    pub where_attrs: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Rule {
    /// 1-based position in the file.
    pub index: usize,
    pub name: Option<String>,
    pub line: usize,
    pub scope: Scope,
    pub level: Level,
    pub allow_unpriced: bool,
    pub limits: Vec<Limit>,
    pub filter: RuleFilter,
}

impl Rule {
    /// Whether a limit is on the member's traces (durations, errors), which the calls'
    /// report does not carry.
    fn on_traces(&self) -> bool {
        self.limits.iter().any(|l| l.metric.of_traces())
    }

    /// `rule 2 ("cost per test case")`.
    pub fn label(&self) -> String {
        label(self.index, self.name.as_deref())
    }
}

fn label(index: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("rule {index} ({n:?})"),
        None => format!("rule {index}"),
    }
}

#[derive(Debug)]
pub struct Budget {
    pub file: String,
    pub rules: Vec<Rule>,
}

const RULE_KEYS: [&str; 5] = ["name", "scope", "level", "allow_unpriced", "filter"];
const FILTER_KEYS: [&str; 9] = [
    "service", "model", "name", "session", "user", "trace", "where", "since", "until",
];

/// The limit a key names, if it names one: `max_<metric>`, `p50|p90|p95|p99_<metric>`,
/// `min_cache_hit_ratio`.
fn limit_kind(key: &str) -> Option<(Metric, Stat, Bound)> {
    if key == "min_cache_hit_ratio" {
        return Some((Metric::CacheHitRatio, Stat::Each, Bound::Min));
    }
    let (stat, rest) = if let Some(r) = key.strip_prefix("max_") {
        (Stat::Each, r)
    } else {
        let (p, r) = key.split_once('_')?;
        let p = match p {
            "p50" => 50,
            "p90" => 90,
            "p95" => 95,
            "p99" => 99,
            _ => return None,
        };
        (Stat::Percentile(p), r)
    };
    let metric = Metric::ALL.iter().find(|(n, _)| *n == rest)?.1;
    Some((metric, stat, Bound::Max))
}

/// Every limit key, for the suggestion of an unknown key.
fn limit_keys() -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (m, _) in Metric::ALL {
        keys.push(format!("max_{m}"));
    }
    for p in ["p50", "p90", "p95", "p99"] {
        for (m, _) in Metric::ALL {
            keys.push(format!("{p}_{m}"));
        }
    }
    keys.push("min_cache_hit_ratio".into());
    keys
}

/// Reads and checks a budget file; relative times (`since = "7d"`) count back from `now`.
pub fn load(path: &Path, now: DateTime<Utc>) -> Result<Budget, BudgetError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BudgetError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file, now)
}

type Spanned<T> = toml::Spanned<T>;

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    rule: String,
    now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    fn err(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> BudgetError {
        BudgetError::Invalid {
            file: self.file.to_string(),
            line: self.line(span),
            rule: self.rule.clone(),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn string<'v>(cx: &Ctx, key: &str, v: &'v Spanned<DeValue>) -> Result<&'v str, BudgetError> {
    match v.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        other => Err(cx.err(
            v.span(),
            key,
            format!("expected a string, found {}", type_name(other)),
        )),
    }
}

/// A number as the exact decimal its TOML text says.
fn number(
    cx: &Ctx,
    key: &str,
    v: &Spanned<DeValue>,
    integer: bool,
) -> Result<Decimal, BudgetError> {
    let bad = |what: &str| cx.err(v.span(), key, what.to_string());
    let d = match v.get_ref() {
        DeValue::Integer(i) => {
            if i.radix() != 10 {
                i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                    .map(Decimal::from)
                    .map_err(|_| bad("integer out of range"))?
            } else {
                Decimal::from_str(&i.as_str().replace('_', ""))
                    .map_err(|_| bad("integer out of range"))?
            }
        }
        DeValue::Float(f) if !integer => {
            let t = f.as_str().replace('_', "");
            Decimal::from_str(&t)
                .or_else(|_| Decimal::from_scientific(&t))
                .map_err(|_| bad(&format!("{t} is not a finite decimal")))?
        }
        other => {
            let want = if integer { "an integer" } else { "a number" };
            return Err(bad(&format!("expected {want}, found {}", type_name(other))));
        }
    };
    if d.is_sign_negative() && !d.is_zero() {
        return Err(bad(&format!("a limit cannot be negative ({d})")));
    }
    Ok(d)
}

fn glob(cx: &Ctx, key: &str, v: &Spanned<DeValue>) -> Result<globset::GlobMatcher, BudgetError> {
    let s = string(cx, key, v)?;
    globset::Glob::new(&s.to_ascii_lowercase())
        .map(|g| g.compile_matcher())
        .map_err(|e| cx.err(v.span(), key, format!("invalid glob: {e}")))
}

/// Parses a budget's TOML text; `file` names it in errors.
pub fn parse(text: &str, file: &str, now: DateTime<Utc>) -> Result<Budget, BudgetError> {
    let root = DeTable::parse(text).map_err(|e| BudgetError::Syntax {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let top = Ctx {
        text,
        file,
        rule: "budget".into(),
        now,
    };
    let mut rules = Vec::new();
    for (k, v) in root.get_ref().iter() {
        if k.get_ref() != "rule" {
            return Err(top.err(
                k.span(),
                k.get_ref(),
                "unknown key (a budget has [[rule]] tables only)",
            ));
        }
        let DeValue::Array(items) = v.get_ref() else {
            return Err(top.err(
                v.span(),
                "rule",
                format!("expected [[rule]] tables, found {}", type_name(v.get_ref())),
            ));
        };
        for (i, item) in items.iter().enumerate() {
            rules.push(parse_rule(&top, i + 1, item)?);
        }
    }
    if rules.is_empty() {
        return Err(top.err(0..0, "rule", "the budget has no [[rule]]"));
    }
    Ok(Budget {
        file: file.to_string(),
        rules,
    })
}

fn parse_rule(top: &Ctx, index: usize, item: &Spanned<DeValue>) -> Result<Rule, BudgetError> {
    let mut cx = Ctx {
        text: top.text,
        file: top.file,
        rule: label(index, None),
        now: top.now,
    };
    let DeValue::Table(t) = item.get_ref() else {
        return Err(cx.err(
            item.span(),
            "rule",
            format!("expected a table, found {}", type_name(item.get_ref())),
        ));
    };
    // The name first, so that every later message names the rule.
    let mut name = None;
    for (k, v) in t.iter() {
        if k.get_ref() == "name" {
            name = Some(string(&cx, "name", v)?.to_string());
        }
    }
    cx.rule = label(index, name.as_deref());
    let mut rule = Rule {
        index,
        name,
        line: cx.line(item.span()),
        scope: Scope::Trace,
        level: Level::Fail,
        allow_unpriced: false,
        limits: Vec::new(),
        filter: RuleFilter::default(),
    };
    let mut scope_seen = false;
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        match key {
            "name" => {}
            "scope" => {
                let s = string(&cx, key, v)?;
                rule.scope = Scope::parse(s).ok_or_else(|| {
                    cx.err(
                        v.span(),
                        key,
                        crate::suggest::unknown("unknown scope", s, &SCOPES),
                    )
                })?;
                scope_seen = true;
            }
            "level" => {
                rule.level = match string(&cx, key, v)? {
                    "fail" => Level::Fail,
                    "warn" => Level::Warn,
                    other => {
                        return Err(cx.err(
                            v.span(),
                            key,
                            format!("expected \"fail\" or \"warn\", found {other:?}"),
                        ));
                    }
                }
            }
            "allow_unpriced" => match v.get_ref() {
                DeValue::Boolean(b) => rule.allow_unpriced = *b,
                other => {
                    return Err(cx.err(
                        v.span(),
                        key,
                        format!("expected a boolean, found {}", type_name(other)),
                    ));
                }
            },
            "filter" => rule.filter = parse_filter(&cx, v)?,
            _ => {
                let Some((metric, stat, bound)) = limit_kind(key) else {
                    let mut known: Vec<String> = RULE_KEYS.iter().map(|s| s.to_string()).collect();
                    known.extend(limit_keys());
                    let names: Vec<&str> = known.iter().map(String::as_str).collect();
                    let hint = crate::suggest::closest(key, &names)
                        .map(|c| format!(": did you mean {c}?"))
                        .unwrap_or_default();
                    let metrics: Vec<&str> = Metric::ALL.iter().map(|(n, _)| *n).collect();
                    return Err(cx.err(
                        k.span(),
                        key,
                        format!(
                            "unknown key {key:?}{hint} (a rule has {}, and limits max_METRIC, p50|p90|p95|p99_METRIC, min_cache_hit_ratio; METRIC is one of {})",
                            RULE_KEYS.join(", "),
                            metrics.join(", ")
                        ),
                    ));
                };
                let integer = !matches!(
                    metric,
                    Metric::CostUsd | Metric::CacheHitRatio | Metric::DurationMs
                );
                let value = number(&cx, key, v, integer)?;
                if metric == Metric::CacheHitRatio && value > Decimal::ONE {
                    return Err(cx.err(v.span(), key, "a ratio is between 0 and 1"));
                }
                rule.limits.push(Limit {
                    key: key.to_string(),
                    metric,
                    stat,
                    bound,
                    value,
                });
            }
        }
    }
    if !scope_seen {
        return Err(cx.err(
            item.span(),
            "scope",
            format!("missing (one of {})", SCOPES.join(", ")),
        ));
    }
    if rule.limits.is_empty() {
        return Err(cx.err(
            item.span(),
            "max_*",
            "a rule needs at least one limit (max_cost_usd, max_total_tokens, p95_cost_usd, min_cache_hit_ratio, ...)",
        ));
    }
    Ok(rule)
}

fn parse_filter(cx: &Ctx, v: &Spanned<DeValue>) -> Result<RuleFilter, BudgetError> {
    let DeValue::Table(t) = v.get_ref() else {
        return Err(cx.err(
            v.span(),
            "filter",
            format!("expected a table, found {}", type_name(v.get_ref())),
        ));
    };
    let now = cx.now;
    let mut f = RuleFilter::default();
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let full = format!("filter.{key}");
        let text = || string(cx, &full, v).map(String::from);
        match key {
            "service" => f.service = Some(text()?),
            "session" => f.session = Some(text()?),
            "user" => f.user = Some(text()?),
            "trace" => f.trace = Some(text()?),
            "model" => f.model = Some(glob(cx, &full, v)?),
            "name" => f.name = Some(glob(cx, &full, v)?),
            "since" | "until" => {
                let s = text()?;
                let t = parse_time_bound(&s, now)
                    .map_err(|e| cx.err(v.span(), &full, e.to_string()))?;
                if key == "since" {
                    f.since = Some(t);
                } else {
                    f.until = Some(t);
                }
            }
            "where" => {
                let DeValue::Table(w) = v.get_ref() else {
                    return Err(cx.err(
                        v.span(),
                        &full,
                        format!(
                            "expected a table of attribute = \"value\", found {}",
                            type_name(v.get_ref())
                        ),
                    ));
                };
                for (ak, av) in w.iter() {
                    let akey = format!("filter.where.{}", ak.get_ref());
                    let val = string(cx, &akey, av)?;
                    f.where_attrs
                        .push((ak.get_ref().to_string(), val.to_string()));
                }
            }
            _ => {
                return Err(cx.err(
                    k.span(),
                    &full,
                    crate::suggest::unknown("unknown filter", key, &FILTER_KEYS),
                ));
            }
        }
    }
    Ok(f)
}

/// One member's value against a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The member (a trace id, a session, `2026-W48`), or for a percentile
    /// `p95 of 12 traces`.
    pub member: String,
    /// The value; for a cost with unpriced calls, that of the priced calls only.
    pub value: Decimal,
    /// The models without a price whose calls are not in `value`.
    pub unpriced_models: Vec<String>,
    pub exceeded: bool,
}

/// One limit of a rule, checked.
#[derive(Debug, Clone)]
pub struct LimitCheck {
    pub limit: Limit,
    /// The members past the limit, the worst first.
    pub offenders: Vec<Finding>,
    /// The member closest to (or furthest past) the limit, when there is any.
    pub worst: Option<Finding>,
    /// Members that had a value to compare.
    pub checked: usize,
    /// For a period scope, where the latest period is heading.
    pub projection: Option<Projection>,
}

/// Where a period is heading at the rate of the period so far: from its start to its
/// newest call. The newest call, not the clock, is "now": a check of the same calls says
/// the same whenever it runs, and the store's data may end long before today.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The period (`2026-W48`).
    pub period: String,
    /// Its start and end, and its newest call (Unix ns).
    pub start: i64,
    pub end: i64,
    pub now: i64,
    pub value: Decimal,
    /// The value at the period's end at this rate.
    pub projected: Decimal,
    /// When the limit is crossed at this rate, if before the period ends.
    pub crosses_at: Option<i64>,
}

impl Scope {
    /// The start and end (Unix ns) of the period a member of a period scope names.
    fn period(&self, member: &str) -> Option<(i64, i64)> {
        let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
        let (start, end) = match self {
            Scope::Day => {
                let d = NaiveDate::parse_from_str(member, "%Y-%m-%d").ok()?;
                (d, d.succ_opt()?)
            }
            Scope::Week => {
                let (y, w) = member.split_once("-W")?;
                let d = NaiveDate::from_isoywd_opt(
                    y.parse().ok()?,
                    w.parse().ok()?,
                    chrono::Weekday::Mon,
                )?;
                (d, d.checked_add_days(chrono::Days::new(7))?)
            }
            Scope::Month => {
                let (y, m) = member.split_once('-')?;
                let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
                let next = if m == 12 {
                    day(y + 1, 1, 1)
                } else {
                    day(y, m + 1, 1)
                };
                (day(y, m, 1)?, next?)
            }
            _ => return None,
        };
        let ns = |d: NaiveDate| d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
        Some((ns(start)?, ns(end)?))
    }
}

/// The projection of a `max_` limit over the latest period of a period scope.
fn project(rule: &Rule, limit: &Limit, members: &Members) -> Option<Projection> {
    if limit.stat != Stat::Each
        || limit.bound != Bound::Max
        || limit.metric == Metric::CacheHitRatio
    {
        return None;
    }
    let (period, m) = members
        .iter()
        .filter(|(_, m)| m.metrics.last_start.is_some())
        .max_by_key(|(k, m)| (m.metrics.last_start, k))?;
    let (start, end) = rule.scope.period(period)?;
    let now = m.metrics.last_start?;
    let value = m.value(limit.metric)?;
    let elapsed = Decimal::from(now.checked_sub(start).filter(|e| *e > 0)?);
    let length = Decimal::from(end.checked_sub(start)?);
    let projected = value.checked_mul(length)?.checked_div(elapsed)?;
    // At this rate the limit is reached `limit / value` of the way from start to now.
    let crosses_at = if value.is_zero() || value > limit.value {
        None
    } else {
        let offset = limit.value.checked_mul(elapsed)?.checked_div(value)?;
        (offset < length)
            .then(|| rust_decimal::prelude::ToPrimitive::to_i64(&offset.floor()))
            .flatten()
            .and_then(|o| start.checked_add(o))
    };
    Some(Projection {
        period: period.clone(),
        start,
        end,
        now,
        value,
        projected,
        crosses_at,
    })
}

impl LimitCheck {
    pub fn held(&self) -> bool {
        self.offenders.is_empty()
    }
}

/// A rule, checked.
#[derive(Debug)]
pub struct Verdict<'a> {
    pub rule: &'a Rule,
    pub members: usize,
    /// Every member, in order: a JUnit report has a test case for each.
    pub member_keys: Vec<String>,
    pub checks: Vec<LimitCheck>,
}

impl Verdict<'_> {
    pub fn held(&self) -> bool {
        self.checks.iter().all(LimitCheck::held)
    }
}

/// A rule's members, each once, in order.
pub type Members = Vec<(String, Member)>;

/// One member's sums, and the models of its calls without a price.
#[derive(Debug, Default, Clone)]
pub struct Member {
    pub metrics: Metrics,
    pub unpriced_models: std::collections::BTreeSet<String>,
    /// The traces of the member's calls, when a limit of the rule is on traces.
    pub traces: std::collections::BTreeSet<String>,
    /// Those traces' summed wall time (ns) and error spans.
    pub duration_ns: i64,
    pub errors: u64,
}

impl Member {
    pub fn value(&self, metric: Metric) -> Option<Decimal> {
        match metric {
            Metric::DurationMs => Some(Decimal::from(self.duration_ns) / Decimal::from(1_000_000)),
            Metric::Errors => Some(self.errors.into()),
            m => m.of(&self.metrics),
        }
    }
}

/// The report grouping a rule's members are folded from: the scope, then the root name
/// when the rule filters on it, then the model (to name unpriced models).
fn grouping(rule: &Rule) -> Vec<Dim> {
    let mut dims = rule.scope.dims();
    if rule.filter.name.is_some() {
        dims.push(Dim::Name);
    }
    if rule.on_traces() {
        dims.push(Dim::Trace);
    }
    dims.push(Dim::Model);
    dims
}

/// The report filter of rules that share `f`, over the attributes `attr_keys` (which
/// hold every `where` key of `f`).
fn call_filter(f: &RuleFilter, attr_keys: &[String]) -> CallFilter {
    CallFilter {
        since: f.since,
        until: f.until,
        model: f.model.clone(),
        service: f.service.clone(),
        session: f.session.clone(),
        user: f.user.clone(),
        trace: f.trace.clone(),
        where_attrs: f
            .where_attrs
            .iter()
            .map(|(k, v)| {
                let i = attr_keys.iter().position(|x| x == k).unwrap_or(usize::MAX);
                (i, v.clone())
            })
            .collect(),
    }
}

/// The members of each of `rules`, which share one filter, from one reading of the
/// source.
fn members_of(
    source: Source,
    pricing: &Pricing,
    rules: &[&Rule],
    refused: &RefusedValues,
) -> Result<Vec<Members>, SourceError> {
    let Some(first) = rules.first() else {
        return Ok(Vec::new());
    };
    let mut attr_keys: Vec<String> = Vec::new();
    for k in first
        .filter
        .where_attrs
        .iter()
        .map(|(k, _)| k)
        .chain(rules.iter().filter_map(|r| match &r.scope {
            Scope::Attr(k) => Some(k),
            _ => None,
        }))
    {
        if !attr_keys.contains(k) {
            attr_keys.push(k.clone());
        }
    }
    let filter = call_filter(&first.filter, &attr_keys);
    let groupings = rules.iter().map(|r| grouping(r)).collect();
    let (reports, _) = cost_reports(source, pricing, groupings, &filter, &attr_keys, refused)?;
    let mut members: Vec<Members> = rules
        .iter()
        .zip(reports)
        .map(|(r, report)| fold(report, r, r.scope.dims().len(), r.filter.name.is_some()))
        .collect();
    if rules.iter().any(|r| r.on_traces()) {
        let traces: foldhash::HashMap<String, (i64, u64)> = trace_rows(source)?
            .into_iter()
            .map(|t| (t.trace_id, (t.duration_ns, t.errors)))
            .collect();
        for (k, m) in members.iter_mut().flatten() {
            add_traces(k, m, &traces)?;
        }
    }
    Ok(members)
}

/// A member's traces' durations and errors, summed, checked: both come from the input.
fn add_traces(
    key: &str,
    m: &mut Member,
    traces: &foldhash::HashMap<String, (i64, u64)>,
) -> Result<(), SumOverflow> {
    let overflow = |field| SumOverflow {
        field,
        group: key.to_string(),
    };
    for t in &m.traces {
        let Some(&(duration, errors)) = traces.get(t) else {
            continue;
        };
        m.duration_ns = m
            .duration_ns
            .checked_add(duration)
            .ok_or_else(|| overflow("duration_ms"))?;
        m.errors = m
            .errors
            .checked_add(errors)
            .ok_or_else(|| overflow("errors"))?;
    }
    Ok(())
}

/// The rule's members from its source, summed per member of its scope.
pub fn members(
    source: Source,
    pricing: &Pricing,
    rule: &Rule,
    refused: &RefusedValues,
) -> Result<Members, SourceError> {
    Ok(members_of(source, pricing, &[rule], refused)?.remove(0))
}

/// The rule's members from the report's rows. Each row becomes a member's part; the
/// parts are put in member order (a member's in the report's order) and merged. A
/// per-trace rule has a member per row: inserting them one by one into a map took a
/// fifth of a check of 200k traces.
fn fold(report: CostReport, rule: &Rule, scope_len: usize, by_name: bool) -> Members {
    let mut parts: Members = Vec::with_capacity(report.rows.len());
    for (mut key, m) in report.rows {
        if by_name {
            let name = key[scope_len].as_deref().unwrap_or_default();
            if !rule
                .filter
                .name
                .as_ref()
                .is_some_and(|g| g.is_match(name.to_ascii_lowercase()))
            {
                continue;
            }
        }
        let Some(member) = rule.scope.member(&mut key[..scope_len]) else {
            continue;
        };
        let mut part = Member::default();
        part.metrics.absorb(&m);
        if rule.on_traces()
            && let Some(t) = key[scope_len + usize::from(by_name)].take()
        {
            part.traces.insert(t);
        }
        if m.unpriced_calls > 0 {
            let model = key
                .last_mut()
                .and_then(Option::take)
                .unwrap_or_else(|| "(no model recorded)".into());
            part.unpriced_models.insert(model);
        }
        parts.push((member, part));
    }
    let mut order: Vec<u32> = (0..parts.len() as u32).collect();
    order.sort_by(|a, b| parts[*a as usize].0.cmp(&parts[*b as usize].0));
    // Each part moved once to its place, following the permutation's cycles: sorting
    // the parts themselves would move each of them many times.
    for start in 0..order.len() {
        let mut j = start;
        while order[j] != u32::MAX {
            let from = order[j] as usize;
            order[j] = u32::MAX;
            if from == start {
                break;
            }
            parts.swap(j, from);
            j = from;
        }
    }
    parts.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        let part = std::mem::take(&mut later.1);
        kept.1.metrics.absorb(&part.metrics);
        kept.1.traces.extend(part.traces);
        kept.1.unpriced_models.extend(part.unpriced_models);
        true
    });
    parts
}

/// The p-th percentile of `values` by linear interpolation between closest ranks
/// (Hyndman and Fan's type 7, numpy's and spreadsheets' PERCENTILE.INC default): over
/// the n values sorted, h = (n - 1) * p / 100, and the value is x[⌊h⌋] + (h - ⌊h⌋) *
/// (x[⌊h⌋ + 1] - x[⌊h⌋]), exact in decimals. `None` for no values.
pub fn percentile(values: &[Decimal], p: u8) -> Option<Decimal> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let h = Decimal::from(n as u64 - 1) * Decimal::from(p) / Decimal::ONE_HUNDRED;
    let lo = h.floor();
    let i = usize::try_from(lo.mantissa() / 10i128.pow(lo.scale())).unwrap_or(0);
    let frac = h - lo;
    let a = v[i];
    let b = v.get(i + 1).copied().unwrap_or(a);
    Some(a + frac * (b - a))
}

/// Checks one rule against its members.
pub fn check_rule<'a>(rule: &'a Rule, members: Members) -> Verdict<'a> {
    let plural = match &rule.scope {
        Scope::Total => "total".to_string(),
        s => format!("{}s", s.name()),
    };
    let checks = rule
        .limits
        .iter()
        .map(|limit| {
            let cost = limit.metric == Metric::CostUsd;
            let unpriced_of = |m: &Member| -> Vec<String> {
                if cost && !rule.allow_unpriced {
                    m.unpriced_models.iter().cloned().collect()
                } else {
                    Vec::new()
                }
            };
            // The worst first: unpriced ones, then the smallest margin; ties by member.
            let rank =
                |exceeded: bool, priced: bool, value| (!exceeded, priced, limit.margin(value));
            let (mut offenders, worst, checked) = match limit.stat {
                // A member is made a finding only when it offends or is the worst so
                // far: a per-trace rule over a large store has a member per trace.
                Stat::Each => {
                    let mut offenders = Vec::new();
                    let mut worst: Option<(Finding, _)> = None;
                    let mut checked = 0;
                    for (k, m) in &members {
                        let Some(value) = m.value(limit.metric) else {
                            continue;
                        };
                        checked += 1;
                        let unpriced_models = unpriced_of(m);
                        let exceeded = limit.exceeded_by(value) || !unpriced_models.is_empty();
                        let this = rank(exceeded, unpriced_models.is_empty(), value);
                        // Members come in order, so the first of equal ranks is the least.
                        let better = worst.as_ref().is_none_or(|(_, r)| this < *r);
                        if !exceeded && !better {
                            continue;
                        }
                        let f = Finding {
                            member: k.clone(),
                            exceeded,
                            value,
                            unpriced_models,
                        };
                        if better {
                            worst = Some((f.clone(), this));
                        }
                        if exceeded {
                            offenders.push(f);
                        }
                    }
                    (offenders, worst.map(|(f, _)| f), checked)
                }
                Stat::Percentile(p) => {
                    let values: Vec<Decimal> = members
                        .iter()
                        .filter_map(|(_, m)| m.value(limit.metric))
                        .collect();
                    let unpriced: std::collections::BTreeSet<String> =
                        members.iter().flat_map(|(_, m)| unpriced_of(m)).collect();
                    let finding = percentile(&values, p).map(|value| Finding {
                        member: format!("p{p} of {} {plural}", values.len()),
                        exceeded: limit.exceeded_by(value) || !unpriced.is_empty(),
                        value,
                        unpriced_models: unpriced.into_iter().collect(),
                    });
                    let offenders = finding.iter().filter(|f| f.exceeded).cloned().collect();
                    let checked = usize::from(finding.is_some());
                    (offenders, finding, checked)
                }
            };
            offenders.sort_by_cached_key(|f| {
                let priced = f.unpriced_models.is_empty();
                (rank(f.exceeded, priced, f.value), f.member.clone())
            });
            LimitCheck {
                limit: limit.clone(),
                offenders,
                worst,
                checked,
                projection: project(rule, limit, &members),
            }
        })
        .collect();
    Verdict {
        rule,
        members: members.len(),
        member_keys: members.into_iter().map(|(k, _)| k).collect(),
        checks,
    }
}

/// Checks every rule of a budget over the source: the rules that share a filter from
/// one reading of it.
pub fn check<'a>(
    budget: &'a Budget,
    source: Source,
    pricing: &Pricing,
    refused: &RefusedValues,
) -> Result<Vec<Verdict<'a>>, SourceError> {
    // Filters alike in every field (globs by their pattern) print alike.
    let mut by_filter: Vec<(String, Vec<&Rule>)> = Vec::new();
    for r in &budget.rules {
        let key = format!("{:?}", r.filter);
        match by_filter.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rules)) => rules.push(r),
            None => by_filter.push((key, vec![r])),
        }
    }
    let mut verdicts = Vec::new();
    for (_, rules) in &by_filter {
        let members = members_of(source, pricing, rules, refused)?;
        verdicts.extend(rules.iter().zip(members).map(|(r, m)| check_rule(r, m)));
    }
    verdicts.sort_by_key(|v| v.rule.index);
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        let v: Vec<Decimal> = ["4", "1", "3", "2", "10"].iter().map(|s| d(s)).collect();
        // sorted 1 2 3 4 10; p50: h = 2 → 3; p90: h = 3.6 → 4 + 0.6 * 6 = 7.6;
        // p95: h = 3.8 → 4 + 0.8 * 6 = 8.8; p99: h = 3.96 → 4 + 0.96 * 6 = 9.76.
        assert_eq!(percentile(&v, 50), Some(d("3")));
        assert_eq!(percentile(&v, 90), Some(d("7.6")));
        assert_eq!(percentile(&v, 95), Some(d("8.8")));
        assert_eq!(percentile(&v, 99), Some(d("9.76")));
        assert_eq!(percentile(&[d("0.5")], 95), Some(d("0.5")));
        assert_eq!(percentile(&[], 95), None);
    }

    #[test]
    fn weeks_and_months_are_utc_calendar_periods() {
        let k = |s: &str| vec![Some(s.to_string())];
        assert_eq!(
            Scope::Week.member(&mut k("2026-11-30")).as_deref(),
            Some("2026-W49")
        );
        assert_eq!(
            Scope::Week.member(&mut k("2027-01-01")).as_deref(),
            Some("2026-W53")
        );
        assert_eq!(
            Scope::Month.member(&mut k("2026-11-30")).as_deref(),
            Some("2026-11")
        );
    }

    #[test]
    fn money_limits_are_exact() {
        let b = parse(
            "[[rule]]\nscope = \"total\"\nmax_cost_usd = 0.1000000000000000055511\n",
            "b.toml",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(b.rules[0].limits[0].value, d("0.1000000000000000055511"));
    }
}

/// The baseline gate: per member of a dimension (the root span name by default), the
/// calls, tokens and cost of the checked calls against a baseline's.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// The most a metric may grow, in percent of its baseline value.
    pub max_increase_pct: Option<Decimal>,
    /// The most a member's cost may grow, in dollars.
    pub max_increase_usd: Option<Decimal>,
}

/// One metric of one member present in both.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub member: String,
    /// `calls`, `total_tokens` or `cost_usd`.
    pub metric: &'static str,
    /// `+10%` or `+$0.01`: the allowance that decided `allowed`.
    pub limit: String,
    pub base: Decimal,
    pub head: Decimal,
    /// The most `head` may be.
    pub allowed: Decimal,
    pub exceeded: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// The changes, the largest excess first.
    pub changes: Vec<Change>,
    /// Members only in the checked calls, and only in the baseline, with their cost.
    pub new: Vec<(String, Decimal)>,
    pub vanished: Vec<(String, Decimal)>,
}

impl Comparison {
    pub fn held(&self) -> bool {
        self.changes.iter().all(|c| !c.exceeded)
    }
}

fn by_member(r: &CostReport) -> BTreeMap<String, &Metrics> {
    r.rows
        .iter()
        .map(|(k, m)| {
            let key = k
                .first()
                .cloned()
                .flatten()
                .unwrap_or_else(|| "(none)".into());
            (key, m)
        })
        .collect()
}

/// One member of two reports grouped by the same dimension: its sums in each, `None`
/// where it has no calls.
#[derive(Debug, Clone)]
pub struct MemberDiff<'a> {
    pub member: String,
    pub base: Option<&'a Metrics>,
    pub head: Option<&'a Metrics>,
}

impl MemberDiff<'_> {
    /// Head's cost less base's, a missing side counting as zero.
    pub fn cost_change(&self) -> Decimal {
        let cost = |m: Option<&Metrics>| m.map_or(Decimal::ZERO, |m| m.cost_usd);
        cost(self.head) - cost(self.base)
    }
}

/// Every member of either report, the largest change of cost (either way) first; ties
/// by member.
pub fn diff<'a>(base: &'a CostReport, head: &'a CostReport) -> Vec<MemberDiff<'a>> {
    let (b, h) = (by_member(base), by_member(head));
    let mut keys: Vec<&String> = b.keys().chain(h.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<MemberDiff> = keys
        .into_iter()
        .map(|k| MemberDiff {
            member: k.clone(),
            base: b.get(k).copied(),
            head: h.get(k).copied(),
        })
        .collect();
    out.sort_by(|x, y| (y.cost_change().abs(), &x.member).cmp(&(x.cost_change().abs(), &y.member)));
    out
}

/// The reports of a base and a head grouped by `dim`, every call of each: what the
/// baseline gate and `traces diff` compare.
pub fn reports_by(
    base: Source,
    head: Source,
    pricing: &Pricing,
    dim: &Dim,
    refused: &RefusedValues,
) -> Result<(CostReport, CostReport), SourceError> {
    let attr_keys: Vec<String> = match dim {
        Dim::Attr(k) => vec![k.clone()],
        _ => Vec::new(),
    };
    let filter = CallFilter::default();
    let report = |s: Source| {
        super::source::cost_report(s, pricing, vec![dim.clone()], &filter, &attr_keys, refused)
            .map(|(r, _)| r)
    };
    Ok((report(base)?, report(head)?))
}

/// Compares two reports grouped by the same one dimension. Without any allowance the
/// gate allows 10%.
pub fn compare(base: &CostReport, head: &CostReport, gate: &Gate) -> Comparison {
    let pct = match (gate.max_increase_pct, gate.max_increase_usd) {
        (None, None) => Some(Decimal::TEN),
        (p, _) => p,
    };
    let mut out = Comparison::default();
    for d in diff(base, head) {
        let k = &d.member;
        let (bm, hm) = match (d.base, d.head) {
            (Some(b), Some(h)) => (b, h),
            (None, Some(h)) => {
                out.new.push((k.clone(), h.cost_usd));
                continue;
            }
            (Some(b), None) => {
                out.vanished.push((k.clone(), b.cost_usd));
                continue;
            }
            (None, None) => continue,
        };
        let metrics: [(&'static str, Decimal, Decimal); 3] = [
            ("calls", bm.calls.into(), hm.calls.into()),
            (
                "total_tokens",
                bm.total_tokens().into(),
                hm.total_tokens().into(),
            ),
            ("cost_usd", bm.cost_usd, hm.cost_usd),
        ];
        for (metric, bv, hv) in metrics {
            let mut change = |limit: String, allowed: Decimal| {
                out.changes.push(Change {
                    member: k.clone(),
                    metric,
                    limit,
                    base: bv,
                    head: hv,
                    allowed,
                    exceeded: hv > allowed,
                })
            };
            if let Some(p) = pct {
                change(
                    format!("+{}%", p.normalize()),
                    bv + bv * p / Decimal::ONE_HUNDRED,
                );
            }
            if let (Some(usd), "cost_usd") = (gate.max_increase_usd, metric) {
                change(format!("+${}", usd.normalize()), bv + usd);
            }
        }
    }
    out.new.sort();
    out.vanished.sort();
    out.changes.sort_by(|x, y| {
        (x.allowed - x.head, &x.member, x.metric).cmp(&(y.allowed - y.head, &y.member, y.metric))
    });
    out
}

/// `10%`, `10` or `2.5%` as percent.
pub fn parse_percent(s: &str) -> Result<Decimal, String> {
    let t = s.trim().trim_end_matches('%');
    match Decimal::from_str(t) {
        Ok(d) if !d.is_sign_negative() => Ok(d),
        _ => Err(format!(
            "--max-increase {s:?}: expected a percentage like 10% or 2.5%"
        )),
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("10%"), Ok(Decimal::TEN));
        assert_eq!(parse_percent("2.5"), Ok(Decimal::new(25, 1)));
        assert!(parse_percent("-5%").is_err());
        assert!(parse_percent("ten").is_err());
    }
}
