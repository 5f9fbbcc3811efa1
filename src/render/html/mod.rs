//! `traces report --html`: one self-contained page of a `ReportData`. Nothing in it
//! reaches the network (a Content-Security-Policy forbids it); every string from a
//! trace goes through `esc`, every attribute is double-quoted, and no trace data is put
//! inside the script, so no payload can leave the text it sits in.

pub mod chart;

use crate::analysis::cost_report::{CostReport, Metrics};
use crate::analysis::report::{ReportData, TopTrace};
use crate::analysis::show::{
    Conversation, Entry, Tone, TraceShow, display_name, duration_text, marks, part_text,
};
use rust_decimal::Decimal;
use std::fmt::Write;

/// A message longer than this shows its start and a note.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// The spans of a trace shown in its tree; past it, a note.
pub const MAX_TREE_SPANS: usize = 300;
/// Past this size the traces still to come show their summary line only, so that a
/// few huge traces cannot make a page of hundreds of MB.
pub const DETAIL_BUDGET_BYTES: usize = 8 * 1024 * 1024;

pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// What the page says of how it was made.
pub struct PageInfo {
    pub source: String,
    pub filters: Vec<String>,
    pub generated: String,
}

/// Escapes for HTML text and double-quoted attributes alike.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Every digit, as `traces cost --format json` writes it.
pub fn exact(d: Decimal) -> String {
    let s = d.normalize().to_string();
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn dollars(d: Decimal) -> String {
    let places = if d.abs() >= Decimal::ONE { 2 } else { 4 };
    let r = d.round_dp(places);
    let r = if r.is_zero() && !d.is_zero() {
        d.round_sf(2).unwrap_or(d)
    } else {
        r
    };
    format!("${}", super::group_digits(&r.normalize().to_string()))
}

fn money_cell(d: Decimal) -> String {
    let e = exact(d);
    format!(
        "<td class=\"n\" data-v=\"{e}\" data-exact=\"{e}\" title=\"${e}\">{}</td>",
        dollars(d)
    )
}

fn int_cell(v: i64) -> String {
    format!(
        "<td class=\"n\" data-v=\"{v}\">{}</td>",
        super::group_digits(&v.to_string())
    )
}

fn truncated(s: &str, max: usize) -> String {
    if s.len() <= max {
        return esc(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}<span class=\"note\">… {} more bytes not shown (traces show ID --conversation --full)</span>",
        esc(&s[..end]),
        s.len() - end
    )
}

const STYLE: &str = r#"
:root{color-scheme:light dark;--bg:#fff;--fg:#1d2330;--mute:#667085;--line:#e3e6ec;--card:#f6f7f9;--bar:#4e79a7;--err:#c0392b}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e6e8ec;--mute:#9aa3b2;--line:#2c323c;--card:#1c2028;--bar:#6d9ccc;--err:#ff6b5b}}
body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta,.note{color:var(--mute);font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:0}
.cards div{background:var(--card);border-radius:6px;padding:8px 10px}.cards dt{color:var(--mute);font-size:12px}.cards dd{margin:0;font-size:18px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}table.sortable th[aria-sort=ascending]::after{content:" ▲"}table.sortable th[aria-sort=descending]::after{content:" ▼"}
tfoot td{font-weight:600}.scroll{max-height:460px;overflow:auto}
.chart svg{width:100%;height:auto}.chart svg text{fill:var(--fg)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;padding:0;list-style:none}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
details.trace{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}details.trace>summary{cursor:pointer}
.tree td.name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:420px}
.bar{position:relative;height:10px;min-width:220px;background:var(--card);border-radius:2px}.bar span{position:absolute;top:0;height:10px;background:var(--bar);border-radius:2px;min-width:1px}.bar span.err{background:var(--err)}
.alert{color:var(--err)}.quiet{color:var(--mute)}
.msg{border-left:3px solid var(--line);margin:6px 0;padding:2px 8px;white-space:pre-wrap;word-break:break-word}.msg b{display:block;font-size:12px;color:var(--mute)}
.msg.assistant{border-color:var(--bar)}button{font:inherit;margin:0 6px 6px 0}
"#;

const SCRIPT: &str = r#"
(function(){
function val(td){var v=td.getAttribute('data-v');return v===null?td.textContent:v;}
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
  var num=th.classList.contains('n');var desc=th.getAttribute('aria-sort')!=='descending';
  t.querySelectorAll('thead th').forEach(function(o){o.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',desc?'descending':'ascending');
  var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
  rows.sort(function(x,y){var a=val(x.cells[i]),c=val(y.cells[i]);var r=num?(parseFloat(a)||0)-(parseFloat(c)||0):a.localeCompare(c);return desc?-r:r;});
  rows.forEach(function(r){b.appendChild(r);});});});});
