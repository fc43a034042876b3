//! `--platform linux/amd64,linux/386`: one pushed index with both, and the 386 image runs 32-bit.

use crate::common::*;
use layercake_e2e::{Engine, registry_platforms};

/// Pointer size of the running python, ELF class of the compiled pydantic-core extension
/// (1 = 32-bit, 2 = 64-bit) and dpkg's architecture. `platform.machine()` is no use here:
/// without a linux32 personality the kernel reports x86_64 to i386 processes too.
const ARCH_PROBE: &str = "import struct, subprocess, pydantic_core._pydantic_core as ext; \
print(struct.calcsize('P') * 8, open(ext.__file__, 'rb').read(5)[4], \
subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True).stdout.strip())";

#[test]
#[ignore = "needs the real engine: make e2e"]
fn api_builds_and_pushes_amd64_and_386_and_the_386_image_runs_32_bit() -> TestResult {
    let engine = Engine::new("multi_platform")?;
    let project = engine.project("example")?;
    let reference = format!("{}:multi", engine.registry_repo("api"));
    // The docker driver also unpacks the result into the local store under this name.
    engine.track_image(&reference);

    let report = engine
        .build(&project)
        .target("api")
        .platform("linux/amd64,linux/386")
        .output(&format!("type=image,name={reference},push=true"))
        .run()?;
    report.ensure_success()?;
    // One vertex per platform for every wheel step (same step name, different digests).
    for step in numbered_steps(&report, API_WHEELS)? {
        assert_eq!(
            step.digests().len(),
            2,
            "{}:\n{}",
            step.name(),
            report.summary()
        );
    }

    let platforms = registry_platforms(&reference)?;
    assert!(
        platforms.iter().any(|p| p == "linux/amd64"),
        "{platforms:?}"
    );
    assert!(platforms.iter().any(|p| p == "linux/386"), "{platforms:?}");
    assert_eq!(platforms.len(), 2, "{platforms:?}");

    let i386 = engine.run_once(
        &reference,
        &["--platform", "linux/386"],
        &["python3", "-c", ARCH_PROBE],
    )?;
    assert_eq!(i386, "32 1 i386", "the linux/386 image");
    let amd64 = engine.run_once(
        &reference,
        &["--platform", "linux/amd64"],
        &["python3", "-c", ARCH_PROBE],
    )?;
    assert_eq!(amd64, "64 2 amd64", "the linux/amd64 image");
    Ok(())
}
