use std::collections::{BTreeMap, BTreeSet};

use buildkit_proto::pb;

use crate::sourcemap::SourceLocation;

/// Which parts of a build skip the cache (their ops are marked `ignore_cache`): a frontend's
/// `no-cache` option (`--no-cache`, `--no-cache-filter`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NoCache {
    /// Option absent: use the cache.
    #[default]
    Off,
    /// `no-cache=` (empty): ignore the cache everywhere.
    All,
    /// `no-cache=a,b`: ignore the cache for the parts (stages, targets) of these names only.
    Only(BTreeSet<String>),
}

impl NoCache {
    /// Whether the part named `name` must ignore the cache.
    pub fn applies_to(&self, name: &str) -> bool {
        match self {
            NoCache::Off => false,
            NoCache::All => true,
            NoCache::Only(names) => names.contains(name),
        }
    }
}

/// The `Description` key BuildKit shows as a step's name in progress output.
pub const CUSTOM_NAME_KEY: &str = "llb.customname";

/// Per-op settings that are not part of the op itself: `OpMetadata` (description, cache
/// control, progress group, caps), worker constraints and source locations.
///
/// Every builder embeds one and exposes the same chainable methods (`custom_name`,
/// `description`, `ignore_cache`, `export_cache`, `progress_group`, `worker_constraint`,
/// `source_location`, `cap`).
#[derive(Clone, Debug, Default)]
pub struct OpOptions {
    pub(crate) description: BTreeMap<String, String>,
    pub(crate) ignore_cache: bool,
    pub(crate) export_cache: Option<bool>,
    pub(crate) progress_group: Option<pb::ProgressGroup>,
    pub(crate) worker_constraints: Vec<String>,
    pub(crate) locations: Vec<SourceLocation>,
    pub(crate) caps: BTreeSet<String>,
}

impl OpOptions {
    /// `Op.constraints` as BuildKit always writes it (present, possibly empty).
    pub(crate) fn worker_constraints_pb(&self) -> Option<pb::WorkerConstraints> {
        Some(pb::WorkerConstraints {
            filter: self.worker_constraints.clone(),
        })
    }

    /// The op's `OpMetadata`, with the caps the op itself needs plus any added by hand.
    pub(crate) fn metadata(&self, op_caps: &BTreeSet<&'static str>) -> pb::OpMetadata {
        let caps = op_caps
            .iter()
            .map(|cap| (*cap).to_owned())
            .chain(self.caps.iter().cloned())
            .map(|cap| (cap, true))
            .collect();
        pb::OpMetadata {
            ignore_cache: self.ignore_cache,
            description: self.description.clone(),
            export_cache: self.export_cache.map(|value| pb::ExportCache { value }),
            caps,
            progress_group: self.progress_group.clone(),
            linux_resources: None,
        }
    }
}

/// Adds the shared [`OpOptions`] methods to a builder with an `options: OpOptions` field.
macro_rules! op_options_methods {
    () => {
        /// Sets the step name shown in progress output (`llb.customname`).
        pub fn custom_name(mut self, name: impl Into<String>) -> Self {
            self.options
                .description
                .insert($crate::options::CUSTOM_NAME_KEY.to_owned(), name.into());
            self
        }

        /// Adds one `OpMetadata.description` entry (free-form text BuildKit keeps but does not parse).
        pub fn description(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.description.insert(key.into(), value.into());
            self
        }

        /// Never reuse a cached result of this op (`OpMetadata.ignore_cache`).
        pub fn ignore_cache(mut self) -> Self {
            self.options.ignore_cache = true;
            self
        }

        /// Forces (`true`) or forbids (`false`) exporting this op's result to the cache
        /// (`OpMetadata.export_cache`); unset means the build's default.
        pub fn export_cache(mut self, export: bool) -> Self {
            self.options.export_cache = Some(export);
            self
        }

        /// Groups this op's progress under one heading (`OpMetadata.progress_group`).
        pub fn progress_group(
            mut self,
            id: impl Into<String>,
            name: impl Into<String>,
            weak: bool,
        ) -> Self {
            self.options.progress_group = Some(buildkit_proto::pb::ProgressGroup {
                id: id.into(),
                name: name.into(),
                weak,
            });
            self
        }

        /// Adds a containerd-style worker filter (`Op.constraints.filter`).
        pub fn worker_constraint(mut self, filter: impl Into<String>) -> Self {
            self.options.worker_constraints.push(filter.into());
            self
        }

        /// Points this op back at a place in a source file (emitted in `Definition.source`).
        pub fn source_location(mut self, location: $crate::sourcemap::SourceLocation) -> Self {
            self.options.locations.push(location);
            self
        }

        /// Records an extra cap id in `OpMetadata.caps` (the builder records the ones it knows).
        pub fn cap(mut self, cap: impl Into<String>) -> Self {
            self.options.caps.insert(cap.into());
            self
        }
    };
}

pub(crate) use op_options_methods;
