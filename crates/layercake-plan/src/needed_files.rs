//! The one way to learn which context files a plan (or the checks) depends on: ask, read what was
//! asked, answer, and ask again until nothing new is wanted (a requirement file names its `-r`/`-c`
//! includes only once it is read). Every caller — the frontend, the CLI, `--call check`, the tests
//! and the fuzz target — goes through [`gather`] or [`gather_async`], so none of them writes the
//! loop, and each decides only what a missing file means to it.

use std::collections::BTreeSet;
use std::future::Future;

use crate::error::PlanError;
use crate::lint::lint_files_to_read;
use crate::planner::{ContextFiles, Wanted, files_to_read};
use crate::settings::ServiceSettings;

/// Whose files are gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileScope<'t> {
    /// What the plan of one service reads: its requirement files and their includes. The first
    /// missing file ends the gathering (the plan cannot be made without it).
    Plan { target: &'t str },
    /// What the checks of every service read (manifests, lockfiles, requirement files): a missing
    /// file is something the checks report, so gathering goes on without it.
    Checks,
}

/// What was gathered: the files that exist, and the paths asked for that the context lacks, in
/// the order they were asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    pub files: ContextFiles,
    pub missing: Vec<String>,
}

/// Why gathering stopped: the planner could not say what it needs, or the reader failed.
#[derive(Debug, thiserror::Error)]
pub enum GatherError<E> {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Read(E),
}

/// More rounds than any include chain the planner accepts can take (each round reads at least
/// one file never asked for before, and the closure refuses to nest deeper than
/// [`crate::MAX_INCLUDE_DEPTH`]): reaching it is a planner bug, reported instead of looping.
const MAX_ROUNDS: usize = 4 * crate::MAX_INCLUDE_DEPTH + 8;

/// The state between rounds.
struct Rounds<'s> {
    services: &'s [ServiceSettings],
    scope: FileScope<'s>,
    asked: BTreeSet<String>,
    /// Paths whose absence is no error: not recorded as missing.
    optional: BTreeSet<String>,
    gathered: Gathered,
    rounds: usize,
}

impl<'s> Rounds<'s> {
    fn new(services: &'s [ServiceSettings], scope: FileScope<'s>) -> Self {
        Self {
            services,
            scope,
            asked: BTreeSet::new(),
            optional: BTreeSet::new(),
            gathered: Gathered::default(),
            rounds: 0,
        }
    }

    /// The paths to read next, none asked before; empty when gathering is done.
    fn wanted(&mut self) -> Result<Vec<String>, PlanError> {
        let wanted = match self.scope {
            FileScope::Plan { .. } if !self.gathered.missing.is_empty() => Wanted::default(),
            FileScope::Plan { target } => {
                files_to_read(self.services, target, &self.gathered.files, &self.asked)?
            }
            FileScope::Checks => lint_files_to_read(self.services, &self.gathered.files),
        };
        self.optional.extend(wanted.optional.iter().cloned());
        let wanted: Vec<String> = wanted.optional.into_iter().chain(wanted.required).collect();
        let wanted: Vec<String> = wanted
            .into_iter()
            .filter(|path| self.asked.insert(path.clone()))
            .collect();
        if !wanted.is_empty() {
            self.rounds += 1;
            if self.rounds > MAX_ROUNDS {
                return Err(PlanError::FilesNeverSettled {
                    rounds: MAX_ROUNDS,
                    last: wanted.join(", "),
                });
            }
        }
        Ok(wanted)
    }

    /// Records one round's answers: `found` holds the paths that exist.
    fn answer(&mut self, wanted: Vec<String>, mut found: ContextFiles) {
        for path in wanted {
            match found.remove(&path) {
                Some(contents) => {
                    self.gathered.files.insert(path, contents);
                }
                None if self.optional.contains(&path) => {}
                None => self.gathered.missing.push(path),
            }
        }
    }
}