var ex=document.getElementById('expand-all'),co=document.getElementById('collapse-all');
function all(o){document.querySelectorAll('details.trace').forEach(function(d){d.open=o;});}
if(ex){ex.addEventListener('click',function(){all(true);});}
if(co){co.addEventListener('click',function(){all(false);});}
})();
"#;

/// The page.
pub fn page(d: &ReportData, info: &PageInfo) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>traces report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = write!(
        o,
        "<h1>LLM cost report</h1><p class=\"meta\">{} · filters: {} · made {} by traces {}</p>",
        esc(&info.source),
        if info.filters.is_empty() {
            "none".to_string()
        } else {
            esc(&info.filters.join(" "))
        },
        esc(&info.generated),
        env!("CARGO_PKG_VERSION"),
    );
    totals(&mut o, d);
    over_time(&mut o, d);
    group_table(&mut o, "by-model", "Cost by model", "Model", &d.by_model);
    group_table(
        &mut o,
        "by-session",
        "Cost by session",
        "Session",
        &d.by_session,
    );
    group_table(&mut o, "by-user", "Cost by user", "User", &d.by_user);
    top_traces(&mut o, d);
    pricing(&mut o, d);
    let _ = write!(o, "<script>{SCRIPT}</script>\n</body></html>\n");
    o
}

