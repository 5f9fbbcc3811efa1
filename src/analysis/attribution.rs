//! Which spans' usage counts. One model call is often recorded more than once: a
//! framework span wrapping an SDK span, an agent span carrying the sum of its children,
//! or two instrumentations recording the same call as sibling spans. Usage is
//! attributed to the leaf-most spans that carry it, and of two siblings that recorded
//! the same call, one counts. Session and user are resolved per trace here too.

use crate::ingest::ids::SpanId;

/// The facts about one span that attribution needs.
#[derive(Debug, Clone, Default)]
pub struct SpanFacts<'a> {
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub scope_name: &'a str,
    pub start: i64,
    pub end: i64,
    /// Response model, else request model.
    pub model: Option<&'a str>,
    pub response_id: Option<&'a str>,
    /// (input, output, cache_read, cache_write, reasoning); `None` when the span has no usage.
    pub usage: Option<[Option<i64>; 5]>,
    pub session_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// An LLM or embedding span, rather than an agent, chain or wrapper.
    pub model_call: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The span's usage is a model call's and counts.
    Counts,
    /// A descendant carries usage: this span's is an aggregate or a wrapper's copy.
    HasUsageBelow,
    /// A sibling from another instrumentation recorded the same call; that one counts.
    DuplicateOf(usize),
    /// The span carries no usage.
    NoUsage,
}

#[derive(Debug, Clone, Default)]
pub struct TraceAttribution<'a> {
    pub verdicts: Vec<Option<Verdict>>,
    /// Per span: its own session, else the trace's.
    pub session: Vec<Option<&'a str>>,
    pub user: Vec<Option<&'a str>>,
    /// Distinct values seen on one trace, when there was more than one.
    pub session_conflict: Option<Vec<String>>,
    pub user_conflict: Option<Vec<String>>,
}

/// Models two instrumentations would name for one call: the same, or one a dated or
/// prefixed form of the other (`gpt-4o-mini` / `gpt-4o-mini-2024-07-18`).
fn same_model(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
            a == b
                || a.starts_with(&b)
                || b.starts_with(&a)
                || a.ends_with(&format!("/{b}"))
                || b.ends_with(&format!("/{a}"))
        }
        _ => true,
    }
}

fn overlaps(a: &SpanFacts<'_>, b: &SpanFacts<'_>) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn same_call(a: &SpanFacts<'_>, b: &SpanFacts<'_>) -> bool {
    if a.scope_name == b.scope_name || !overlaps(a, b) {
        return false;
    }
    if let (Some(x), Some(y)) = (&a.response_id, &b.response_id) {
        return x == y;
    }
    match (a.usage, b.usage) {
        (Some(x), Some(y)) => {
            x[0].is_some() && x[0] == y[0] && x[1] == y[1] && same_model(a.model, b.model)
        }
        _ => false,
    }
}

