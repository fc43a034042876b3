//! A stage being planned, and how it is finished: its steps numbered and named for progress.

use super::*;

/// Steps of one stage, numbered when the stage is finished: `[api wheels 2/3] pip wheel …`.
pub(super) struct StageDraft {
    pub(super) id: StageId,
    /// What `--no-cache-filter` also calls the stage (its own name unless set).
    pub(super) family: Option<&'static str>,
    pub(super) purpose: String,
    pub(super) platform: Platform,
    pub(super) base: Base,
    pub(super) steps: Vec<Step>,
}

impl StageDraft {
    pub(super) fn new(
        service: &str,
        stage: &str,
        purpose: &str,
        platform: &Platform,
        base: Base,
    ) -> Self {
        StageDraft {
            id: StageId::new(service, stage),
            family: None,
            purpose: purpose.to_owned(),
            platform: platform.clone(),
            base,
            steps: Vec::new(),
        }
    }

    /// The stage also answers to `family` in `--no-cache-filter`: a wheel group to `wheels`, the
    /// install layers and their base and code to `runtime`, as the single-step stages they split.
    pub(super) fn answering_to(mut self, family: &'static str) -> Self {
        self.family = Some(family);
        self
    }

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
    /// A stage whose step names the caller sets; not yet added to the plan.
    pub(super) fn finish_unnumbered(
        &self,
        draft: StageDraft,
        output: StageOutput,
        export_cache: bool,
    ) -> Stage {
        Stage {
            ignore_cache: skips_cache(
                &self.options.no_cache,
                &draft.id,
                draft.family.unwrap_or(draft.id.stage.as_str()),
            ),
            id: draft.id,
            purpose: draft.purpose,
            platform: draft.platform,
            base: draft.base,
            // Step names reach BuildKit's progress and the terminal: what a value holds that
            // would be invisible or act on the terminal is shown escaped.
            steps: draft.steps.into_iter().map(escape_step_name).collect(),
            output,
            export_cache,
            secret_derived: false,
        }
    }

    pub(super) fn finish(
        &mut self,
        mut draft: StageDraft,
        output: StageOutput,
        export_cache: bool,
    ) -> StageId {
        let total = draft.steps.len();
        for (index, step) in draft.steps.iter_mut().enumerate() {
            let prefix = format!(
                "[{} {} {}/{}] ",
                draft.id.service,
                draft.id.stage,
                index + 1,
                total
            );
            match step {
                Step::Run(s) => s.name.insert_str(0, &prefix),
                Step::Copy(s) => s.name.insert_str(0, &prefix),
                Step::WriteFile(s) => s.name.insert_str(0, &prefix),
            }
        }
        let id = draft.id.clone();
        let stage = self.finish_unnumbered(draft, output, export_cache);
        self.stages.push(stage);
        id
    }
}