fn totals(o: &mut String, d: &ReportData) {
    let m = &d.total.total;
    o.push_str("<h2>Totals</h2><dl class=\"cards\" id=\"totals\">");
    let card = |o: &mut String, id: &str, label: &str, exact_v: &str, shown: &str| {
        let _ = write!(
            o,
            "<div><dt>{label}</dt><dd id=\"total-{id}\" data-exact=\"{}\" title=\"{}\">{}</dd></div>",
            esc(exact_v),
            esc(exact_v),
            esc(shown)
        );
    };
    let e = exact(m.cost_usd);
    card(o, "cost_usd", "Cost", &e, &dollars(m.cost_usd));
    match m.recorded_cost_usd {
        Some(r) => card(
            o,
            "recorded_cost_usd",
            "Recorded cost",
            &exact(r),
            &dollars(r),
        ),
        None => card(o, "recorded_cost_usd", "Recorded cost", "", "none"),
    }
    let ints: [(&str, &str, i64); 10] = [
        ("calls", "Calls", m.calls as i64),
        ("traces", "Traces", m.traces as i64),
        ("sessions", "Sessions", d.sessions as i64),
        ("users", "Users", d.users as i64),
        ("input_tokens", "Input tokens", m.input_tokens),
        (
            "cache_read_tokens",
            "Cached input tokens",
            m.cache_read_tokens,
        ),
        (
            "cache_write_tokens",
            "Cache write tokens",
            m.cache_write_tokens,
        ),
        ("output_tokens", "Output tokens", m.output_tokens),
        ("reasoning_tokens", "Reasoning tokens", m.reasoning_tokens),
        ("total_tokens", "Total tokens", m.total_tokens()),
    ];
    for (id, label, v) in ints {
        card(
            o,
            id,
            label,
            &v.to_string(),
            &super::group_digits(&v.to_string()),
        );
    }
    card(
        o,
        "unpriced_calls",
        "Unpriced calls",
        &m.unpriced_calls.to_string(),
        &m.unpriced_calls.to_string(),
    );
    card(
        o,
        "fallback_priced_calls",
        "Priced at another provider's price",
        &m.fallback_priced_calls.to_string(),
        &m.fallback_priced_calls.to_string(),
    );
    match d.duplicates {
        Some(n) => card(
            o,
            "duplicates",
            "Spans set aside as duplicates",
            &n.to_string(),
            &n.to_string(),
        ),
        None => card(
            o,
            "duplicates",
            "Spans set aside as duplicates",
            "",
            "not kept by the store",
        ),
    }
    o.push_str("</dl>\n");
    if !d.total.unpriced_models.is_empty() {
        o.push_str("<h3>Unpriced calls by model</h3><table id=\"unpriced\"><thead><tr><th>Model</th><th class=\"n\">Calls</th><th class=\"n\">Input</th><th class=\"n\">Output</th></tr></thead><tbody>");
        for u in &d.total.unpriced_models {
            let _ = write!(
                o,
                "<tr><td>{}</td>{}{}{}</tr>",
                esc(&u.model),
                int_cell(u.calls as i64),
                int_cell(u.input_tokens),
                int_cell(u.output_tokens)
            );
        }
        o.push_str("</tbody></table>\n");
    }
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// Stacks for the costliest models, the rest as one `(other)` series.
fn over_time(o: &mut String, d: &ReportData) {
    let _ = write!(
        o,
        "<h2>Cost over time (per {})</h2>",
        if d.hourly { "hour, UTC" } else { "day, UTC" }
    );
    let mut per_model: Vec<(String, Decimal)> = Vec::new();
    for (k, m) in &d.over_time.rows {
        let model = k
            .get(1)
            .cloned()
            .flatten()
            .unwrap_or_else(|| "(none)".into());
        match per_model.iter_mut().find(|(x, _)| *x == model) {
            Some((_, c)) => *c = c.checked_add(m.cost_usd).unwrap_or(*c),
            None => per_model.push((model, m.cost_usd)),
        }
    }
    per_model.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keep = chart::PALETTE.len() - 1;
    let folded = per_model.len() > keep + 1;
    let mut names: Vec<String> = per_model.iter().map(|(m, _)| m.clone()).collect();
    if folded {
        names.truncate(keep);
        names.push("(other models)".into());
    }
    let mut series = vec![vec![0.0; d.buckets.len()]; names.len()];
    for (k, m) in &d.over_time.rows {
        let bucket = k.first().cloned().flatten().unwrap_or_default();
        let model = k
            .get(1)
            .cloned()
            .flatten()
            .unwrap_or_else(|| "(none)".into());
        let Some(bi) = d.buckets.iter().position(|b| *b == bucket) else {
            continue;
        };
        let si = names
            .iter()
            .position(|n| *n == model)
            .unwrap_or(names.len().saturating_sub(1));
        if let Some(s) = series.get_mut(si) {
            s[bi] += to_f64(m.cost_usd);
        }
    }
    let labels: Vec<String> = d
        .buckets
        .iter()
        .map(|b| {
            if d.hourly {
                b.get(5..16).unwrap_or(b).replace('T', " ")
            } else {
                b.clone()
            }
        })
        .collect();
    match chart::stacked_bars(&labels, &series, 1100, 320) {
        Ok(svg) => {
            let _ = write!(o, "<div class=\"chart\" id=\"over-time\">{svg}</div>");
        }
        Err(e) => {
            let _ = write!(o, "<p class=\"note\">chart not drawn: {}</p>", esc(&e));
        }
    }
    o.push_str("<ul class=\"legend\">");
    for (i, n) in names.iter().enumerate() {
        let _ = write!(
            o,
            "<li><i style=\"background:{}\"></i>{}</li>",
            chart::PALETTE[i.min(chart::PALETTE.len() - 1)],
            esc(n)
        );
    }
    o.push_str("</ul>");
    o.push_str("<details><summary>The chart's numbers</summary><div class=\"scroll\"><table class=\"sortable\" id=\"over-time-table\"><thead><tr><th>Time</th><th>Model</th><th class=\"n\">Calls</th><th class=\"n\">Cost</th></tr></thead><tbody>");
    for (k, m) in &d.over_time.rows {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td>{}{}</tr>",
            esc(k.first().and_then(|x| x.as_deref()).unwrap_or("")),
            esc(k.get(1).and_then(|x| x.as_deref()).unwrap_or("(none)")),
            int_cell(m.calls as i64),
            money_cell(m.cost_usd)
        );
    }
    o.push_str("</tbody></table></div></details>\n");
}

