//! `SOURCE_DATE_EPOCH` with `rewrite-timestamp=true`: the exporter rewrites the build's layers to
//! the epoch and leaves the base image's layers alone, which it can only do when the frontend
//! hands it the base image's config (with its `rootfs`). Both images start with a merge.

use crate::common::*;
use std::path::Path;
use std::process::Command;

use layercake_e2e::{Engine, string_list};
use serde_json::Value;

const EPOCH: &str = "1700000000";

fn read_blob(layout: &Path, digest: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let path = layout.join("blobs/sha256").join(hex);
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

/// The image config of a single-platform OCI layout tarball.
fn oci_config(tarball: &Path, layout: &Path) -> Result<Value, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(layout)?;
    let status = Command::new("tar")
        .arg("-xf")
        .arg(tarball)
        .arg("-C")
        .arg(layout)
        .status()?;
    assert!(status.success(), "tar -xf {}", tarball.display());
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json"))?)?;
    let mut manifest = read_blob(
        layout,
        index["manifests"][0]["digest"].as_str().unwrap_or(""),
    )?;
    // BuildKit wraps the image (and its attestations) in an index of its own.
    if manifest.get("manifests").is_some() {
        manifest = read_blob(
            layout,
            manifest["manifests"][0]["digest"].as_str().unwrap_or(""),
        )?;
    }
    read_blob(layout, manifest["config"]["digest"].as_str().unwrap_or(""))
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn rewrite_timestamp_keeps_the_base_image_layers_of_both_services() -> TestResult {
    let engine = Engine::new("reproducible")?;
    let project = engine.project("example")?;
    for (service, base) in [("api", "python:3.11-slim"), ("web", "nginx:stable")] {
        let dir = engine.scratch_dir(service)?;
        let tarball = dir.join("image.tar");
        // The engine's image exporter always unpacks, which rewrite-timestamp refuses: an OCI
        // layout gives the same manifest and config.
        let report = engine
            .build(&project)
            .target(service)
            .build_arg("SOURCE_DATE_EPOCH", EPOCH)
            .output(&format!(
                "type=oci,dest={},rewrite-timestamp=true",
                tarball.display()
            ))
            .run()?;
        report.ensure_success()?;
        let config = oci_config(&tarball, &dir.join("layout"))?;
        assert_eq!(
            config["created"].as_str(),
            Some("2023-11-14T22:13:20Z"),
            "{service}"
        );

        let built = string_list(&config["rootfs"]["diff_ids"]);
        let base_layers = engine.image_layers(base)?;
        assert!(!base_layers.is_empty(), "{base} has no layers");
        assert!(
            built.len() > base_layers.len(),
            "{service}: {built:?} over {base_layers:?}"
        );
        assert_eq!(
            built[..base_layers.len()],
            base_layers[..],
            "{service}: the base image's layers were rewritten"
        );
    }
    Ok(())
}
