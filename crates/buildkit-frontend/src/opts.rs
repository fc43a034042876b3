//! What BuildKit hands a frontend process in its environment, and a typed
//! view of the frontend options docker buildx sends (the keys BuildKit's own
//! Dockerfile frontend reads in `frontend/dockerui`).

use std::collections::{BTreeMap, BTreeSet};

use buildkit_proto::{gateway, pb};
use serde::Deserialize;

use buildkit_llb::{NetMode, NoCache, Platform, PlatformError, ResolveMode, parse_platform_list};

/// Environment variable prefix of the numbered frontend options.
pub const FRONTEND_OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";
/// Environment variable carrying the client session id.
pub const SESSION_ID_ENV: &str = "BUILDKIT_SESSION_ID";
/// Environment variable carrying the workers as JSON.
pub const WORKERS_ENV: &str = "BUILDKIT_WORKERS";
/// Environment variable carrying the product name.
pub const EXPORTED_PRODUCT_ENV: &str = "BUILDKIT_EXPORTEDPRODUCT";

/// A malformed environment or frontend option.
#[derive(Debug, thiserror::Error)]
pub enum OptsError {
    #[error("{var} is not of the form <key>=<value>: {value:?}")]
    MalformedOpt { var: String, value: String },
    #[error("{WORKERS_ENV} is not valid JSON: {0}")]
    Workers(serde_json::Error),
    #[error("invalid target platform: {0}")]
    Platform(#[from] PlatformError),
    #[error("failed to parse cache-imports ({value:?}): {source}")]
    CacheImports {
        value: String,
        source: serde_json::Error,
    },
    #[error("invalid {key} value {value:?}: {reason}")]
    Invalid {
        key: &'static str,
        value: String,
        reason: String,
    },
}

fn invalid(key: &'static str, value: &str, reason: impl Into<String>) -> OptsError {
    OptsError::Invalid {
        key,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// One worker as `BUILDKIT_WORKERS` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WorkerInfo {
    #[serde(rename = "ID", default)]
    pub id: String,
    /// BuildKit v0.8 sends `"Labels": null`.
    #[serde(rename = "Labels", default, deserialize_with = "null_as_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "Platforms", default)]
    pub platforms: Vec<Platform>,
}

fn null_as_empty<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize as _;
    Ok(Option::<BTreeMap<String, String>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Everything BuildKit passes through the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildEnv {
    /// The frontend options; see [`BuildEnv::opts`] for the typed view.
    pub opts: BTreeMap<String, String>,
    /// `BUILDKIT_SESSION_ID`: goes into `local.session` of local sources.
    pub session_id: String,
    /// `BUILDKIT_WORKERS`.
    pub workers: Vec<WorkerInfo>,
    /// `BUILDKIT_EXPORTEDPRODUCT`.
    pub exported_product: String,
}

impl BuildEnv {
    /// Reads the current process environment.
    pub fn from_process_env() -> Result<Self, OptsError> {
        BuildEnv::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Builds from explicit `(name, value)` pairs (tests, or a custom host).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, OptsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut env = BuildEnv::default();
        for (name, value) in vars {
            let (name, value) = (name.as_ref(), value.as_ref());
            if name.starts_with(FRONTEND_OPT_PREFIX) {
                // Split once: values may contain '='.
                let Some((key, opt)) = value.split_once('=') else {
                    return Err(OptsError::MalformedOpt {
                        var: name.to_string(),
                        value: value.to_string(),
                    });
                };
                env.opts.insert(key.to_string(), opt.to_string());
            } else if name == SESSION_ID_ENV {
                env.session_id = value.to_string();
            } else if name == WORKERS_ENV {
                if !value.trim().is_empty() {
                    let workers: Option<Vec<WorkerInfo>> =
                        serde_json::from_str(value).map_err(OptsError::Workers)?;
                    env.workers = workers.unwrap_or_default();
                    for worker in &mut env.workers {
                        for platform in &mut worker.platforms {
                            *platform = std::mem::take(platform).normalized();
                        }
                    }
                }
            } else if name == EXPORTED_PRODUCT_ENV {
                env.exported_product = value.to_string();
            }
        }
        Ok(env)
    }

    /// The typed view of [`BuildEnv::opts`].
    pub fn opts(&self) -> FrontendOpts<'_> {
        FrontendOpts::new(&self.opts)
    }

    /// The platform builds run on by default: the first platform of the
    /// first worker, else this host's.
    pub fn build_platform(&self) -> Platform {
        self.workers
            .first()
            .and_then(|w| w.platforms.first())
            .cloned()
            .unwrap_or_else(Platform::host)
    }
}

/// A cache source to pass into `SolveRequest.CacheImports`: BuildKit does not
/// apply `--cache-from` to a frontend's solves on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct CacheImport {
    #[serde(rename = "Type", alias = "type", default)]
    pub kind: String,
    #[serde(rename = "Attrs", alias = "attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

impl CacheImport {
    /// A registry cache import of `reference`.
    pub fn registry(reference: &str) -> Self {
        CacheImport {
            kind: "registry".into(),
            attrs: BTreeMap::from([("ref".to_string(), reference.to_string())]),
        }
    }

    pub fn to_proto(&self) -> gateway::CacheOptionsEntry {
        gateway::CacheOptionsEntry {
            r#type: self.kind.clone(),
            attrs: self.attrs.clone(),
        }
    }
}

/// One `add-hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostIp {
    pub host: String,
    pub ip: std::net::IpAddr,
}

impl HostIp {
    pub fn to_pb(&self) -> pb::HostIp {
        pb::HostIp {
            host: self.host.clone(),
            ip: self.ip.to_string(),
        }
    }
}

/// Typed, read-only view of the frontend options. Every key stays reachable
/// through [`FrontendOpts::get`] and [`FrontendOpts::all`].
#[derive(Debug, Clone, Copy)]
pub struct FrontendOpts<'a> {
    opts: &'a BTreeMap<String, String>,
}

