//! One row per session or per user: its traces, first and last call, calls, tokens and
//! cost, with the users of each session (or the sessions of each user). Made of two cost
//! reports of the same calls, one per key and one per key and the other, so that every
//! sum is the cost report's own and the rows add up to its total.

use super::cost_report::{CostReport, Dim, METRIC_COLUMNS, Metrics, metric_value};
use std::collections::{BTreeMap, BTreeSet};

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Session,
    User,
}

impl Per {
    pub fn dim(self) -> Dim {
        match self {
            Per::Session => Dim::Session,
            Per::User => Dim::User,
        }
    }

    /// The other dimension: the users of a session, the sessions of a user.
    pub fn other(self) -> Dim {
        match self {
            Per::Session => Dim::User,
            Per::User => Dim::Session,
        }
    }

    /// The groupings to ask the cost report for, in the order `SessionReport::new`
    /// takes them.
    pub fn groupings(self) -> Vec<Vec<Dim>> {
        vec![vec![self.dim()], vec![self.dim(), self.other()]]
    }

    /// The rows, in the plural (`sessions`, `users`).
    pub fn noun(self) -> &'static str {
        match self {
            Per::Session => "sessions",
            Per::User => "users",
        }
    }

    /// The field of the related values: a session's `user_id`s, a user's `sessions`.
    pub fn related_field(self) -> &'static str {
        match self {
            Per::Session => "user_id",
            Per::User => "sessions",
        }
    }
}

/// One session or user.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `None`: the calls that name no session (or user).
    pub key: Option<String>,
    /// The users the session's calls name (or the sessions the user's calls name),
    /// sorted; calls that name none add nothing.
    pub related: Vec<String>,
    pub metrics: Metrics,
}

#[derive(Debug, Clone)]
pub struct SessionReport {
    pub per: Per,
    pub rows: Vec<Row>,
    pub total: Metrics,
    /// The distinct related values of every row.
    pub related: Vec<String>,
    /// The report per key, its rows taken out: unpriced models, fallbacks, recorded
    /// mismatches and the newest call, for the warnings a cost report gives.
    pub costs: CostReport,
}

/// Columns a report can be sorted by besides the metrics.
pub const TIME_COLUMNS: [&str; 2] = ["first_time", "last_time"];

impl SessionReport {
    /// Made of the report per key (`by_key`) and the report per key and the other
    /// (`by_pair`), as `Per::groupings` asks for them.
    pub fn new(per: Per, mut by_key: CostReport, by_pair: CostReport) -> SessionReport {
        let mut related: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
        let mut all = BTreeSet::new();
        for (k, _) in &by_pair.rows {
            if let [key, Some(other)] = k.as_slice() {
                related
                    .entry(key.clone())
                    .or_default()
                    .insert(other.clone());
                all.insert(other.clone());
            }
        }
        let rows = std::mem::take(&mut by_key.rows)
            .into_iter()
            .map(|(mut k, metrics)| {
                let key = k.pop().flatten();
                Row {
                    related: related
                        .remove(&key)
                        .map(|r| r.into_iter().collect())
                        .unwrap_or_default(),
                    key,
                    metrics,
                }
            })
            .collect();
        SessionReport {
            per,
            rows,
            total: by_key.total.clone(),
            related: all.into_iter().collect(),
            costs: by_key,
        }
    }

    /// Sorts by the key, the related values, first or last time, or a metric; ties by
    /// the key, so the order is always the same.
    pub fn sort(&mut self, column: &str, descending: bool) -> Result<(), String> {
        let key_field = self.per.dim().field();
        let related = self.per.related_field();
        let known = column == key_field
            || column == related
            || TIME_COLUMNS.contains(&column)
            || METRIC_COLUMNS.contains(&column);
        if !known {
            let mut names = vec![key_field.as_str(), related];
            names.extend(TIME_COLUMNS);
            names.extend(METRIC_COLUMNS);
            return Err(crate::suggest::unknown("cannot sort by", column, &names));
        }
        let per = self.per;
        let order = |a: &Row, b: &Row| -> std::cmp::Ordering {
            match column {
                "first_time" => a.metrics.first_start.cmp(&b.metrics.first_start),
                "last_time" => a.metrics.last_start.cmp(&b.metrics.last_start),
                c if c == related => match per {
                    Per::Session => a.related.cmp(&b.related),
                    Per::User => a.related.len().cmp(&b.related.len()),
                },
                c if c == key_field => a.key.cmp(&b.key),
                c => metric_value(&a.metrics, c).cmp(&metric_value(&b.metrics, c)),
            }
        };
        self.rows.sort_unstable_by(|a, b| {
            let o = order(a, b);
            let o = if descending { o.reverse() } else { o };
            o.then_with(|| a.key.cmp(&b.key))
        });
        Ok(())
    }

