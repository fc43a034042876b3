//! Reading manifests and blobs from the rig's local registry (plain HTTP on 127.0.0.1:5000).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::HarnessError;
use crate::command::run_ok;

/// The rig's registry.
pub const REGISTRY: &str = "127.0.0.1:5000";

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// One blob (or manifest) of a registry reference, saved to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryBlob {
    pub digest: String,
    pub media_type: String,
    pub path: PathBuf,
}

/// `127.0.0.1:5000/repo/name:tag` → (`repo/name`, `tag`); a `@sha256:…` reference works too.
fn split_reference(reference: &str) -> Result<(&str, &str), HarnessError> {
    let rest = reference
        .strip_prefix(REGISTRY)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| HarnessError::unexpected(reference, format!("not in {REGISTRY}")))?;
    if let Some(split) = rest.split_once('@') {
        return Ok(split);
    }
    let slash = rest.rfind('/').map_or(0, |at| at + 1);
    match rest[slash..].rfind(':') {
        Some(colon) => Ok((&rest[..slash + colon], &rest[slash + colon + 1..])),
        None => Ok((rest, "latest")),
    }
}

fn get(path: &str, accept: &str) -> Result<Vec<u8>, HarnessError> {
    let url = format!("http://{REGISTRY}/v2/{path}");
    Ok(run_ok("curl", &["-sSfL", "-H", &format!("Accept: {accept}"), &url])?.stdout)
}

/// The manifest (or index) a reference points at, as JSON.
pub fn registry_manifest(reference: &str) -> Result<Value, HarnessError> {
    let (repo, tag) = split_reference(reference)?;
    Ok(serde_json::from_slice(&get(
        &format!("{repo}/manifests/{tag}"),
        MANIFEST_TYPES,
    )?)?)
}

fn is_manifest(media_type: &str) -> bool {
    media_type.contains("manifest") || media_type.contains("image.index")
}

fn descriptors(manifest: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = Vec::new();
    for key in ["manifests", "layers"] {
        if let Some(list) = manifest.get(key).and_then(Value::as_array) {
            all.extend(list);
        }
    }
    all.extend(manifest.get("config"));
    all
}

/// Downloads everything a reference holds into `dir`: the manifest itself, every manifest
/// it lists (recursively), every config and every layer. A registry cache export is an index
/// whose entries are its layers and its cache config, so all of them end up here.
pub fn registry_blobs(reference: &str, dir: &Path) -> Result<Vec<RegistryBlob>, HarnessError> {
    let (repo, tag) = split_reference(reference)?;
    fs::create_dir_all(dir).map_err(|e| HarnessError::io(dir, e))?;
    let top = get(&format!("{repo}/manifests/{tag}"), MANIFEST_TYPES)?;
    let top_path = dir.join("top-manifest.json");
    fs::write(&top_path, &top).map_err(|e| HarnessError::io(&top_path, e))?;
    let mut blobs = vec![RegistryBlob {
        digest: tag.to_owned(),
        media_type: String::from("manifest"),
        path: top_path,
    }];
    let mut pending: Vec<Value> = vec![serde_json::from_slice(&top)?];
    while let Some(manifest) = pending.pop() {
        for descriptor in descriptors(&manifest) {
            let digest = descriptor
                .get("digest")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let media_type = descriptor
                .get("mediaType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if digest.is_empty() || blobs.iter().any(|blob| blob.digest == digest) {
                continue;
            }
            let bytes = if is_manifest(media_type) {
                let bytes = get(&format!("{repo}/manifests/{digest}"), MANIFEST_TYPES)?;
                pending.push(serde_json::from_slice(&bytes)?);
                bytes
            } else {
                get(&format!("{repo}/blobs/{digest}"), "*/*")?
            };
            let path = dir.join(digest.replace(':', "-"));
            fs::write(&path, &bytes).map_err(|e| HarnessError::io(&path, e))?;
            blobs.push(RegistryBlob {
                digest: digest.to_owned(),
                media_type: media_type.to_owned(),
                path,
            });
        }
    }
    Ok(blobs)
}

/// The platforms (`os/arch[/variant]`) of an index in the registry, in index order;
/// attestation entries (`unknown/unknown`) are left out.
pub fn registry_platforms(reference: &str) -> Result<Vec<String>, HarnessError> {
    let index = registry_manifest(reference)?;
    let entries = index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or_else(|| HarnessError::unexpected(reference, format!("not an index: {index}")))?;
    Ok(entries
        .iter()
        .filter_map(|entry| entry.get("platform"))
        .map(|platform| {
            let field = |key: &str| {
                platform
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            let mut text = format!("{}/{}", field("os"), field("architecture"));
            if !field("variant").is_empty() {
                text.push('/');
                text.push_str(field("variant"));
            }
            text
        })
        .filter(|platform| platform != "unknown/unknown")
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        assert_eq!(
            split_reference("127.0.0.1:5000/e2e/x:buildcache").unwrap(),
            ("e2e/x", "buildcache")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/e2e/x").unwrap(),
            ("e2e/x", "latest")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/a/b@sha256:00").unwrap(),
            ("a/b", "sha256:00")
        );
        assert!(split_reference("docker.io/library/x:1").is_err());
    }
}
