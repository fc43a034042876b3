//! Shared by the e2e test files: the result type and the steps every scenario names.

use std::time::Duration;

pub mod python_image;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// How long a container may take to report `healthy`.
pub const HEALTHY_WITHIN: Duration = Duration::from_secs(120);

/// Every wheel step: one `[api wheels 1/1]`, or several groups (`[api wheels 1/4]`,
/// `[api wheels 2/4]` …) when the requirements are fully pinned.
pub const API_WHEELS: &str = "[api wheels";
/// Every install step: the example's requirements are pinned, so one `pip install --no-deps`
/// per wheel group (`[api install 2/4] annotated-types==…`), each its own layer.
pub const API_INSTALL: &str = "[api install";
/// `pip install --dry-run` over all wheels: proves the set complete beside the installs.
pub const API_RESOLVE: &str = "[api resolve 1/1]";
pub const API_CODE: &str = "[api code 1/1] copy backend/";
pub const WEB_NPM_CI: &str = "[web deps 1/1] npm ci";
pub const WEB_BUILD: &str = "[web build 1/1] npm run build";
pub const WEB_HTML_COPY: &str = "[web html 1/1] copy build output";

/// A marker no build could contain by accident.
pub fn marker(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos());
    format!("LAYERCAKE-E2E-{what}-{}-{nanos:x}", std::process::id())
}

/// The numbered steps a prefix names: `[api wheels 1/4] …` and `[api wheels 2/4] …`, but not
/// `[api wheels] merge 4 results`, which joins their outputs and runs no process. Never empty.
pub fn numbered_steps<'r>(
    report: &'r layercake_e2e::BuildReport,
    prefix: &str,
) -> Result<Vec<&'r layercake_e2e::Step>, Box<dyn std::error::Error>> {
    let steps: Vec<_> = report
        .steps_named(prefix)?
        .into_iter()
        .filter(|step| step.is_numbered())
        .collect();
    if steps.is_empty() {
        return Err(format!("no numbered step `{prefix} N/M]`:\n{}", report.summary()).into());
    }
    Ok(steps)
}
