//! Looking for a marker string in files, layers and blobs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::HarnessError;
use crate::command::run_any;

/// `needle` occurs in `haystack` (byte-wise).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Gzip data is decompressed (with the host's `gzip`); anything else is returned as is.
/// Tar archives need no unpacking: member contents are stored plainly inside them.
pub(crate) fn plain(bytes: Vec<u8>, what: &Path) -> Result<Vec<u8>, HarnessError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let ran = run_any(
        "gzip",
        &[std::ffi::OsStr::new("-dc"), what.as_os_str()],
        None,
        &[],
    )?;
    if ran.success {
        Ok(ran.stdout)
    } else {
        Err(HarnessError::unexpected(
            what.display().to_string(),
            format!("gzip -dc failed: {}", ran.stderr_text()),
        ))
    }
}

/// Every file under `dir` (recursively) whose content, gunzipped if it is gzip, contains
/// `marker`. Layers of a `docker save` and blobs of a registry cache are such files.
pub fn find_marker(dir: &Path, marker: &str) -> Result<Vec<PathBuf>, HarnessError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current).map_err(|e| HarnessError::io(&current, e))?;
        for entry in entries {
            let path = entry.map_err(|e| HarnessError::io(&current, e))?.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| HarnessError::io(&path, e))?;
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                let bytes = fs::read(&path).map_err(|e| HarnessError::io(&path, e))?;
                if contains(&plain(bytes, &path)?, marker.as_bytes()) {
                    found.push(path);
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers_in_plain_and_gzip_files() {
        let dir = std::env::temp_dir().join(format!("layercake-e2e-scan-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("plain"), b"aaa MARKER-1 bbb").unwrap();
        fs::write(dir.join("sub/other"), b"nothing here").unwrap();
        let gz = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf 'xx MARKER-2 yy' | gzip > {}",
                dir.join("sub/zipped").display()
            ))
            .status()
            .unwrap();
        assert!(gz.success());
        assert_eq!(
            find_marker(&dir, "MARKER-1").unwrap(),
            vec![dir.join("plain")]
        );
        assert_eq!(
            find_marker(&dir, "MARKER-2").unwrap(),
            vec![dir.join("sub/zipped")]
        );
        assert!(find_marker(&dir, "MARKER-3").unwrap().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