const BUILD_ARG_PREFIX: &str = "build-arg:";
const LABEL_PREFIX: &str = "label:";

impl<'a> FrontendOpts<'a> {
    pub fn new(opts: &'a BTreeMap<String, String>) -> Self {
        FrontendOpts { opts }
    }

    /// The raw option map.
    pub fn all(&self) -> &'a BTreeMap<String, String> {
        self.opts
    }

    /// A raw option.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.opts.get(key).map(String::as_str)
    }

    /// A non-empty raw option.
    fn non_empty(&self, key: &str) -> Option<&'a str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Options under `prefix`, with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.opts
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
            .collect()
    }

    /// `filename`: path of the build file inside the definition local (the
    /// basename of `-f`).
    pub fn filename(&self) -> Option<&'a str> {
        self.non_empty("filename")
    }

    /// `dockerfilekey`: name of the local holding the build file
    /// (default `dockerfile`).
    pub fn dockerfile_key(&self) -> &'a str {
        self.non_empty("dockerfilekey").unwrap_or("dockerfile")
    }

    /// `contextkey`: name of the main-context local (default `context`).
    pub fn context_key(&self) -> &'a str {
        self.non_empty("contextkey").unwrap_or("context")
    }

    /// `contextsubdir`: scope the main context to a subdirectory.
    pub fn context_subdir(&self) -> Option<&'a str> {
        self.non_empty("contextsubdir")
    }

    /// `target` (`--target`).
    pub fn target(&self) -> Option<&'a str> {
        self.non_empty("target")
    }

    /// `build-arg:*` (`--build-arg`), names without the prefix.
    pub fn build_args(&self) -> BTreeMap<String, String> {
        self.with_prefix(BUILD_ARG_PREFIX)
    }

    /// One build arg.
    pub fn build_arg(&self, name: &str) -> Option<&'a str> {
        self.get(&format!("{BUILD_ARG_PREFIX}{name}"))
    }

    /// `label:*` (`--label`), to merge into the image config labels.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.with_prefix(LABEL_PREFIX)
    }

    /// `platform` (`--platform`): normalised target platforms; empty means
    /// "the default platform".
    pub fn platforms(&self) -> Result<Vec<Platform>, OptsError> {
        match self.non_empty("platform") {
            Some(v) => Ok(parse_platform_list(v)?),
            None => Ok(Vec::new()),
        }
    }

    /// Whether the result must be a per-platform map even for one platform:
    /// more than one platform, or `multi-platform` /
    /// `build-arg:BUILDKIT_MULTI_PLATFORM` true.
    pub fn multi_platform(&self) -> Result<bool, OptsError> {
        let many = self.platforms()?.len() > 1;
        let forced = self
            .non_empty("build-arg:BUILDKIT_MULTI_PLATFORM")
            .or_else(|| self.non_empty("multi-platform"));
        match forced {
            None => Ok(many),
            Some(v) => {
                let b = parse_go_bool(v)
                    .ok_or_else(|| invalid("multi-platform", v, "not a boolean"))?;
                if !b && many {
                    return Err(invalid(
                        "multi-platform",
                        v,
                        "returning multiple target platforms is not allowed",
                    ));
                }
                Ok(b)
            }
        }
    }

    /// `cache-imports` (JSON `[{"Type":..,"Attrs":{..}}]`, from
    /// `--cache-from`) followed by legacy `cache-from` (comma list of registry
    /// refs).
    pub fn cache_imports(&self) -> Result<Vec<CacheImport>, OptsError> {
        let mut imports = Vec::new();
        if let Some(v) = self.non_empty("cache-imports") {
            let parsed: Option<Vec<CacheImport>> =
                serde_json::from_str(v).map_err(|source| OptsError::CacheImports {
                    value: v.to_string(),
                    source,
                })?;
            imports.extend(parsed.unwrap_or_default());
        }
        if let Some(v) = self.non_empty("cache-from") {
            imports.extend(v.split(',').map(CacheImport::registry));
        }
        Ok(imports)
    }

    /// `no-cache` (`--no-cache`, `--no-cache-filter`).
    pub fn no_cache(&self) -> NoCache {
        match self.get("no-cache") {
            None => NoCache::Off,
            Some("") => NoCache::All,
            Some(v) => NoCache::Only(v.split(',').map(str::to_string).collect()),
        }
    }

    /// `image-resolve-mode` (`--pull` sends `pull`).
    pub fn image_resolve_mode(&self) -> Result<ResolveMode, OptsError> {
        match self.get("image-resolve-mode").unwrap_or("") {
            "" | "default" => Ok(ResolveMode::Default),
            "pull" => Ok(ResolveMode::ForcePull),
            "local" => Ok(ResolveMode::PreferLocal),
            other => Err(invalid(
                "image-resolve-mode",
                other,
                "expected default, pull or local",
            )),
        }
    }

    /// `force-network-mode` (`--network`): the network of RUN-like steps ([`NetMode::Sandbox`],
    /// BuildKit's default, when the option is absent).
    pub fn network_mode(&self) -> Result<NetMode, OptsError> {
        match self.get("force-network-mode").unwrap_or("") {
            "" | "sandbox" => Ok(NetMode::Sandbox),
            "none" => Ok(NetMode::None),
            "host" => Ok(NetMode::Host),
            other => Err(invalid(
                "force-network-mode",
                other,
                "expected sandbox, none or host",
            )),
        }
    }

    /// `add-hosts` (`--add-host`): CSV of `host=ip`.
    pub fn extra_hosts(&self) -> Result<Vec<HostIp>, OptsError> {
        let Some(v) = self.non_empty("add-hosts") else {
            return Ok(Vec::new());
        };
        let fields = csv_fields(v).ok_or_else(|| invalid("add-hosts", v, "bad CSV quoting"))?;
        fields
            .iter()
            .map(|field| {
                let lower = field.to_lowercase();
                let (host, ip) = lower
                    .split_once('=')
                    .ok_or_else(|| invalid("add-hosts", field, "expected host=ip"))?;
                let ip = ip
                    .parse()
                    .map_err(|_| invalid("add-hosts", field, "not an IP address"))?;
                Ok(HostIp {
                    host: host.to_string(),
                    ip,
                })
            })
            .collect()
    }

    /// `shm-size` (`--shm-size`) in bytes, if set.
    pub fn shm_size(&self) -> Result<Option<i64>, OptsError> {
        self.non_empty("shm-size")
            .map(|v| {
                v.parse()
                    .map_err(|_| invalid("shm-size", v, "not an integer"))
            })
            .transpose()
    }

    /// `cgroup-parent` (`--cgroup-parent`).
    pub fn cgroup_parent(&self) -> Option<&'a str> {
        self.non_empty("cgroup-parent")
    }

    /// `hostname`, overridden by `build-arg:BUILDKIT_SANDBOX_HOSTNAME`.
    pub fn hostname(&self) -> Option<&'a str> {
        self.non_empty("build-arg:BUILDKIT_SANDBOX_HOSTNAME")
            .or_else(|| self.non_empty("hostname"))
    }

    /// `build-arg:SOURCE_DATE_EPOCH`: Unix seconds for reproducible
    /// timestamps.
    pub fn source_date_epoch(&self) -> Result<Option<i64>, OptsError> {
        self.non_empty("build-arg:SOURCE_DATE_EPOCH")
            .map(|v| {
                v.parse()
                    .map_err(|_| invalid("build-arg:SOURCE_DATE_EPOCH", v, "not an integer"))
            })
            .transpose()
    }

    /// `requestid`: a subrequest such as `frontend.outline` (`--call`).
    pub fn request_id(&self) -> Option<&'a str> {
        self.non_empty("requestid")
    }

    /// `frontend.caps`: caps the client requires, `+forward` suffix removed.
    pub fn frontend_caps(&self) -> BTreeSet<String> {
        self.non_empty("frontend.caps")
            .map(|v| {
                v.split(',')
                    .map(|c| c.trim().trim_end_matches("+forward").to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `local-sessionid:<name>`: session owning the local `name`, if not the
    /// build's own.
    pub fn local_session_id(&self, name: &str) -> Option<&'a str> {
        self.non_empty(&format!("local-sessionid:{name}"))
    }

    /// `context:<name>`: a named build context (`--build-context`).
    pub fn named_context(&self, name: &str) -> Option<&'a str> {
        self.non_empty(&format!("context:{name}"))
    }

    /// `build-arg:BUILDKIT_CACHE_MOUNT_NS`: prefix for cache-mount ids.
    pub fn cache_mount_namespace(&self) -> Option<&'a str> {
        self.non_empty("build-arg:BUILDKIT_CACHE_MOUNT_NS")
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Splits one CSV record (double-quote quoting, `""` escapes).
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(opts: &[&str]) -> BuildEnv {
        BuildEnv::from_vars(
            opts.iter()
                .enumerate()
                .map(|(i, o)| (format!("{FRONTEND_OPT_PREFIX}{i}"), o.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn reads_environment() {
        let env = BuildEnv::from_vars([
            ("BUILDKIT_FRONTEND_OPT_0", "filename=layercake.yaml"),
            ("BUILDKIT_FRONTEND_OPT_1", "build-arg:X=a=b"),
            ("BUILDKIT_SESSION_ID", "sess1"),
            (
                "BUILDKIT_WORKERS",
                r#"[{"ID":"w1","Labels":{"a":"b"},"Platforms":[{"architecture":"arm64","os":"linux","variant":"v8"},{"architecture":"amd64","os":"linux"}]}]"#,
            ),
            ("BUILDKIT_EXPORTEDPRODUCT", "buildkit"),
            ("PATH", "/bin"),
        ])
        .unwrap();
        assert_eq!(env.opts.len(), 2);
        assert_eq!(env.opts().filename(), Some("layercake.yaml"));
        assert_eq!(env.opts().build_arg("X"), Some("a=b"));
        assert_eq!(env.session_id, "sess1");
        assert_eq!(env.exported_product, "buildkit");
        assert_eq!(env.workers[0].id, "w1");
        assert_eq!(env.workers[0].labels["a"], "b");
        assert_eq!(env.build_platform().id(), "linux/arm64");
    }

    #[test]
    fn rejects_malformed_environment() {
        assert!(BuildEnv::from_vars([("BUILDKIT_FRONTEND_OPT_0", "novalue")]).is_err());
        assert!(BuildEnv::from_vars([("BUILDKIT_WORKERS", "[{")]).is_err());
        let empty = BuildEnv::from_vars([("BUILDKIT_WORKERS", "null")]).unwrap();
        assert_eq!(empty.build_platform(), Platform::host());
    }

    #[test]
    fn accepts_buildkit_v0_8_null_worker_labels() {
        let env = BuildEnv::from_vars([(
            "BUILDKIT_WORKERS",
            r#"[{"ID":"w1","Labels":null,"Platforms":[{"architecture":"amd64","os":"linux"}]}]"#,
        )])
        .unwrap();
        assert!(env.workers[0].labels.is_empty());
        assert_eq!(env.build_platform().id(), "linux/amd64");
    }

    #[test]
    fn defaults() {
        let env = env(&[]);
        let o = env.opts();
        assert_eq!(o.dockerfile_key(), "dockerfile");
        assert_eq!(o.context_key(), "context");
        assert_eq!(o.filename(), None);
        assert_eq!(o.target(), None);
        assert!(o.platforms().unwrap().is_empty());
        assert!(!o.multi_platform().unwrap());
        assert!(o.cache_imports().unwrap().is_empty());
        assert_eq!(o.no_cache(), NoCache::Off);
        assert_eq!(o.image_resolve_mode().unwrap(), ResolveMode::Default);
        assert_eq!(o.network_mode().unwrap(), NetMode::Sandbox);
        assert!(o.extra_hosts().unwrap().is_empty());
        assert_eq!(o.source_date_epoch().unwrap(), None);
    }

    #[test]
    fn cache_imports_json_and_legacy() {
        let e = env(&[
            r#"cache-imports=[{"Type":"registry","Attrs":{"ref":"reg/app:cache","mode":"max"}},{"type":"gha","attrs":{"scope":"x"}}]"#,
            "cache-from=reg/a:c1,reg/b:c2",
        ]);
        let imports = e.opts().cache_imports().unwrap();
        assert_eq!(imports.len(), 4);
        assert_eq!(imports[0].kind, "registry");
        assert_eq!(imports[0].attrs["ref"], "reg/app:cache");
        assert_eq!(imports[0].attrs["mode"], "max");
        assert_eq!(imports[1].kind, "gha");
        assert_eq!(imports[1].attrs["scope"], "x");
        assert_eq!(imports[2], CacheImport::registry("reg/a:c1"));
        assert_eq!(imports[3], CacheImport::registry("reg/b:c2"));
        let proto = imports[3].to_proto();
        assert_eq!(proto.r#type, "registry");
        assert_eq!(proto.attrs["ref"], "reg/b:c2");

        assert!(env_err(r#"cache-imports={"Type":"x"}"#));
        assert!(
            env(&["cache-imports=null"])
                .opts()
                .cache_imports()
                .unwrap()
                .is_empty()
        );
    }

    fn env_err(opt: &str) -> bool {
        env(&[opt]).opts().cache_imports().is_err()
    }

    #[test]
    fn platforms_and_multi_platform() {
        let e = env(&["platform=linux/amd64,linux/arm64/v8"]);
        let ids: Vec<String> = e
            .opts()
            .platforms()
            .unwrap()
            .iter()
            .map(|p| p.id())
            .collect();
        assert_eq!(ids, ["linux/amd64", "linux/arm64"]);
        assert!(e.opts().multi_platform().unwrap());

        let e = env(&["platform=linux/arm64", "multi-platform=true"]);
        assert!(e.opts().multi_platform().unwrap());
        let e = env(&[
            "platform=linux/arm64",
            "build-arg:BUILDKIT_MULTI_PLATFORM=1",
        ]);
        assert!(e.opts().multi_platform().unwrap());
        let e = env(&["platform=linux/arm64,linux/amd64", "multi-platform=false"]);
        assert!(e.opts().multi_platform().is_err());
        let e = env(&["platform=linux/*"]);
        assert!(e.opts().platforms().is_err());
    }

    #[test]
    fn build_args_labels_and_misc() {
        let e = env(&[
            "build-arg:PYTHON=3.12",
            "build-arg:SOURCE_DATE_EPOCH=1700000000",
            "label:org.opencontainers.image.title=api",
            "target=api",
            "requestid=frontend.outline",
            "frontend.caps=moby.buildkit.frontend.subrequests+forward,moby.buildkit.frontend.contexts",
            "image-resolve-mode=pull",
            "force-network-mode=none",
            "add-hosts=db=10.0.0.5,\"Cache=::1\"",
            "shm-size=67108864",
            "dockerfilekey=dockerfile2",
            "local-sessionid:context=other",
            "vcs:source=https://example.invalid/repo.git",
        ]);
        let o = e.opts();
        assert_eq!(
            o.build_args(),
            BTreeMap::from([
                ("PYTHON".to_string(), "3.12".to_string()),
                ("SOURCE_DATE_EPOCH".to_string(), "1700000000".to_string()),
            ])
        );
        assert_eq!(o.labels()["org.opencontainers.image.title"], "api");
        assert_eq!(o.target(), Some("api"));
        assert_eq!(o.request_id(), Some("frontend.outline"));
        assert_eq!(
            o.frontend_caps().into_iter().collect::<Vec<_>>(),
            [
                "moby.buildkit.frontend.contexts",
                "moby.buildkit.frontend.subrequests"
            ]
        );
        assert_eq!(o.image_resolve_mode().unwrap(), ResolveMode::ForcePull);
        assert_eq!(o.image_resolve_mode().unwrap().as_str(), "pull");
        assert_eq!(o.network_mode().unwrap(), NetMode::None);
        let hosts = o.extra_hosts().unwrap();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].to_pb().host, "db");
        assert_eq!(hosts[0].to_pb().ip, "10.0.0.5");
        assert_eq!(hosts[1].host, "cache");
        assert_eq!(hosts[1].ip.to_string(), "::1");
        assert_eq!(o.shm_size().unwrap(), Some(67_108_864));
        assert_eq!(o.source_date_epoch().unwrap(), Some(1_700_000_000));
        assert_eq!(o.dockerfile_key(), "dockerfile2");
        assert_eq!(o.local_session_id("context"), Some("other"));
        assert_eq!(
            o.get("vcs:source"),
            Some("https://example.invalid/repo.git")
        );

        assert!(
            env(&["image-resolve-mode=sometimes"])
                .opts()
                .image_resolve_mode()
                .is_err()
        );
        assert!(
            env(&["force-network-mode=bridge"])
                .opts()
                .network_mode()
                .is_err()
        );
        assert!(env(&["add-hosts=db"]).opts().extra_hosts().is_err());
        assert!(env(&["add-hosts=db=nope"]).opts().extra_hosts().is_err());
        assert!(
            env(&["build-arg:SOURCE_DATE_EPOCH=soon"])
                .opts()
                .source_date_epoch()
                .is_err()
        );
    }

    #[test]
    fn no_cache_forms() {
        assert_eq!(env(&["no-cache="]).opts().no_cache(), NoCache::All);
        let only = env(&["no-cache=deps,api"]).opts().no_cache();
        assert!(only.applies_to("deps"));
        assert!(only.applies_to("api"));
        assert!(!only.applies_to("web"));
        assert!(NoCache::All.applies_to("anything"));
        assert!(!NoCache::Off.applies_to("deps"));
    }
}