fn metric_cells(o: &mut String, m: &Metrics) {
    o.push_str(&int_cell(m.calls as i64));
    o.push_str(&int_cell(m.traces as i64));
    o.push_str(&int_cell(m.input_tokens));
    o.push_str(&int_cell(m.cache_read_tokens));
    o.push_str(&int_cell(m.output_tokens));
    o.push_str(&int_cell(m.reasoning_tokens));
    o.push_str(&money_cell(m.cost_usd));
    match m.recorded_cost_usd {
        Some(r) => o.push_str(&money_cell(r)),
        None => o.push_str("<td class=\"n\" data-v=\"\"></td>"),
    }
    o.push_str(&int_cell(m.unpriced_calls as i64));
}

fn group_table(o: &mut String, id: &str, title: &str, key: &str, r: &CostReport) {
    let _ = write!(
        o,
        "<h2>{title}</h2><div class=\"scroll\"><table class=\"sortable\" id=\"{id}\"><thead><tr><th>{key}</th>\
<th class=\"n\">Calls</th><th class=\"n\">Traces</th><th class=\"n\">Input</th><th class=\"n\">Cached</th>\
<th class=\"n\">Output</th><th class=\"n\">Reasoning</th><th class=\"n\">Cost</th><th class=\"n\">Recorded</th>\
<th class=\"n\">Unpriced</th></tr></thead><tbody>"
    );
    for (k, m) in &r.rows {
        let name = k.first().and_then(|x| x.as_deref()).unwrap_or("(none)");
        let _ = write!(o, "<tr><td>{}</td>", esc(name));
        metric_cells(o, m);
        o.push_str("</tr>");
    }
    o.push_str("</tbody><tfoot><tr><td>TOTAL</td>");
    metric_cells(o, &r.total);
    o.push_str("</tr></tfoot></table></div>\n");
}

fn top_traces(o: &mut String, d: &ReportData) {
    let _ = write!(
        o,
        "<h2>Costliest traces ({} of {})</h2><p><button id=\"expand-all\" type=\"button\">Expand all</button>\
<button id=\"collapse-all\" type=\"button\">Collapse all</button></p>",
        d.top.len(),
        d.traces
    );
    let start = o.len();
    for (rank, t) in d.top.iter().enumerate() {
        let detailed = o.len() - start < DETAIL_BUDGET_BYTES;
        trace(o, rank + 1, t, detailed);
    }
}

fn trace(o: &mut String, rank: usize, top: &TopTrace, detailed: bool) {
    let t = &top.show;
    let m = &top.metrics;
    let id = t.trace_id.to_string();
    let _ = write!(
        o,
        "<details class=\"trace\" id=\"trace-{id}\"><summary><b>#{rank}</b> {} · <span class=\"cost\" data-exact=\"{}\" title=\"${}\">{}</span> · {} calls · {} tokens · {} · session {} · user {} · <code>{id}</code></summary>",
        esc(&t.root_name()),
        exact(m.cost_usd),
        exact(m.cost_usd),
        dollars(m.cost_usd),
        m.calls,
        super::group_digits(&m.total_tokens().to_string()),
        esc(&duration_text(t.duration_ns())),
        esc(t.session.as_deref().unwrap_or("(none)")),
        esc(t.user.as_deref().unwrap_or("(none)")),
    );
    if !detailed {
        o.push_str("<p class=\"note\">Left out to keep the page small: <code>traces show ");
        o.push_str(&id);
        o.push_str("</code> shows it.</p></details>\n");
        return;
    }
    let _ = write!(
        o,
        "<p class=\"meta\">start {} · service {} · {} spans</p>",
        esc(&super::utc_millis(t.start())),
        esc(t.service().unwrap_or("(none)")),
        t.spans.len()
    );
    tree(o, t);
    conversation(o, &top.conversation);
    o.push_str("</details>\n");
}

