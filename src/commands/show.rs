//! `traces show ID [DUMP...]`: one trace's header, span tree (or `--timeline`) and the
//! conversation its model calls held, as text for people or one JSON document.

use crate::cli::ShowArgs;
use anyhow::Result;
use rust_decimal::Decimal;
use serde::Serialize;
use std::io::Write;
use traces::analysis::cost_report::{Metrics, SumOverflow};
use traces::analysis::show::{
    Conversation, Counted, Entry, Tally, Tone, TraceShow, Transcript, continues, display_name,
    duration_text as ms, earlier_in_chain, load_session, load_trace, part_text, show,
};
use traces::analysis::source::Source;
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::{OutputFormat, exact_number, group_digits, shorten_middle, utc_millis};
use unicode_width::UnicodeWidthStr;

pub fn run(stores: &StoreSet, pricing_files: &[std::path::PathBuf], args: &ShowArgs) -> Result<()> {
    // With --session, what stands in the id's place is the first dump.
    let mut dumps = args.paths.clone();
    let id = match (&args.session, &args.id) {
        (Some(_), Some(first)) => {
            dumps.insert(0, first.into());
            None
        }
        (_, id) => id.clone(),
    };
    let source = Source::of(stores, &dumps);
    if dumps.is_empty() {
        super::require_store(stores, "show")?;
    }
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(|p| p.as_path()).collect();
    let pricing = Pricing::load(&paths)?;
    if let Some(sid) = &args.session {
        return session(source, sid, &pricing, args);
    }
    let t = show(load_trace(source, &id.unwrap_or_default())?, &pricing)?;
    // A Responses API chain that began in other traces: their part comes first.
    let earlier = match continues(&t) {
        Some(_) => earlier_in_chain(source, &t, &pricing)?,
        None => Vec::new(),
    };
    let mut transcript = Transcript::default();
    let earlier: Vec<(TraceShow, Conversation)> = earlier
        .into_iter()
        .map(|e| {
            let c = transcript.add(&e);
            (e, c)
        })
        .collect();
    let conv = transcript.add(&t);
    if let Some(p) = continues(&t)
        && earlier.is_empty()
    {
        super::say::warn(format_args!(
            "the conversation continues response {p}, which no trace here produced: its earlier turns are not shown"
        ));
    }
    for w in warnings(&t) {
        super::say::warn(w);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.output.format {
        OutputFormat::Json => {
            let mut doc = serde_json::to_value(document(&t, &conv))?;
            doc["earlier_in_chain"] = earlier
                .iter()
                .map(|(e, c)| serde_json::json!({"trace_id": e.trace_id.to_string(), "conversation": c}))
                .collect();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        _ => {
            let view = super::say::view(&args.output);
            let width = if args.full { usize::MAX } else { view.width };
            let paint = Paint(view.color);
            header(&mut out, &t)?;
            writeln!(out)?;
            if args.timeline {
                timeline(&mut out, &t, view.width, paint)?;
            } else if !args.conversation {
                tree(&mut out, &t, width, paint)?;
            }
            for (e, c) in &earlier {
                writeln!(out)?;
                writeln!(
                    out,
                    "earlier in the Responses chain: trace {} ({})",
                    e.trace_id,
                    e.root_name()
                )?;
                transcript_lines(&mut out, e, c, width, args.conversation || args.full)?;
            }
            if !conv.entries.is_empty() || !conv.system.is_empty() {
                writeln!(out)?;
                transcript_lines(&mut out, &t, &conv, width, args.conversation || args.full)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `--session SID`: each trace of the session with its part of the conversation (a
/// trace that repeats the previous one's transcript continues it), then the totals.
fn session(source: Source, sid: &str, pricing: &Pricing, args: &ShowArgs) -> Result<()> {
    let mut transcript = Transcript::default();
    let mut shown = Vec::new();
    for records in load_session(source, sid)? {
        let t = show(records, pricing)?;
        let c = transcript.add(&t);
        shown.push((t, c));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // Summed as reports sum groups: checked, an impossible sum refused.
    let mut sum = Metrics::default();
    for (t, _) in &shown {
        sum.absorb(&t.report.total);
    }
    if let Some(field) = sum.overflow {
        return Err(SumOverflow {
            field,
            group: format!("session {sid}"),
        }
        .into());
    }
    let total = Tally::of(&sum);
    if args.output.format == OutputFormat::Json {
        let traces: Vec<Document> = shown.iter().map(|(t, c)| document(t, c)).collect();
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"session_id": sid, "traces": traces, "totals": total}),
        )?;
        writeln!(out)?;
    } else {
        let view = super::say::view(&args.output);
        let width = if args.full { usize::MAX } else { view.width };
        for (t, c) in &shown {
            header(&mut out, t)?;
            if !c.entries.is_empty() {
                transcript_lines(&mut out, t, c, width, args.conversation || args.full)?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "session {sid}: {} traces, {} calls, tokens {} in ({} cached) / {} out ({} reasoning), cost {}, unpriced calls {}",
            shown.len(),
            total.calls,
            group_digits(&total.input_tokens.to_string()),
            group_digits(&total.cache_read_tokens.to_string()),
            group_digits(&total.output_tokens.to_string()),
            group_digits(&total.reasoning_tokens.to_string()),
            dollars(total.cost_usd),
            total.unpriced_calls
        )?;
    }
    out.flush()?;
    Ok(())
}

/// What the trace's shape makes worth saying.
fn warnings(t: &TraceShow) -> Vec<String> {
    let mut w = Vec::new();
    for (i, p) in t.tree.missing_parent.iter().enumerate() {
        if let Some(p) = p {
            w.push(format!(
                "span {} ({:?}) names parent {p}, which is not in the trace: shown under a placeholder",
                t.spans[i].raw.span_id, t.spans[i].raw.name
            ));
        }
    }
    for &i in &t.tree.cycles_cut {
        w.push(format!(
            "span {} ({:?}) closes a parent cycle: its parent link is cut and it is shown as a root",
            t.spans[i].raw.span_id, t.spans[i].raw.name
        ));
    }
    if t.repeated_span_ids > 0 {
        w.push(format!(
            "{} span(s) repeat the id of an earlier span: the first is shown",
            t.repeated_span_ids
        ));
    }
    w
}

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn red(self, s: &str) -> String {
        self.code("31", s)
    }
    fn dim(self, s: &str) -> String {
        self.code("2", s)
    }
    fn bold(self, s: &str) -> String {
        self.code("1", s)
    }
    fn code(self, c: &str, s: &str) -> String {
        if self.0 && !s.is_empty() {
            format!("\x1b[{c}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn dollars(d: Decimal) -> String {
    format!("${}", group_digits(&d.normalize().to_string()))
}

fn tokens(t: &Tally) -> String {
    format!(
        "{}→{}",
        group_digits(&t.input_tokens.to_string()),
        group_digits(&t.output_tokens.to_string())
    )
}

fn header(out: &mut dyn Write, t: &TraceShow) -> std::io::Result<()> {
    let total = &t.report.total;
    let dash = |v: Option<&str>| v.unwrap_or("(none)").to_string();
    writeln!(out, "trace     {}", t.trace_id)?;
    writeln!(
        out,
        "root      {}  (service {})",
        t.root_name(),
        dash(t.service())
    )?;
    writeln!(
        out,
        "session   {}  user {}",
        dash(t.session.as_deref()),
        dash(t.user.as_deref())
    )?;
    writeln!(
        out,
        "start     {}  duration {}  {} spans",
        utc_millis(t.start()),
        ms(t.duration_ns()),
        t.spans.len()
    )?;
    writeln!(
        out,
        "calls     {} counted  tokens {} in ({} cached) / {} out ({} reasoning)",
        total.calls,
        group_digits(&total.input_tokens.to_string()),
        group_digits(&total.cache_read_tokens.to_string()),
        group_digits(&total.output_tokens.to_string()),
        group_digits(&total.reasoning_tokens.to_string()),
    )?;
    writeln!(
        out,
        "cost      {}  recorded {}  unpriced calls {}",
        dollars(total.cost_usd),
        total
            .recorded_cost_usd
            .map_or("(none)".to_string(), dollars),
        total.unpriced_calls
    )
}

/// The marks a span's line carries, painted by tone.
fn marks(t: &TraceShow, i: usize, paint: Paint) -> String {
    traces::analysis::show::marks(t, i)
        .into_iter()
        .map(|(tone, m)| match tone {
            Tone::Quiet => paint.dim(&m),
            Tone::Alert => paint.red(&m),
            Tone::Plain => m,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line per span: the box-drawn tree, then what the span is and counts.
fn tree(out: &mut dyn Write, t: &TraceShow, width: usize, paint: Paint) -> std::io::Result<()> {
    let t0 = t.start();
    // Depth by depth, whether an ancestor still has siblings to come (draws `│`).
    let mut open: Vec<bool> = Vec::new();
    for v in t.tree.walk() {
        let s = &t.spans[v.span];
        let orphan = v.depth == 0 && t.tree.missing_parent[v.span].is_some();
        if orphan {
            let p = t.tree.missing_parent[v.span].unwrap_or_default();
            writeln!(
                out,
                "{}",
                paint.dim(&format!("? parent {p} (not in the trace)"))
            )?;
        }
        let depth = v.depth + usize::from(orphan);
        open.truncate(depth);
        let mut prefix = String::new();
        // Past a third of the width, the guides give way to the depth as a number:
        // a trace thousands of levels deep still shows every name.
        let drawn = (width.min(240) / 3 / 3).max(4);
        if depth > drawn {
            prefix.push_str(&format!("⋮ depth {depth} "));
        } else {
            for &o in open.iter().skip(1) {
                prefix.push_str(if o { "│  " } else { "   " });
            }
        }
        if depth > 0 {
            prefix.push_str(if v.last { "└─ " } else { "├─ " });
        }
        if open.len() < depth + 1 {
            open.resize(depth + 1, false);
        }
        open[depth] = !v.last;
        let model =
            s.n.response_model
                .as_deref()
                .or(s.n.request_model.as_deref())
                .filter(|_| s.n.span_type.is_model_call())
                .map(|m| format!(" {m}"))
                .unwrap_or_default();
        let mut detail = format!(
            "{}{}  +{} {}",
            s.n.span_type.as_str(),
            model,
            ms(s.raw.start_time_unix_nano.saturating_sub(t0)),
            ms(s.raw.duration_ns())
        );
        if s.own.calls > 0 {
            detail.push_str(&format!("  {} {}", tokens(&s.own), dollars(s.own.cost_usd)));
        }
        let has_children = !t.tree.children[v.span].is_empty();
        if has_children && s.rolled.calls > s.own.calls {
            detail.push_str(&format!(
                "  Σ {} call(s) {} {}",
                s.rolled.calls,
                tokens(&s.rolled),
                dollars(s.rolled.cost_usd)
            ));
        }
        let m = marks(t, v.span, Paint(false));
        if !m.is_empty() {
            detail.push_str("  ");
            detail.push_str(&m);
        }
        if super::say::verbose() {
            detail.push_str(&format!(
                "  [{} {}{}{}]",
                s.raw.kind.as_str(),
                s.raw.status_code.as_str(),
                if s.raw.events.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", events: {}",
                        s.raw
                            .events
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                s.n.usage_source
                    .as_deref()
                    .map(|u| format!(", usage from {u}"))
                    .unwrap_or_default()
            ));
        }
        let budget = width.saturating_sub(prefix.width() + detail.width() + 2);
        let name = shorten_middle(&display_name(&s.raw), budget.max(16));
        let mut line = format!("{prefix}{}  {detail}", paint.bold(&name));
        if prefix.width() + name.width() + 2 + detail.width() > width {
            // Even a shortened name leaves too little: the line ends where it must.
            line = shorten_end(&format!("{prefix}{name}  {detail}"), width);
        } else if paint.0 && !m.is_empty() {
            line = line.replace(&m, &marks(t, v.span, paint));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn shorten_end(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A waterfall: each span's bar placed and sized by its time within the trace.
fn timeline(out: &mut dyn Write, t: &TraceShow, width: usize, paint: Paint) -> std::io::Result<()> {
    let (t0, t1) = (t.start(), t.end());
    let span = t1.saturating_sub(t0).max(1) as f64;
    let label_w = (width * 2 / 5).clamp(16, 48);
    let bar_w = width.saturating_sub(label_w + 12).max(10);
    for v in t.tree.walk() {
        let s = &t.spans[v.span];
        let label = format!("{}{}", "  ".repeat(v.depth.min(12)), display_name(&s.raw));
        let label = shorten_middle(&label, label_w);
        let from =
            (s.raw.start_time_unix_nano.saturating_sub(t0) as f64 / span * bar_w as f64) as usize;
        let len = ((s.raw.duration_ns() as f64 / span) * bar_w as f64)
            .round()
            .max(1.0) as usize;
        let from = from.min(bar_w - 1);
        let len = len.min(bar_w - from);
        let bar = format!("{}{}", " ".repeat(from), "█".repeat(len));
        let bar = if s.raw.status_code == traces::ingest::raw::StatusCode::Error {
            paint.red(&bar)
        } else {
            bar
        };
        let pad = label_w.saturating_sub(label.width());
        writeln!(
            out,
            "{label}{} │{bar}{}│ {}",
            " ".repeat(pad),
            " ".repeat(bar_w - from - len),
            ms(s.raw.duration_ns())
        )?;
    }
    Ok(())
}

/// The conversation, every message once: folded to one line each, or (`full`) wrapped
/// to the width.
fn transcript_lines(
    out: &mut dyn Write,
    t: &TraceShow,
    c: &Conversation,
    width: usize,
    full: bool,
) -> std::io::Result<()> {
    writeln!(out, "conversation ({} model calls)", c.calls.len())?;
    let put = |out: &mut dyn Write, who: &str, text: &str| -> std::io::Result<()> {
        let text = text.replace('\n', " ");
        let line = format!("  {who}: {text}");
        if full || width == usize::MAX {
            writeln!(out, "{line}")
        } else {
            writeln!(out, "{}", shorten_end(&line, width))
        }
    };
    if !c.system.is_empty() {
        put(out, "system", &c.system.join(" "))?;
    }
    for e in &c.entries {
        match e {
            Entry::SystemChanged { system, .. } => put(out, "system (changed)", &system.join(" "))?,
            Entry::Message {
                role,
                parts,
                produced_by,
            } => {
                let who = match produced_by {
                    Some(i) => {
                        let s = &t.spans[*i];
                        let model =
                            s.n.response_model
                                .as_deref()
                                .or(s.n.request_model.as_deref())
                                .unwrap_or("?");
                        let format = c
                            .formats
                            .iter()
                            .find(|(k, _)| k == i)
                            .map(|(_, f)| format!(" format {f}"))
                            .unwrap_or_default();
                        if s.own.calls > 0 {
                            format!(
                                "{role} [{model}{format} {} {}]",
                                tokens(&s.own),
                                dollars(s.own.cost_usd)
                            )
                        } else {
                            format!("{role} [{model}{format}]")
                        }
                    }
                    None => role.clone(),
                };
                let text: Vec<String> = parts.iter().map(part_text).collect();
                let text = if text.is_empty() {
                    "(no content recorded)".to_string()
                } else {
                    text.join(" ")
                };
                put(out, &who, &text)?;
            }
        }
    }
    for p in &c.tools {
        let ran = p
            .tool_span
            .map(|k| {
                let s = &t.spans[k];
                format!(" · ran as {:?} in {}", s.raw.name, ms(s.raw.duration_ns()))
            })
            .unwrap_or_default();
        let result = p
            .result
            .as_deref()
            .map_or("no result in the trace".to_string(), |r| format!("→ {r}"));
        put(out, &format!("tool {}", p.name), &format!("{result}{ran}"))?;
    }
    for (i, key, why) in &c.unreadable {
        put(
            out,
            "unreadable",
            &format!("[{key} of span {}: {why}]", t.spans[*i].raw.span_id),
        )?;
    }
    for r in &c.orphan_results {
        put(
            out,
            "tool result",
            &format!("[{r}] has no call in the trace"),
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
pub struct Document<'a> {
    trace_id: String,
    root_name: String,
    service: Option<&'a str>,
    session_id: Option<&'a str>,
    user_id: Option<&'a str>,
    start_time: String,
    duration_ms: f64,
    totals: Totals,
    spans: Vec<SpanDoc<'a>>,
    conversation: &'a Conversation,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct Totals {
    calls: u64,
    input_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    output_tokens: i64,
    reasoning_tokens: i64,
    #[serde(serialize_with = "exact_number")]
    cost_usd: Decimal,
    recorded_cost_usd: Option<RecordedCost>,
    unpriced_calls: u64,
}

#[derive(Serialize)]
#[serde(transparent)]
struct RecordedCost(#[serde(serialize_with = "exact_number")] Decimal);

#[derive(Serialize)]
struct SpanDoc<'a> {
    index: usize,
    span_id: String,
    parent_span_id: Option<String>,
    /// The parent id the span names when that span is not in the trace.
    missing_parent: Option<String>,
    children: Vec<usize>,
    name: String,
    kind: &'static str,
    span_type: &'static str,
    model: Option<&'a str>,
    status: &'static str,
    error: Option<String>,
    start_offset_ms: f64,
    duration_ms: f64,
    usage_source: Option<&'a str>,
    counted: &'a Counted,
    own: &'a Tally,
    rolled_up: &'a Tally,
    starts_before_parent: bool,
}

fn document<'a>(t: &'a TraceShow, c: &'a Conversation) -> Document<'a> {
    let t0 = t.start();
    let total = &t.report.total;
    let spans = t
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| SpanDoc {
            index: i,
            span_id: s.raw.span_id.to_string(),
            parent_span_id: s.raw.parent_span_id.map(|p| p.to_string()),
            missing_parent: t.tree.missing_parent[i].map(|p| p.to_string()),
            children: t.tree.children[i].clone(),
            name: display_name(&s.raw),
            kind: s.raw.kind.as_str(),
            span_type: s.n.span_type.as_str(),
            model: s
                .n
                .response_model
                .as_deref()
                .or(s.n.request_model.as_deref()),
            status: s.raw.status_code.as_str(),
            error: (s.raw.status_code == traces::ingest::raw::StatusCode::Error).then(|| {
                s.n.error_message
                    .clone()
                    .unwrap_or_else(|| s.raw.status_message.clone())
            }),
            start_offset_ms: s.raw.start_time_unix_nano.saturating_sub(t0) as f64 / 1e6,
            duration_ms: s.raw.duration_ns() as f64 / 1e6,
            usage_source: s.n.usage_source.as_deref(),
            counted: &s.counted,
            own: &s.own,
            rolled_up: &s.rolled,
            starts_before_parent: s.before_parent,
        })
        .collect();
    Document {
        trace_id: t.trace_id.to_string(),
        root_name: t.root_name(),
        service: t.service(),
        session_id: t.session.as_deref(),
        user_id: t.user.as_deref(),
        start_time: utc_millis(t0),
        duration_ms: t.end().saturating_sub(t0) as f64 / 1e6,
        totals: Totals {
            calls: total.calls,
            input_tokens: total.input_tokens,
            cache_read_tokens: total.cache_read_tokens,
            cache_write_tokens: total.cache_write_tokens,
            output_tokens: total.output_tokens,
            reasoning_tokens: total.reasoning_tokens,
            cost_usd: total.cost_usd,
            recorded_cost_usd: total.recorded_cost_usd.map(RecordedCost),
            unpriced_calls: total.unpriced_calls,
        },
        spans,
        conversation: c,
        warnings: warnings(t),
    }
}
