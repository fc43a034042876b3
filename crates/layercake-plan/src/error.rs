//! What can go wrong between a valid spec and a plan.

use thiserror::Error;

/// A plan that cannot be made. Spec-level mistakes are caught earlier, with positions, by
/// `layercake-spec`; these need facts only the build has (the target, the context's files).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("unknown target `{target}`; the spec's services are: {}", services.join(", "))]
    UnknownTarget {
        target: String,
        services: Vec<String>,
    },
    #[error(
        "the spec has several services ({}) and no `default:`; choose one with --target",
        services.join(", ")
    )]
    NoTarget { services: Vec<String> },
    #[error("service `{service}`: `{path}` is outside the build context")]
    OutsideContext { service: String, path: String },
    #[error("service `{service}`: `{path}` was not found in the build context")]
    MissingFile { service: String, path: String },
    #[error("service `{service}`: assets come from `{from}`, which is not a node service")]
    AssetsNotNode { service: String, from: String },
    #[error("an http health check needs a port: set `port:` on the service or the health check")]
    HealthcheckWithoutPort,
}
