//! Reading an LLB graph back in tests: ops by digest, their names, inputs and copies, what
//! reaches the build context and through which filtered copies, and the image's layer chain.
//! Shared by the plan's structure tests and the frontend's fake-bridge tests (the `testing`
//! feature; never in a production build, so it may panic with a message).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use crate::{Definition, pb};

/// A decoded LLB graph, addressed by op digest.
pub struct Graph {
    pub ops: BTreeMap<String, pb::Op>,
    pub metadata: BTreeMap<String, pb::OpMetadata>,
    /// (digest, output index) of the result.
    pub head: (String, i64),
}

/// One op of the image's layer chain: the op and, for copies, where they copy to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub digest: String,
    pub name: String,
    /// Exec: the mount whose output the chain follows; file op: the copy/mkfile destinations.
    pub paths: Vec<String>,
}

impl Graph {
    pub fn new(definition: &Definition) -> Graph {
        Graph::from_pb(definition.as_pb())
    }

    /// The graph of a definition as it travels (a recorded `Solve`).
    pub fn from_pb(definition: &pb::Definition) -> Graph {
        let decoded =
            Definition::from_pb(definition.clone()).unwrap_or_else(|e| panic!("decode: {e}"));
        let mut ops = BTreeMap::new();
        let mut terminal = None;
        for (digest, op) in decoded.ops() {
            if op.op.is_none() {
                terminal = op.inputs.first().map(|i| (i.digest.clone(), i.index));
            } else {
                ops.insert(digest.as_str().to_owned(), op.clone());
            }
        }
        Graph {
            ops,
            metadata: decoded.as_pb().metadata.clone(),
            head: terminal.unwrap_or_else(|| panic!("no terminal op")),
        }
    }

    pub fn op(&self, digest: &str) -> &pb::Op {
        self.ops
            .get(digest)
            .unwrap_or_else(|| panic!("no op {digest}"))
    }

    pub fn name(&self, digest: &str) -> &str {
        self.metadata
            .get(digest)
            .and_then(|m| m.description.get(crate::CUSTOM_NAME_KEY))
            .map_or("", String::as_str)
    }

    pub fn ignores_cache(&self, digest: &str) -> bool {
        self.metadata.get(digest).is_some_and(|m| m.ignore_cache)
    }

    /// The one op whose custom name contains `needle`.
    pub fn find(&self, needle: &str) -> String {
        let found: Vec<&String> = self
            .ops
            .keys()
            .filter(|d| self.name(d).contains(needle))
            .collect();
        assert_eq!(found.len(), 1, "ops named like `{needle}`: {found:?}");
        found[0].clone()
    }

    pub fn exec(&self, digest: &str) -> &pb::ExecOp {
        match &self.op(digest).op {
            Some(pb::op::Op::Exec(exec)) => exec,
            other => panic!("{} is not an exec: {other:?}", self.name(digest)),
        }
    }

    pub fn file(&self, digest: &str) -> &pb::FileOp {
        match &self.op(digest).op {
            Some(pb::op::Op::File(file)) => file,
            other => panic!("{} is not a file op: {other:?}", self.name(digest)),
        }
    }

    /// The copy actions of a file op.
    pub fn copies(&self, digest: &str) -> Vec<&pb::FileActionCopy> {
        self.file(digest)
            .actions
            .iter()
            .filter_map(|a| match &a.action {
                Some(pb::file_action::Action::Copy(copy)) => Some(copy),
                _ => None,
            })
            .collect()
    }

    pub fn is_context(&self, digest: &str) -> bool {
        matches!(&self.op(digest).op, Some(pb::op::Op::Source(s)) if s.identifier.starts_with("local://"))
    }

    pub fn inputs(&self, digest: &str) -> Vec<String> {
        self.op(digest)
            .inputs
            .iter()
            .map(|i| i.digest.clone())
            .collect()
    }