/// Gathers the files `scope` needs with a reader that answers a batch of context-relative paths
/// with the ones that exist (absent from its map: not in the context). The second argument
/// holds the paths whose absence is an answer (what a service folder holds): one `.dockerignore`
/// leaves out is absent for them, where for the others the reader may say why it cannot be read.
/// A reader error (a file the context cannot hold, an IO failure) stops the gathering.
pub fn gather<E>(
    services: &[ServiceSettings],
    scope: FileScope<'_>,
    mut read: impl FnMut(&[String], &BTreeSet<String>) -> Result<ContextFiles, E>,
) -> Result<Gathered, GatherError<E>> {
    let mut rounds = Rounds::new(services, scope);
    loop {
        let wanted = rounds.wanted()?;
        if wanted.is_empty() {
            return Ok(rounds.gathered);
        }
        let found = read(&wanted, &rounds.optional).map_err(GatherError::Read)?;
        rounds.answer(wanted, found);
    }
}

/// [`gather`] for an asynchronous reader (the frontend reads the context through BuildKit).
pub async fn gather_async<E, F, Fut>(
    services: &[ServiceSettings],
    scope: FileScope<'_>,
    mut read: F,
) -> Result<Gathered, GatherError<E>>
where
    F: FnMut(Vec<String>, BTreeSet<String>) -> Fut,
    Fut: Future<Output = Result<ContextFiles, E>>,
{
    let mut rounds = Rounds::new(services, scope);
    loop {
        let wanted = rounds.wanted()?;
        if wanted.is_empty() {
            return Ok(rounds.gathered);
        }
        let found = read(wanted.clone(), rounds.optional.clone())
            .await
            .map_err(GatherError::Read)?;
        rounds.answer(wanted, found);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::services_from_spec;

    const SPEC: &str = "services:\n  api:\n    path: api\n    python: { version: \"3.11\", requirements: requirements.txt }\n  web:\n    path: web\n    node: { version: \"18\" }\n";

    fn services() -> Vec<ServiceSettings> {
        let spec = layercake_spec::parse("layercake.yaml", SPEC).expect("spec");
        services_from_spec(&spec.resolve_args(&BTreeMap::new()).expect("args")).expect("settings")
    }

    fn context(files: &[(&str, &str)]) -> ContextFiles {
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    /// A reader over `files` that records every batch it was asked for.
    fn reader<'a>(
        files: &'a ContextFiles,
        batches: &'a mut Vec<Vec<String>>,
    ) -> impl FnMut(&[String], &BTreeSet<String>) -> Result<ContextFiles, std::convert::Infallible> + 'a
    {
        move |wanted, _optional| {
            batches.push(wanted.to_vec());
            Ok(wanted
                .iter()
                .filter_map(|p| files.get(p).map(|t| (p.clone(), t.clone())))
                .collect())
        }
    }

    /// A service that does not say what its project is: the files that tell are asked for
    /// once, together; absent ones are an answer, not missing files.
    #[test]
    fn a_project_to_detect_is_probed_in_one_round_and_absent_probes_are_no_error() {
        let spec = "services:\n  api:\n    path: api\n    python: { version: \"3.12\" }\n";
        let parsed = layercake_spec::parse("layercake.yaml", spec).expect("spec");
        let services = services_from_spec(&parsed.resolve_args(&BTreeMap::new()).expect("args"))
            .expect("settings");
        let uv = context(&[("api/uv.lock", "version = 1\n"), ("api/pyproject.toml", "")]);
        let mut batches = Vec::new();
        let gathered = gather(
            &services,
            FileScope::Plan { target: "api" },
            reader(&uv, &mut batches),
        )
        .expect("gathered");
        assert_eq!(gathered.files, uv);
        assert!(gathered.missing.is_empty(), "{:?}", gathered.missing);
        assert_eq!(
            batches,
            [vec![
                "api/uv.lock".to_owned(),
                "api/pyproject.toml".to_owned(),
                "api/requirements.txt".to_owned(),
                "api/poetry.lock".to_owned(),
            ]]
        );
        // The reader is told which of them may be absent (and so left out by `.dockerignore`
        // without an error); the uv files it then needs are not among them.
        let mut optional_seen = Vec::new();
        gather(
            &services,
            FileScope::Plan { target: "api" },
            |wanted, optional| {
                optional_seen.push(optional.clone());
                Ok::<_, std::convert::Infallible>(
                    wanted
                        .iter()
                        .filter_map(|p| uv.get(p).map(|t| (p.clone(), t.clone())))
                        .collect(),
                )
            },
        )
        .expect("gathered");
        assert!(
            optional_seen[0].contains("api/poetry.lock"),
            "{optional_seen:?}"
        );
        assert!(
            optional_seen[0].contains("api/uv.lock"),
            "{optional_seen:?}"
        );
        // A folder with none of them: an error while reading, saying what it lacks.
        let mut batches = Vec::new();
        let empty = ContextFiles::new();
        let error = gather(
            &services,
            FileScope::Plan { target: "api" },
            reader(&empty, &mut batches),
        );
        assert!(
            matches!(
                &error,
                Err(GatherError::Plan(PlanError::NoPythonProject { .. }))
            ),
            "{error:?}"
        );
        assert_eq!(batches.len(), 1);
    }

    #[test]
    fn a_plan_gathers_includes_round_by_round_and_never_asks_twice() {
        let files = context(&[
            (
                "api/requirements.txt",
                "-r base.txt\n-c constraints.txt\nfastapi==0.1\n",
            ),
            ("api/base.txt", "-r requirements.txt\nidna==3\n"),
            ("api/constraints.txt", "idna==3\n"),
        ]);
        let mut batches = Vec::new();
        let gathered = gather(
            &services(),
            FileScope::Plan { target: "api" },
            reader(&files, &mut batches),
        )
        .expect("gathered");
        assert_eq!(gathered.files, files);
        assert!(gathered.missing.is_empty());
        // Round 1: the declared file; round 2: both of its includes, in the order written; the
        // loop back to requirements.txt is not asked for again.
        assert_eq!(
            batches,
            [
                vec!["api/requirements.txt".to_owned()],
                vec!["api/base.txt".to_owned(), "api/constraints.txt".to_owned()],
            ]
        );
    }

    #[test]
    fn a_missing_file_ends_a_plan_and_is_named() {
        let files = context(&[("api/requirements.txt", "-r gone.txt\n-r also-gone.txt\n")]);
        let mut batches = Vec::new();
        let gathered = gather(
            &services(),
            FileScope::Plan { target: "api" },
            reader(&files, &mut batches),
        )
        .expect("gathered");
        assert_eq!(gathered.missing, ["api/gone.txt", "api/also-gone.txt"]);
        assert_eq!(
            batches.len(),
            2,
            "no round after a file was missing: {batches:?}"
        );
    }

    #[test]
    fn checks_go_on_without_a_missing_file() {
        // web's lockfile is missing: the checks report that; api's includes are still followed.
        let files = context(&[
            ("api/requirements.txt", "-r base.txt\n"),
            ("api/base.txt", "idna==3\n"),
            ("web/package.json", "{}"),
        ]);
        let mut batches = Vec::new();
        let gathered =
            gather(&services(), FileScope::Checks, reader(&files, &mut batches)).expect("gathered");
        assert_eq!(gathered.files, files);
        assert!(
            gathered.missing.iter().any(|p| p.starts_with("web/")),
            "{gathered:?}"
        );
        let asked: Vec<&String> = batches.iter().flatten().collect();
        let unique: BTreeSet<&String> = asked.iter().copied().collect();
        assert_eq!(asked.len(), unique.len(), "a path asked twice: {batches:?}");
    }

    #[test]
    fn an_unknown_target_and_a_reader_error_stop_it() {
        let files = ContextFiles::new();
        let mut batches = Vec::new();
        let unknown = gather(
            &services(),
            FileScope::Plan { target: "nope" },
            reader(&files, &mut batches),
        );
        assert!(matches!(
            unknown,
            Err(GatherError::Plan(PlanError::UnknownTarget { .. }))
        ));
        let failed = gather(&services(), FileScope::Plan { target: "api" }, |_, _| {
            Err::<ContextFiles, _>("the context cannot hold it")
        });
        assert!(matches!(
            failed,
            Err(GatherError::Read("the context cannot hold it"))
        ));
    }
}