fn tree(o: &mut String, t: &TraceShow) {
    let (t0, t1) = (t.start(), t.end());
    let total = t1.saturating_sub(t0).max(1) as f64;
    o.push_str("<table class=\"tree\"><thead><tr><th>Span</th><th>Type</th><th class=\"n\">Tokens in→out</th><th class=\"n\">Cost</th><th class=\"n\">Σ cost</th><th>Time</th><th class=\"n\">Duration</th></tr></thead><tbody>");
    let walk = t.tree.walk();
    for v in walk.iter().take(MAX_TREE_SPANS) {
        let s = &t.spans[v.span];
        let start = s.raw.start_time_unix_nano.saturating_sub(t0);
        let dur = s
            .raw
            .end_time_unix_nano
            .saturating_sub(s.raw.start_time_unix_nano)
            .max(0);
        let left = (start as f64 / total * 100.0).clamp(0.0, 100.0);
        let width = (dur as f64 / total * 100.0).clamp(0.0, 100.0 - left);
        let model = s
            .model()
            .filter(|_| s.n.span_type.is_model_call())
            .map(|m| format!(" {}", esc(m)))
            .unwrap_or_default();
        let mut mk = String::new();
        for (tone, text) in marks(t, v.span) {
            let class = match tone {
                Tone::Quiet => "quiet",
                Tone::Alert => "alert",
                Tone::Plain => "",
            };
            let _ = write!(mk, " <span class=\"{class}\">{}</span>", esc(&text));
        }
        let orphan = if v.depth == 0 {
            t.tree.missing_parent[v.span]
                .map(|p| format!(" <span class=\"quiet\">(parent {p} not in the trace)</span>"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let err = s.error().is_some();
        let _ = write!(
            o,
            "<tr><td class=\"name\" style=\"padding-left:{}px\" title=\"{}\">{}{orphan}{mk}{}</td><td>{}{model}</td>",
            8 + v.depth.min(40) * 14,
            esc(&display_name(&s.raw)),
            esc(&display_name(&s.raw)),
            attributes(s),
            s.n.span_type.as_str(),
        );
        if s.own.calls > 0 {
            let _ = write!(
                o,
                "<td class=\"n\">{}→{}</td>{}",
                super::group_digits(&s.own.input_tokens.to_string()),
                super::group_digits(&s.own.output_tokens.to_string()),
                money_cell(s.own.cost_usd)
            );
        } else {
            o.push_str("<td></td><td></td>");
        }
        if s.rolled.calls > s.own.calls {
            o.push_str(&money_cell(s.rolled.cost_usd));
        } else {
            o.push_str("<td></td>");
        }
        let _ = write!(
            o,
            "<td><div class=\"bar\"><span{} style=\"left:{left:.2}%;width:{width:.2}%\"></span></div></td><td class=\"n\">{}</td></tr>",
            if err { " class=\"err\"" } else { "" },
            esc(&duration_text(dur)),
        );
    }
    o.push_str("</tbody></table>");
    if walk.len() > MAX_TREE_SPANS {
        let _ = write!(
            o,
            "<p class=\"note\">{} more spans not shown (traces show {}).</p>",
            walk.len() - MAX_TREE_SPANS,
            t.trace_id
        );
    }
}

/// The span's attributes, folded; message attributes are left to the conversation.
fn attributes(s: &crate::analysis::show::ShownSpan) -> String {
    const MAX_ATTRS: usize = 40;
    const MAX_VALUE: usize = 300;
    let shown: Vec<_> = s
        .raw
        .attributes
        .iter()
        .filter(|kv| !kv.key.contains("messages") && !kv.key.ends_with(".value"))
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut o = format!(
        "<details><summary class=\"quiet\">{} attributes</summary><table>",
        shown.len()
    );
    for kv in shown.iter().take(MAX_ATTRS) {
        let v = match &kv.value {
            crate::ingest::raw::AnyValue::String(t) => t.clone(),
            other => crate::semconv::attrs::as_json(other)
                .map(|j| j.to_string())
                .unwrap_or_default(),
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&kv.key),
            truncated(&v, MAX_VALUE)
        );
    }
    o.push_str("</table></details>");
    o
}

fn conversation(o: &mut String, c: &Conversation) {
    let _ = write!(
        o,
        "<h4>Conversation ({} model calls)</h4><div class=\"conversation\">",
        c.calls.len()
    );
    for s in &c.system {
        let _ = write!(
            o,
            "<div class=\"msg system\"><b>system</b>{}</div>",
            truncated(s, MAX_MESSAGE_BYTES)
        );
    }
    for e in &c.entries {
        match e {
            Entry::Message { role, parts, .. } => {
                let text: Vec<String> = parts.iter().map(part_text).collect();
                let _ = write!(
                    o,
                    "<div class=\"msg {}\"><b>{}</b>{}</div>",
                    if role == "assistant" { "assistant" } else { "" },
                    esc(role),
                    truncated(&text.join("\n"), MAX_MESSAGE_BYTES)
                );
            }
            Entry::SystemChanged { system, .. } => {
                let _ = write!(
                    o,
                    "<div class=\"msg system\"><b>system (changed)</b>{}</div>",
                    truncated(&system.join("\n"), MAX_MESSAGE_BYTES)
                );
            }
        }
    }
    if !c.tools.is_empty() {
        o.push_str("<table class=\"tools\"><thead><tr><th>Tool</th><th>Arguments</th><th>Result</th></tr></thead><tbody>");
        for p in &c.tools {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.name),
                truncated(&p.arguments, MAX_MESSAGE_BYTES),
                p.result
                    .as_deref()
                    .map_or_else(|| "(no result)".into(), |r| truncated(r, MAX_MESSAGE_BYTES))
            );
        }
        o.push_str("</tbody></table>");
    }
    if c.entries.is_empty() && c.system.is_empty() {
        o.push_str("<p class=\"note\">No messages recorded.</p>");
    }
    o.push_str("</div>");
}