/// The one value of a trace: the root's if it has one, else the first set; conflicts
/// are reported.
fn trace_value<'a>(
    spans: &[SpanFacts<'a>],
    roots: &[usize],
    get: impl Fn(&SpanFacts<'a>) -> Option<&'a str>,
) -> (Option<&'a str>, Option<Vec<String>>) {
    let mut seen: Vec<&'a str> = Vec::new();
    for s in spans {
        if let Some(v) = get(s)
            && !seen.contains(&v)
        {
            seen.push(v);
        }
    }
    let chosen = roots
        .iter()
        .find_map(|&i| get(&spans[i]))
        .or_else(|| seen.first().copied());
    let conflict = (seen.len() > 1).then(|| seen.iter().map(|v| v.to_string()).collect());
    (chosen, conflict)
}

pub fn attribute<'a>(spans: &[SpanFacts<'a>]) -> TraceAttribution<'a> {
    // The tree `show` draws, cycles cut the same way: a span in a parent cycle would
    // otherwise be its own ancestor, "covered" by its own usage, and counted nowhere.
    let ids: Vec<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let parents: Vec<Option<SpanId>> = spans.iter().map(|s| s.parent_span_id).collect();
    let starts: Vec<i64> = spans.iter().map(|s| s.start).collect();
    let parent = super::tree::Tree::build(&ids, &parents, &starts).parent;
    // Mark every ancestor of a span with usage. Walks are bounded by the span count as
    // well.
    let ancestors = |i: usize| {
        let mut out = Vec::new();
        let mut cur = parent[i];
        while let Some(p) = cur {
            if out.len() > spans.len() {
                break;
            }
            out.push(p);
            cur = parent[p];
        }
        out
    };
    let io = |s: &SpanFacts| s.usage.map(|u| (u[0].unwrap_or(0), u[1].unwrap_or(0)));
    let mut usage_below = vec![false; spans.len()];
    for (i, s) in spans.iter().enumerate() {
        if s.usage.is_some() {
            for p in ancestors(i) {
                usage_below[p] = true;
            }
        }
    }
    // What the leaf-most usage below each span adds up to, and whether one of them is
    // the same numbers (a wrapper's copy of its call).
    // In i128: a trace's counts come from a file, and their sum must not wrap into a
    // figure that happens to equal a parent's.
    let mut below_sum = vec![(0i128, 0i128); spans.len()];
    let mut below_equal = vec![false; spans.len()];
    for (i, s) in spans.iter().enumerate() {
        let Some(u) = io(s) else { continue };
        for p in ancestors(i) {
            below_equal[p] |= io(&spans[p]) == Some(u);
            if !usage_below[i] {
                below_sum[p].0 += i128::from(u.0);
                below_sum[p].1 += i128::from(u.1);
            }
        }
    }
    let mut verdicts: Vec<Option<Verdict>> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let covered = usage_below[i]
                && (!s.model_call
                    || below_equal[i]
                    || io(s).map(|(a, b)| (i128::from(a), i128::from(b))) == Some(below_sum[i]));
            Some(match (s.usage.is_some(), covered) {
                (false, _) => Verdict::NoUsage,
                (true, true) => Verdict::HasUsageBelow,
                // A model call whose descendants record other calls (a producer that
                // attached a span to the wrong parent): both are calls, both count.
                (true, false) => Verdict::Counts,
            })
        })
        .collect();
    // Sibling duplicates: of two counting spans that recorded the same call, the one
    // that comes first (by start, then span id) keeps counting.
    let mut counting: Vec<usize> = (0..spans.len())
        .filter(|&i| verdicts[i] == Some(Verdict::Counts))
        .collect();
    counting.sort_by(|&a, &b| {
        spans[a]
            .start
            .cmp(&spans[b].start)
            .then_with(|| spans[a].span_id.cmp(&spans[b].span_id))
    });
    for (k, &i) in counting.iter().enumerate() {
        if verdicts[i] != Some(Verdict::Counts) {
            continue;
        }
        for &j in &counting[k + 1..] {
            if verdicts[j] == Some(Verdict::Counts) && same_call(&spans[i], &spans[j]) {
                verdicts[j] = Some(Verdict::DuplicateOf(i));
            }
        }
    }
    let roots: Vec<usize> = (0..spans.len()).filter(|&i| parent[i].is_none()).collect();
    let (trace_session, session_conflict) = trace_value(spans, &roots, |s| s.session_id);
    let (trace_user, user_conflict) = trace_value(spans, &roots, |s| s.user_id);
    TraceAttribution {
        verdicts,
        session: spans
            .iter()
            .map(|s| s.session_id.or(trace_session))
            .collect(),
        user: spans.iter().map(|s| s.user_id.or(trace_user)).collect(),
        session_conflict,
        user_conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SpanId {
        let mut b = [0u8; 8];
        b[..s.len()].copy_from_slice(s.as_bytes());
        SpanId(b)
    }

    fn span(
        name: &'static str,
        parent: Option<&'static str>,
        scope: &'static str,
        usage: Option<i64>,
    ) -> SpanFacts<'static> {
        SpanFacts {
            span_id: id(name),
            parent_span_id: parent.map(id),
            scope_name: scope,
            start: 0,
            end: 10,
            model: Some("gpt-4o-mini"),
            usage: usage.map(|u| [Some(u), Some(5), None, None, None]),
            model_call: true,
            ..Default::default()
        }
    }

    #[test]
    fn nested_usage_counts_once_at_the_leaf() {
        // Strands: agent (sum) → chat (copy) → botocore chat (the call).
        let spans = vec![
            span("a", None, "s", Some(100)),
            span("b", Some("a"), "s", Some(100)),
            span("c", Some("b"), "boto", Some(100)),
        ];
        let v = attribute(&spans).verdicts;
        assert_eq!(
            v,
            vec![
                Some(Verdict::HasUsageBelow),
                Some(Verdict::HasUsageBelow),
                Some(Verdict::Counts)
            ]
        );
    }

    #[test]
    fn spans_in_a_parent_cycle_still_count_whatever_their_order() {
        // A span that is its own parent, and two calls that name each other: before
        // cycles were cut, each was "covered" by its own usage and none counted.
        let spans = vec![
            span("self", Some("self"), "s", Some(7)),
            span("x", Some("y"), "s", Some(3)),
            span("y", Some("x"), "s", Some(4)),
        ];
        fn counted(spans: &[SpanFacts]) -> Vec<String> {
            let v = attribute(spans).verdicts;
            let mut c: Vec<String> = spans
                .iter()
                .zip(v)
                .filter(|(_, v)| *v == Some(Verdict::Counts))
                .map(|(s, _)| {
                    String::from_utf8_lossy(&s.span_id.0)
                        .trim_end_matches('\0')
                        .to_string()
                })
                .collect();
            c.sort_unstable();
            c
        }
        // The calls of a cycle differ, so both count, as a misattached call does.
        assert_eq!(counted(&spans), vec!["self", "x", "y"]);
        let reversed: Vec<_> = spans.iter().rev().cloned().collect();
        assert_eq!(counted(&reversed), counted(&spans));
        // A wrapper in a cycle with its own call counts once, whichever is listed first.
        let wrap = vec![
            span("w", Some("c"), "s", Some(5)),
            span("c", Some("w"), "s", Some(5)),
        ];
        assert_eq!(counted(&wrap).len(), 1);
        let rev: Vec<_> = wrap.iter().rev().cloned().collect();
        assert_eq!(counted(&rev), counted(&wrap));
    }

    #[test]
    fn an_agent_total_is_set_aside_for_its_calls() {
        let mut agent = span("a", None, "g", Some(30));
        agent.model_call = false;
        let v = attribute(&[
            agent,
            span("b", Some("a"), "g", Some(10)),
            span("c", Some("a"), "g", Some(20)),
        ])
        .verdicts;
        assert_eq!(
            v,
            vec![
                Some(Verdict::HasUsageBelow),
                Some(Verdict::Counts),
                Some(Verdict::Counts)
            ]
        );
    }

    #[test]
    fn a_call_with_another_call_misattached_below_counts_too() {
        // SideSeat 1.0.8 can parent a streaming usage span under an unrelated chat span.
        let v = attribute(&[
            span("a", None, "l", Some(1017)),
            span("b", Some("a"), "l", Some(1119)),
        ])
        .verdicts;
        assert_eq!(v, vec![Some(Verdict::Counts), Some(Verdict::Counts)]);
    }

    #[test]
    fn sibling_spans_of_two_instrumentations_count_once() {
        let mut lf = span("x", Some("root"), "langfuse-sdk", Some(1017));
        lf.model = Some("gpt-4o-mini");
        let mut oi = span(
            "y",
            Some("root"),
            "openinference.instrumentation.openai",
            Some(1017),
        );
        oi.model = Some("gpt-4o-mini-2024-07-18");
        let other = span(
            "z",
            Some("root"),
            "openinference.instrumentation.openai",
            Some(2000),
        );
        let v = attribute(&[span("root", None, "app", None), lf, oi, other]).verdicts;
        assert_eq!(v[1], Some(Verdict::Counts));
        assert_eq!(v[2], Some(Verdict::DuplicateOf(1)));
        assert_eq!(v[3], Some(Verdict::Counts));
    }

    #[test]
    fn same_usage_same_scope_is_two_calls() {
        let v = attribute(&[
            span("a", None, "oi", Some(10)),
            span("b", None, "oi", Some(10)),
        ])
        .verdicts;
        assert_eq!(v, vec![Some(Verdict::Counts), Some(Verdict::Counts)]);
    }

    #[test]
    fn session_from_the_root_applies_to_the_trace() {
        let mut root = span("r", None, "app", None);
        root.session_id = Some("s1");
        let mut child = span("c", Some("r"), "oi", Some(1));
        child.user_id = Some("u");
        let a = attribute(&[root, child]);
        assert_eq!(a.session[1], Some("s1"));
        assert_eq!(a.user[0], Some("u"));
        assert!(a.session_conflict.is_none());
    }
}