    /// Keeps the first `n` rows and folds the rest into one `(other: N sessions)` row,
    /// so that the rows still add up to the total. Its traces are the folded rows'
    /// summed (a trace names one session and one user, so only a trace that names
    /// several counts more than once), its related values their union.
    pub fn top(&mut self, n: usize) {
        if self.rows.len() <= n {
            return;
        }
        let rest: Vec<Row> = self.rows.drain(n..).collect();
        let mut m = Metrics::default();
        let mut related = BTreeSet::new();
        for r in &rest {
            m.absorb(&r.metrics);
            related.extend(r.related.iter().cloned());
        }
        m.traces = rest.iter().map(|r| r.metrics.traces).sum();
        self.rows.push(Row {
            key: Some(format!("(other: {} {})", rest.len(), self.per.noun())),
            related: related.into_iter().collect(),
            metrics: m,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(calls: u64, cost: i64, first: i64, last: i64) -> Metrics {
        Metrics {
            traces: 1,
            calls,
            cost_usd: cost.into(),
            first_start: Some(first),
            last_start: Some(last),
            ..Default::default()
        }
    }

    fn report() -> SessionReport {
        let key = |s: Option<&str>| s.map(String::from);
        let by_key = CostReport {
            group_by: vec![Dim::Session],
            rows: vec![
                (vec![key(Some("a"))], metrics(2, 5, 10, 20)),
                (vec![key(Some("b"))], metrics(1, 7, 5, 5)),
                (vec![None], metrics(1, 1, 30, 30)),
            ],
            total: metrics(4, 13, 5, 30),
            ..Default::default()
        };
        let by_pair = CostReport {
            group_by: vec![Dim::Session, Dim::User],
            rows: vec![
                (vec![key(Some("a")), key(Some("u2"))], metrics(1, 2, 10, 10)),
                (vec![key(Some("a")), key(Some("u1"))], metrics(1, 3, 20, 20)),
                (vec![key(Some("b")), None], metrics(1, 7, 5, 5)),
                (vec![None, key(Some("u1"))], metrics(1, 1, 30, 30)),
            ],
            ..Default::default()
        };
        SessionReport::new(Per::Session, by_key, by_pair)
    }

    #[test]
    fn related_values_sorting_and_folding() {
        let mut r = report();
        r.sort("cost_usd", true).unwrap();
        let keys: Vec<_> = r.rows.iter().map(|r| r.key.clone()).collect();
        assert_eq!(keys, [Some("b".into()), Some("a".into()), None]);
        assert_eq!(r.rows[1].related, ["u1", "u2"]);
        assert!(r.rows[0].related.is_empty());
        assert_eq!(r.rows[2].related, ["u1"]);
        assert_eq!(r.related, ["u1", "u2"]);
        r.sort("first_time", false).unwrap();
        assert_eq!(r.rows[0].key.as_deref(), Some("b"));
        r.sort("last_time", true).unwrap();
        assert_eq!(r.rows[0].key, None);
        assert!(
            r.sort("frist_time", false)
                .unwrap_err()
                .contains("first_time")
        );
        r.sort("cost_usd", true).unwrap();
        r.top(1);
        assert_eq!(r.rows.len(), 2);
        let other = &r.rows[1];
        assert_eq!(other.key.as_deref(), Some("(other: 2 sessions)"));
        assert_eq!(other.metrics.calls, 3);
        assert_eq!(other.metrics.traces, 2);
        assert_eq!(other.metrics.cost_usd, 6.into());
        assert_eq!(
            (other.metrics.first_start, other.metrics.last_start),
            (Some(10), Some(30))
        );
        assert_eq!(other.related, ["u1", "u2"]);
    }
}
