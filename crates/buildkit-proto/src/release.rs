/// The BuildKit release whose wire protocol `proto/` tracks.
pub const BUILDKIT_RELEASE: &str = "v0.32.2";

/// The moby/buildkit commit of that release.
pub const BUILDKIT_COMMIT: &str = "73ed6825";