fn pricing(o: &mut String, d: &ReportData) {
    let p = &d.pricing;
    let _ = write!(
        o,
        "<h2>Pricing used</h2><p id=\"pricing\">Table <b id=\"pricing-table\">{}</b>, as of <b id=\"pricing-as-of\">{}</b>{}. Costs are computed now from this table, not stored.</p>",
        esc(&p.table),
        p.as_of,
        if p.overrides.is_empty() {
            String::new()
        } else {
            format!(", under {}", esc(&p.overrides.join(", ")))
        }
    );
    o.push_str("<table class=\"sortable\" id=\"prices\"><thead><tr><th>Model</th><th>Priced as</th><th>Provider</th><th>Since</th><th class=\"n\">Input $/M</th><th class=\"n\">Cached $/M</th><th class=\"n\">Output $/M</th></tr></thead><tbody>");
    let rate = |r: Option<Decimal>| {
        r.map_or_else(
            || "<td class=\"n\"></td>".to_string(),
            |v| {
                let e = exact(v);
                format!("<td class=\"n\" data-v=\"{e}\">{e}</td>")
            },
        )
    };
    for row in &d.prices {
        match &row.entry {
            Some(e) => {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}</tr>",
                    esc(&row.model),
                    esc(&e.id),
                    esc(&e.provider),
                    e.since.map(|s| s.to_string()).unwrap_or_default(),
                    rate(e.input),
                    rate(e.cached_input),
                    rate(e.output)
                );
            }
            None => {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td class=\"alert\" colspan=\"6\">no price</td></tr>",
                    esc(&row.model)
                );
            }
        }
    }
    o.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc("<script>alert(1)</script>\"'&"),
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"
        );
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let s = "é".repeat(10);
        let t = truncated(&s, 5);
        assert!(t.starts_with("éé"));
        assert!(t.contains("16 more bytes"));
    }

    #[test]
    fn exact_keeps_every_digit() {
        assert_eq!(exact(Decimal::new(153, 6)), "0.000153");
        assert_eq!(exact(Decimal::ZERO), "0.0");
    }
}
