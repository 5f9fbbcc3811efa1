//! One trace's span tree, built once for every view that needs it: each span's parent
//! within the trace, children in start order, the roots (spans without a parent, and
//! orphans whose parent was never exported), and the parent links cut because they
//! closed a cycle. Nothing here recurses on input depth: a trace 10,000 spans deep is
//! walked with an explicit stack.

use crate::ingest::ids::SpanId;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tree {
    /// Each span's parent, by index, once cycles are cut.
    pub parent: Vec<Option<usize>>,
    /// Each span's children, in start order (then input order).
    pub children: Vec<Vec<usize>>,
    /// Spans with no parent in the trace, in start order.
    pub roots: Vec<usize>,
    /// Per span: the parent id it names when that span is not in the trace.
    pub missing_parent: Vec<Option<SpanId>>,
    /// Spans whose parent link was cut because it closed a cycle (a span that is its
    /// own parent included): they are roots here.
    pub cycles_cut: Vec<usize>,
}

impl Tree {
    /// The tree of spans given by id, parent id and start time, one entry per span.
    pub fn build(ids: &[SpanId], parents: &[Option<SpanId>], starts: &[i64]) -> Tree {
        let n = ids.len();
        let index: foldhash::HashMap<SpanId, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut parent: Vec<Option<usize>> = vec![None; n];
        let mut missing_parent = vec![None; n];
        for i in 0..n {
            if let Some(p) = parents[i] {
                match index.get(&p) {
                    Some(&j) => parent[i] = Some(j),
                    None => missing_parent[i] = Some(p),
                }
            }
        }
        // Cut cycles: walk up from each span not yet settled; meeting a span of the
        // current walk closes a cycle, whose link into it is cut.
        let mut state = vec![0u8; n]; // 0 unseen, 1 on the current walk, 2 settled
        let mut cycles_cut = Vec::new();
        let mut path = Vec::new();
        // Walks start in (start time, id) order, not input order: which link of a cycle
        // is cut must not depend on the order a dump or the store lists the spans in,
        // or `show` and `cost` could count a cycle's calls differently.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (starts[i], ids[i]));
        for start in order {
            if state[start] != 0 {
                continue;
            }
            path.clear();
            let mut cur = start;
            loop {
                state[cur] = 1;
                path.push(cur);
                match parent[cur] {
                    Some(p) if state[p] == 0 => cur = p,
                    Some(p) if state[p] == 1 => {
                        // `cur` points back into the walk: its link closes the cycle.
                        parent[cur] = None;
                        cycles_cut.push(cur);
                        break;
                    }
                    _ => break,
                }
            }
            for &i in &path {
                state[i] = 2;
            }
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (starts[i], i));
        children.iter_mut().for_each(by_start);
        by_start(&mut roots);
        cycles_cut.sort_unstable();
        Tree {
            parent,
            children,
            roots,
            missing_parent,
            cycles_cut,
        }
    }

    /// Every span once, depth first from each root in order, with its depth and
    /// whether it is the last of its siblings.
    pub fn walk(&self) -> Vec<Visit> {
        let mut out = Vec::with_capacity(self.parent.len());
        let mut stack: Vec<Visit> = self
            .roots
            .iter()
            .rev()
            .enumerate()
            .map(|(k, &i)| Visit {
                span: i,
                depth: 0,
                last: k == 0,
            })
            .collect();
        while let Some(v) = stack.pop() {
            out.push(v);
            let kids = &self.children[v.span];
            stack.extend(kids.iter().rev().enumerate().map(|(k, &c)| Visit {
                span: c,
                depth: v.depth + 1,
                last: k == 0,
            }));
        }
        out
    }

    /// Each span's subtree, as the spans under it in `walk` order: `f` folds children
    /// into parents, leaves first (a reverse walk, so no recursion).
    pub fn fold_up<T: Clone>(&self, own: &[T], mut add: impl FnMut(&mut T, &T)) -> Vec<T> {
        let mut acc: Vec<T> = own.to_vec();
        for v in self.walk().iter().rev() {
            if let Some(p) = self.parent[v.span] {
                let child = acc[v.span].clone();
                add(&mut acc[p], &child);
            }
        }
        acc
    }
}

/// One step of a depth-first walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    pub span: usize,
    pub depth: usize,
    /// The last child of its parent (or the last root): drawn with `└─`.
    pub last: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> SpanId {
        SpanId(n.to_be_bytes())
    }

    #[test]
    fn children_in_start_order_orphans_and_several_roots() {
        // 1 root; 2 and 3 its children (3 starts first); 4 an orphan of missing 9; 5 root.
        let ids = [id(1), id(2), id(3), id(4), id(5)];
        let parents = [None, Some(id(1)), Some(id(1)), Some(id(9)), None];
        let starts = [0, 20, 10, 5, 30];
        let t = Tree::build(&ids, &parents, &starts);
        assert_eq!(t.roots, [0, 3, 4]);
        assert_eq!(t.children[0], [2, 1]);
        assert_eq!(t.missing_parent[3], Some(id(9)));
        let order: Vec<(usize, usize)> = t.walk().iter().map(|v| (v.span, v.depth)).collect();
        assert_eq!(order, [(0, 0), (2, 1), (1, 1), (3, 0), (4, 0)]);
        assert!(t.walk()[2].last && !t.walk()[1].last);
    }

    #[test]
    fn cycles_are_cut_and_a_span_may_not_parent_itself() {
        // 1 -> 2 -> 3 -> 1, and 4 its own parent.
        let ids = [id(1), id(2), id(3), id(4)];
        let parents = [Some(id(3)), Some(id(1)), Some(id(2)), Some(id(4))];
        let t = Tree::build(&ids, &parents, &[0, 1, 2, 3]);
        assert_eq!(t.cycles_cut.len(), 2);
        assert!(t.cycles_cut.contains(&3));
        assert_eq!(t.walk().len(), 4, "every span once");
        assert_eq!(t.roots.len(), 2);
    }

    #[test]
    fn ten_thousand_levels_without_recursion() {
        let n = 10_000u64;
        let ids: Vec<SpanId> = (1..=n).map(id).collect();
        let parents: Vec<Option<SpanId>> = (1..=n).map(|i| (i > 1).then(|| id(i - 1))).collect();
        let starts: Vec<i64> = (0..n as i64).collect();
        let t = Tree::build(&ids, &parents, &starts);
        let walk = t.walk();
        assert_eq!(walk.last().unwrap().depth, n as usize - 1);
        let sizes = t.fold_up(&vec![1u64; n as usize], |a, b| *a += b);
        assert_eq!(sizes[0], n);
        assert_eq!(sizes[n as usize - 1], 1);
    }
}
