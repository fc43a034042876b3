//! The lock stage's answer: the complete pinned closure pip resolved inside BuildKit, for one
//! service and one target platform, read from the `--report` of `pip install --dry-run`.

use serde::Deserialize;
use thiserror::Error;

/// Where the lock stage writes pip's installation report (in its output mount).
pub const LOCK_REPORT: &str = "report.json";

/// One package of the resolved closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// PEP 503-normalised.
    pub name: String,
    pub version: String,
    /// `sha256:…` of the file pip chose, when the index said.
    pub hash: Option<String>,
}

/// The resolved closure, by normalised name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    pub packages: Vec<LockedPackage>,
}

#[derive(Debug, Error)]
pub enum LockError {
    #[error("the lock stage's report is not pip's installation report: {0}")]
    Unreadable(String),
    #[error(
        "the lock stage resolved `{name}` to a direct reference ({url}); layercake plans \
         per-package steps for index packages only"
    )]
    DirectReference { name: String, url: String },
    #[error("the lock stage's report names `{0}` twice")]
    Duplicate(String),
}

#[derive(Deserialize)]
struct Report {
    install: Vec<Install>,
}

#[derive(Deserialize)]
struct Install {
    metadata: Metadata,
    #[serde(default)]
    is_direct: bool,
    download_info: Option<DownloadInfo>,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct DownloadInfo {
    #[serde(default)]
    url: String,
    archive_info: Option<ArchiveInfo>,
}

#[derive(Deserialize)]
struct ArchiveInfo {
    /// pip ≥ 23: `{"sha256": "…"}`.
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    /// Older pip: `"sha256=…"`.
    hash: Option<String>,
}

impl Lock {
    /// Reads pip's `--report` JSON (format version 1).
    pub fn from_pip_report(bytes: &[u8]) -> Result<Lock, LockError> {
        let report: Report =
            serde_json::from_slice(bytes).map_err(|e| LockError::Unreadable(e.to_string()))?;
        let mut packages: Vec<LockedPackage> = Vec::with_capacity(report.install.len());
        for install in report.install {
            let name = install
                .metadata
                .name
                .parse::<pep508_rs::PackageName>()
                .map_err(|e| LockError::Unreadable(e.to_string()))?
                .to_string();
            if install.is_direct {
                let url = install.download_info.map(|d| d.url).unwrap_or_default();
                return Err(LockError::DirectReference { name, url });
            }
            if packages.iter().any(|p| p.name == name) {
                return Err(LockError::Duplicate(name));
            }
            let hash = install
                .download_info
                .and_then(|info| info.archive_info)
                .and_then(|archive| {
                    archive
                        .hashes
                        .get("sha256")
                        .map(|digest| format!("sha256:{digest}"))
                        .or_else(|| {
                            archive.hash.and_then(|h| {
                                h.strip_prefix("sha256=").map(|d| format!("sha256:{d}"))
                            })
                        })
                });
            packages.push(LockedPackage {
                name,
                version: install.metadata.version,
                hash,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Lock { packages })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pips_report() {
        let report = br#"{"version":"1","pip_version":"24.0","install":[
            {"download_info":{"url":"https://files/x/Starlette-0.27.0-py3-none-any.whl",
              "archive_info":{"hash":"sha256=aa","hashes":{"sha256":"aa"}}},
             "is_direct":false,"requested":false,"metadata":{"name":"Starlette","version":"0.27.0"}},
            {"download_info":{"url":"https://files/x/anyio-3.7.1.tar.gz",
              "archive_info":{"hash":"sha256=bb"}},
             "is_direct":false,"requested":false,"metadata":{"name":"anyio","version":"3.7.1"}},
            {"download_info":{"url":"https://files/x/idna.whl","archive_info":{}},
             "is_direct":false,"requested":true,"metadata":{"name":"idna","version":"3.4"}}
        ],"environment":{}}"#;
        let lock = Lock::from_pip_report(report).map_err(|e| e.to_string());
        assert_eq!(
            lock,
            Ok(Lock {
                packages: vec![
                    LockedPackage {
                        name: "anyio".into(),
                        version: "3.7.1".into(),
                        hash: Some("sha256:bb".into())
                    },
                    LockedPackage {
                        name: "idna".into(),
                        version: "3.4".into(),
                        hash: None
                    },
                    LockedPackage {
                        name: "starlette".into(),
                        version: "0.27.0".into(),
                        hash: Some("sha256:aa".into())
                    },
                ]
            })
        );
    }

    #[test]
    fn refuses_direct_references_and_garbage() {
        let direct = br#"{"install":[{"is_direct":true,"download_info":{"url":"file:///src"},
            "metadata":{"name":"app","version":"1"}}]}"#;
        assert!(matches!(
            Lock::from_pip_report(direct),
            Err(LockError::DirectReference { .. })
        ));
        assert!(matches!(
            Lock::from_pip_report(b"{}"),
            Err(LockError::Unreadable(_))
        ));
    }
}
