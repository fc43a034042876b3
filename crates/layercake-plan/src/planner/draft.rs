//! A stage being planned, and how it is finished: its steps numbered and named for progress.

use std::collections::BTreeMap;

use buildkit_llb::NoCache;

use crate::model::{
    Base, CopyStep, Network, Platform, RunStep, RunsOn, Stage, StageId, StageKind, StageOutput,
    Step, WriteFileStep,
};

use super::Planner;
use super::steps::escape_step_name;

/// Whether `--no-cache-filter` (or `--no-cache`) names the stage (see [`StageId::filter_names`]).
fn skips_cache(no_cache: &NoCache, id: &StageId) -> bool {
    id.filter_names()
        .iter()
        .any(|name| no_cache.applies_to(name))
}

/// Steps of one stage, labelled when the stage is finished: `[api wheels 2/3] pip wheel …`.
pub(super) struct StageDraft {
    pub(super) id: StageId,
    pub(super) purpose: String,
    pub(super) runs_on: RunsOn,
    /// The platform `runs_on` names, for this build.
    pub(super) platform: Platform,
    pub(super) base: Base,
    pub(super) steps: Vec<Step>,
}

impl StageDraft {
    /// Adds a run step as root in `/`; `shape` sets the rest.
    pub(super) fn run(&mut self, label: &str, args: Vec<String>, shape: impl FnOnce(&mut RunStep)) {
        let mut step = RunStep {
            name: label.to_owned(),
            args,
            env: BTreeMap::new(),
            cwd: "/".into(),
            user: "0:0".into(),
            mounts: Vec::new(),
            network: Network::Default,
        };
        shape(&mut step);
        self.steps.push(Step::Run(step));
    }

    pub(super) fn copy(&mut self, step: CopyStep) {
        self.steps.push(Step::Copy(step));
    }

    pub(super) fn write(&mut self, label: &str, path: &str, contents: String) {
        self.steps.push(Step::WriteFile(WriteFileStep {
            name: label.to_owned(),
            path: path.to_owned(),
            contents,
            mode: 0o644,
        }));
    }
}

impl Planner<'_> {
    /// A stage of `service` to add steps to; [`Planner::finish`] adds it to the plan.
    pub(super) fn draft(
        &self,
        service: &str,
        kind: StageKind,
        purpose: &str,
        runs_on: RunsOn,
        base: Base,
    ) -> StageDraft {
        StageDraft {
            id: StageId::new(service, kind),
            purpose: purpose.to_owned(),
            runs_on,
            platform: match runs_on {
                RunsOn::Target => self.options.platform.clone(),
                RunsOn::Build => self.options.build_platform.clone(),
            },
            base,
            steps: Vec::new(),
        }
    }

    /// Labels the draft's steps (`[api wheels 2/3] …`, see [`StageId::step_label`]) and adds
    /// the stage to the plan.
    pub(super) fn finish(
        &mut self,
        draft: StageDraft,
        output: StageOutput,
        export_cache: bool,
    ) -> StageId {
        let total = draft.steps.len();
        let steps = draft
            .steps
            .into_iter()
            .enumerate()
            .map(|(index, mut step)| {
                let label = draft.id.step_label(index + 1, total);
                match &mut step {
                    Step::Run(s) => s.name = format!("{label} {}", s.name),
                    Step::Copy(s) => s.name = format!("{label} {}", s.name),
                    Step::WriteFile(s) => s.name = format!("{label} {}", s.name),
                }
                // Step names reach BuildKit's progress and the terminal: what a value holds
                // that would be invisible or act on the terminal is shown escaped.
                escape_step_name(step)
            })
            .collect();
        let id = draft.id;
        self.stages.push(Stage {
            ignore_cache: skips_cache(&self.options.no_cache, &id),
            id: id.clone(),
            purpose: draft.purpose,
            runs_on: draft.runs_on,
            platform: draft.platform,
            base: draft.base,
            steps,
            output,
            export_cache,
            secret_derived: false,
        });
        id
    }
}