    /// Whether `from` reaches the build context without passing through any op in `avoid`.
    pub fn reaches_context_avoiding(&self, from: &str, avoid: &BTreeSet<String>) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(digest) = stack.pop() {
            if avoid.contains(&digest) || !seen.insert(digest.clone()) {
                continue;
            }
            if self.is_context(&digest) {
                return true;
            }
            stack.extend(self.inputs(&digest));
        }
        false
    }

    /// Every op `from` depends on, itself included.
    pub fn ancestors(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(digest) = stack.pop() {
            if seen.insert(digest.clone()) {
                stack.extend(self.inputs(&digest));
            }
        }
        seen
    }

    /// The ops whose output is a layer of the result, from the head down to the base image: for
    /// an exec the mount whose output is taken, for a file op the action chain's base. A merge
    /// lists its inputs' layers last input first, so its first input (the base) ends the list; a
    /// diff lists its upper side's ops down to (not including) its lower side.
    pub fn layer_chain(&self) -> Vec<ChainLink> {
        let mut chain = Vec::new();
        // (edge, where a diff's upper side stops)
        let mut stack: Vec<((String, i64), Option<String>)> = vec![(self.head.clone(), None)];
        while let Some(((digest, index), stop)) = stack.pop() {
            if stop.as_deref() == Some(digest.as_str()) {
                continue;
            }
            let op = self.op(&digest);
            let name = self.name(&digest).to_owned();
            let edge = |i: i64| {
                usize::try_from(i)
                    .ok()
                    .map(|i| (op.inputs[i].digest.clone(), op.inputs[i].index))
            };
            let mut paths = Vec::new();
            match &op.op {
                Some(pb::op::Op::Exec(exec)) => {
                    let mount = exec
                        .mounts
                        .iter()
                        .find(|m| m.output == index)
                        .unwrap_or_else(|| panic!("{name}: no mount gives output {index}"));
                    paths.push(mount.dest.clone());
                    if let Some(next) = edge(mount.input) {
                        stack.push((next, stop));
                    }
                }
                Some(pb::op::Op::File(file)) => {
                    let inputs = op.inputs.len();
                    let mut action = file
                        .actions
                        .iter()
                        .find(|a| a.output == index)
                        .unwrap_or_else(|| panic!("{name}: no action gives output {index}"));
                    loop {
                        match &action.action {
                            Some(pb::file_action::Action::Copy(c)) => paths.push(c.dest.clone()),
                            Some(pb::file_action::Action::Mkfile(m)) => paths.push(m.path.clone()),
                            Some(pb::file_action::Action::Mkdir(m)) => paths.push(m.path.clone()),
                            _ => {}
                        }
                        match usize::try_from(action.input) {
                            Ok(i) if i < inputs => {
                                stack.push((
                                    (op.inputs[i].digest.clone(), op.inputs[i].index),
                                    stop,
                                ));
                                break;
                            }
                            Ok(i) => action = &file.actions[i - inputs],
                            Err(_) => break,
                        }
                    }
                }
                Some(pb::op::Op::Merge(merge)) => {
                    for input in &merge.inputs {
                        if let Some(next) = edge(input.input) {
                            stack.push((next, stop.clone()));
                        }
                    }
                }
                Some(pb::op::Op::Diff(diff)) => {
                    let lower = diff
                        .lower
                        .as_ref()
                        .and_then(|l| edge(l.input))
                        .map(|(digest, _)| digest);
                    if let Some(next) = diff.upper.as_ref().and_then(|u| edge(u.input)) {
                        stack.push((next, lower));
                    }
                }
                _ => {}
            }
            chain.push(ChainLink {
                digest: digest.clone(),
                name,
                paths,
            });
        }
        chain
    }

    pub fn execs(&self) -> impl Iterator<Item = (&pb::Op, &pb::ExecOp)> {
        self.ops.values().filter_map(|op| match &op.op {
            Some(pb::op::Op::Exec(exec)) => Some((op, exec)),
            _ => None,
        })
    }

    /// The exec op whose args contain all of `words`, in order.
    pub fn exec_running(&self, words: &[&str]) -> (&pb::Op, &pb::ExecOp) {
        let found: Vec<_> = self
            .execs()
            .filter(|(_, exec)| {
                let args = &exec.meta.as_ref().unwrap().args;
                args.windows(words.len()).any(|w| w == words)
            })
            .collect();
        assert_eq!(found.len(), 1, "one exec running {words:?}");
        found[0]
    }

    /// Every exec whose joined args contain `words` (e.g. `pip wheel`).
    pub fn execs_mentioning(&self, words: &str) -> Vec<(&pb::Op, &pb::ExecOp)> {
        self.execs()
            .filter(|(_, exec)| exec.meta.as_ref().unwrap().args.join(" ").contains(words))
            .collect()
    }

    /// How `op` sees the build context: the include patterns of each filtered copy on its
    /// way to `local://context`, or `None` for a way that reaches the context unfiltered.
    pub fn context_views(&self, op: &pb::Op) -> BTreeSet<Option<Vec<String>>> {
        let mut views = BTreeSet::new();
        let mut seen = BTreeSet::new();
        self.walk_views(op, &mut views, &mut seen);
        views
    }

    fn walk_views(
        &self,
        op: &pb::Op,
        views: &mut BTreeSet<Option<Vec<String>>>,
        seen: &mut BTreeSet<String>,
    ) {
        if let Some(pb::op::Op::Source(source)) = &op.op {
            if source.identifier == "local://context" {
                views.insert(None);
            }
            return;
        }
        let mut inputs: Vec<i64> = (0..op.inputs.len() as i64).collect();
        if let Some(pb::op::Op::File(file)) = &op.op {
            let copies: Vec<_> = file
                .actions
                .iter()
                .filter_map(|a| match &a.action {
                    Some(pb::file_action::Action::Copy(copy)) => Some((a, copy)),
                    _ => None,
                })
                .collect();
            if !copies.is_empty()
                && copies.len() == file.actions.len()
                && copies.iter().all(|(_, c)| !c.include_patterns.is_empty())
            {
                // A filtered copy: it sees only its patterns of its source; its base still counts.
                for (_, copy) in &copies {
                    views.insert(Some(copy.include_patterns.clone()));
                }
                inputs = copies
                    .iter()
                    .map(|(a, _)| a.input)
                    .filter(|i| *i >= 0)
                    .collect();
            }
        }
        for index in inputs {
            let digest = &op.inputs[usize::try_from(index).unwrap()].digest;
            if seen.insert(digest.clone()) {
                self.walk_views(&self.ops[digest], views, seen);
            }
        }
    }

    pub fn sources(&self) -> impl Iterator<Item = (&pb::Op, &pb::SourceOp)> {
        self.ops.values().filter_map(|op| match &op.op {
            Some(pb::op::Op::Source(source)) => Some((op, source)),
            _ => None,
        })
    }
}
