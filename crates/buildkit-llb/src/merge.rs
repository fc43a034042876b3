use std::collections::BTreeSet;

use buildkit_proto::pb;

use crate::caps;
use crate::options::{OpOptions, op_options_methods};
use crate::output::{InputList, Node, Output};

/// A `MergeOp`: stacks filesystems, later inputs over earlier ones, without copying
/// (needs the `mergeop` cap).
#[derive(Clone, Debug)]
pub struct Merge {
    inputs: Vec<Output>,
    options: OpOptions,
}

impl Merge {
    /// Merges `inputs` in order.
    pub fn new(inputs: impl IntoIterator<Item = Output>) -> Self {
        Self {
            inputs: inputs.into_iter().collect(),
            options: OpOptions::default(),
        }
    }

    op_options_methods!();

    /// Marshals the merge. As in BuildKit, scratch inputs are dropped, and with fewer than two
    /// inputs left no op is made: the result is scratch or the single input itself.
    pub fn build(self) -> Output {
        let inputs: Vec<Output> = self
            .inputs
            .into_iter()
            .filter(|o| !o.is_scratch())
            .collect();
        match inputs.as_slice() {
            [] => return Output::scratch(),
            [single] => return single.clone(),
            _ => {}
        }
        let mut list = InputList::default();
        let mut merge_inputs = Vec::new();
        for input in &inputs {
            if let Some(edge) = input.to_pb_input() {
                merge_inputs.push(pb::MergeInput {
                    input: list.push(edge),
                });
            }
        }
        let op = pb::Op {
            inputs: list.inputs,
            platform: None,
            constraints: self.options.worker_constraints_pb(),
            op: Some(pb::op::Op::Merge(pb::MergeOp {
                inputs: merge_inputs,
            })),
        };
        let platform = inputs.first().and_then(|o| o.platform().cloned());
        let node = Node::finish(
            &op,
            inputs,
            self.options.metadata(&BTreeSet::from([caps::MERGE_OP])),
            self.options.locations.clone(),
            platform,
        );
        Output::new(node, 0)
    }
}

/// A `DiffOp`: the changes that turn `lower` into `upper`, as a filesystem of its own
/// (needs the `diffop` cap).
#[derive(Clone, Debug)]
pub struct Diff {
    lower: Output,
    upper: Output,
    options: OpOptions,
}

impl Diff {
    /// The difference from `lower` to `upper`.
    pub fn new(lower: Output, upper: Output) -> Self {
        Self {
            lower,
            upper,
            options: OpOptions::default(),
        }
    }

    op_options_methods!();

    /// Marshals the diff. As in BuildKit, a scratch `lower` makes no op: the result is `upper`.
    pub fn build(self) -> Output {
        if self.lower.is_scratch() {
            return self.upper;
        }
        let mut list = InputList::default();
        let lower = list.add(&self.lower);
        let upper = match self.upper.to_pb_input() {
            Some(edge) => list.push(edge),
            None => -1,
        };
        let op = pb::Op {
            inputs: list.inputs,
            platform: None,
            constraints: self.options.worker_constraints_pb(),
            op: Some(pb::op::Op::Diff(pb::DiffOp {
                lower: Some(pb::LowerDiffInput { input: lower }),
                upper: Some(pb::UpperDiffInput { input: upper }),
            })),
        };
        let deps: Vec<Output> = [&self.lower, &self.upper]
            .into_iter()
            .filter(|o| !o.is_scratch())
            .cloned()
            .collect();
        let platform = self.lower.platform().cloned();
        let node = Node::finish(
            &op,
            deps,
            self.options.metadata(&BTreeSet::from([caps::DIFF_OP])),
            self.options.locations.clone(),
            platform,
        );
        Output::new(node, 0)
    }
}
