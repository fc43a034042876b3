//! What the engine can do, as far as it changes the plan or its LLB: derived once from the LLB
//! caps BuildKit's `Ping` reports.

use buildkit_llb::{Caps, caps};

/// The engine features the plan and its lowering depend on, made from `Ping`'s LLB caps in one
/// place ([`EngineFeatures::from_caps`]). [`PlanOptions`](crate::PlanOptions) hands them to the
/// planner and the [`Plan`](crate::Plan) carries them to [`lower`](crate::lower), so the stages
/// designed for an engine and the ops written for them always agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineFeatures {
    merge_diff: bool,
    copy_patterns: bool,
    mount_content_cache: bool,
}

impl EngineFeatures {
    /// A current BuildKit: every feature. The offline commands and the tests plan for it.
    pub const fn all() -> EngineFeatures {
        EngineFeatures {
            merge_diff: true,
            copy_patterns: true,
            mount_content_cache: true,
        }
    }

    /// None of the features: BuildKit v0.8 (Docker 20.10), or an engine that reports no caps.
    pub const fn none() -> EngineFeatures {
        EngineFeatures {
            merge_diff: false,
            copy_patterns: false,
            mount_content_cache: false,
        }
    }

    /// The features of an engine whose enabled LLB caps are `caps`.
    pub fn from_caps(caps: &Caps) -> EngineFeatures {
        EngineFeatures {
            // Both arrived in BuildKit 0.10; the v0.8 engine of Docker 20.10 has neither.
            merge_diff: caps.contains(caps::MERGE_OP) && caps.contains(caps::DIFF_OP),
            copy_patterns: caps.contains(caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS),
            mount_content_cache: caps.contains(caps::EXEC_MOUNT_CONTENT_CACHE),
        }
    }

    /// The same features, with or without [`EngineFeatures::merge_diff`].
    pub const fn with_merge_diff(mut self, on: bool) -> EngineFeatures {
        self.merge_diff = on;
        self
    }

    /// The same features, with or without [`EngineFeatures::copy_patterns`].
    pub const fn with_copy_patterns(mut self, on: bool) -> EngineFeatures {
        self.copy_patterns = on;
        self
    }

    /// The same features, with or without [`EngineFeatures::mount_content_cache`].
    pub const fn with_mount_content_cache(mut self, on: bool) -> EngineFeatures {
        self.mount_content_cache = on;
        self
    }

    /// The engine can diff and merge file systems (DiffOp and MergeOp, `diffop`/`mergeop`,
    /// BuildKit 0.10+). Pinned requirements are then installed one layer per wheel group, laid
    /// onto the runtime image with MergeOp, so a changed pin reinstalls and re-exports one small
    /// layer, and the image's parts are merged rather than copied. Without it, one `pip install`
    /// over all wheels, merges are lowered to copies, and a plan with
    /// [`StageOutput::Diff`](crate::StageOutput::Diff) cannot be lowered (the planner avoids it).
    pub const fn merge_diff(self) -> bool {
        self.merge_diff
    }

    /// The engine takes include/exclude patterns on copies
    /// (`file.copy.includeexcludepatterns`, BuildKit 0.9+). Without them, copies whose includes
    /// name plain files copy those files one by one, and a context copy's excludes move to a
    /// filtered local source. Copies with glob includes still need the capability.
    pub const fn copy_patterns(self) -> bool {
        self.copy_patterns
    }

    /// The engine takes a mount's content-cache mode (`exec.mount.cache.content`, BuildKit
    /// 0.13+). A writable mount of a stage's result is then keyed by that stage's cache key
    /// alone. Otherwise BuildKit hashes every file of it on each cache check: for the npm
    /// build's `/app` (node_modules and the code) that is about 0.25 s per build, and it never
    /// finds a match the key did not, since the stage's key already follows its content.
    pub const fn mount_content_cache(self) -> bool {
        self.mount_content_cache
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_follow_the_caps() {
        let all: Caps = [
            caps::MERGE_OP,
            caps::DIFF_OP,
            caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS,
            caps::EXEC_MOUNT_CONTENT_CACHE,
        ]
        .into_iter()
        .collect();
        assert_eq!(EngineFeatures::from_caps(&all), EngineFeatures::all());
        assert_eq!(
            EngineFeatures::from_caps(&Caps::new()),
            EngineFeatures::none()
        );
        // MergeOp without DiffOp is not enough to plan install layers.
        let merge_only: Caps = [caps::MERGE_OP, caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS]
            .into_iter()
            .collect();
        let features = EngineFeatures::from_caps(&merge_only);
        assert!(!features.merge_diff());
        assert!(features.copy_patterns());
        assert!(!features.mount_content_cache());
        assert_eq!(
            EngineFeatures::all()
                .with_merge_diff(false)
                .with_copy_patterns(false)
                .with_mount_content_cache(false),
            EngineFeatures::none()
        );
    }
}
