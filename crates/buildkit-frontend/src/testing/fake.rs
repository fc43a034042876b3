//! The fake `LLBBridge` server and what it records.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use buildkit_proto::gateway::llb_bridge_server::{LlbBridge, LlbBridgeServer};
use buildkit_proto::{apicaps, gateway, pb};
use prost::Message as _;
use sha2::Digest as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status};

use crate::client::caps;

/// The `PATH` in every image config the fake resolves (unlike any real default, so a test can
/// tell that a frontend took the base image's environment rather than its own fallback).
pub const FAKE_IMAGE_PATH: &str = "/opt/fake-base/bin:/usr/local/bin:/usr/bin:/bin";

const LOCAL_SCHEME: &str = "local://";
const IMAGE_SCHEME: &str = "docker-image://";
const INCLUDE_ATTR: &str = "local.includepattern";
const EXCLUDE_ATTR: &str = "local.excludepatterns";

/// A `local://` source found in a solved definition: which client directory and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalSource {
    /// The local's name (`context`, `dockerfile`, …).
    pub name: String,
    /// The source op's attrs (`local.includepattern`, `local.followpaths`, …).
    pub attrs: BTreeMap<String, String>,
}

impl LocalSource {
    fn patterns(&self, attr: &str) -> Vec<String> {
        self.attrs
            .get(attr)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }

    /// Whether BuildKit would transfer `path` for this source (include and exclude patterns,
    /// `*`, `?` and `**` globs; a pattern naming a directory covers what is under it).
    pub fn transfers(&self, path: &str) -> bool {
        let includes = self.patterns(INCLUDE_ATTR);
        if !includes.is_empty() && !includes.iter().any(|p| covers(p, path)) {
            return false;
        }
        // The last matching exclude pattern decides; `!pattern` re-includes.
        let mut excluded = false;
        for pattern in self.patterns(EXCLUDE_ATTR) {
            match pattern.strip_prefix('!') {
                Some(negated) if covers(negated, path) => excluded = false,
                None if covers(&pattern, path) => excluded = true,
                _ => {}
            }
        }
        !excluded
    }
}

/// `pattern` matches `path` or one of its parent directories.
fn covers(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    (1..=path.len()).any(|n| segments_match(&pattern, &path[..n]))
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            segments_match(&pattern[1..], path)
                || (!path.is_empty() && segments_match(pattern, &path[1..]))
        }
        (Some(p), Some(s)) => {
            glob(p.as_bytes(), s.as_bytes()) && segments_match(&pattern[1..], &path[1..])
        }
        _ => false,
    }
}

fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], name) || (!name.is_empty() && glob(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) => p == n && glob(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Everything the fake received, in arrival order.
#[derive(Debug, Default)]
pub struct Recorded {
    pub solves: Vec<gateway::SolveRequest>,
    pub reads: Vec<gateway::ReadFileRequest>,
    pub warns: Vec<gateway::WarnRequest>,
    pub returns: Vec<gateway::ReturnRequest>,
    /// `ResolveSourceMeta` requests.
    pub meta: Vec<gateway::ResolveSourceMetaRequest>,
    /// `ResolveImageConfig` requests.
    pub image_configs: Vec<gateway::ResolveImageConfigRequest>,
    /// Ref id → the `local://` source its definition loads (refs of other graphs are absent).
    pub locals: BTreeMap<String, LocalSource>,
    pub pings: usize,
}

/// BuildKit's side of the gateway, in memory. Clones share one [`Recorded`].
///
/// Defaults: gateway caps `frontend.inputs` and `source.metaresolver` enabled and
/// `gateway.warnings` disabled; LLB caps `mergeop` enabled and `diffop` disabled; no inputs,
/// no files. Set the public fields (or use the `with_*` builders) for anything else.
#[derive(Clone)]
pub struct FakeBridge {
    pub recorded: Arc<Mutex<Recorded>>,
    /// Files served for refs that do not load a known local (path → contents).
    pub files: BTreeMap<String, Vec<u8>>,
    /// A file tree per local name: a ref whose definition loads `local://<name>` reads from
    /// it, limited to what the source's include/exclude patterns transfer.
    pub locals: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// What `Inputs` returns.
    pub inputs: BTreeMap<String, pb::Definition>,
    /// `Ping`'s gateway caps: (id, enabled).
    pub gateway_caps: Vec<(String, bool)>,
    /// `Ping`'s LLB caps: (id, enabled).
    pub llb_caps: Vec<(String, bool)>,
    /// The config JSON every image resolves to; `None`: [`default_image_config`].
    pub image_config: Option<Vec<u8>>,
}

impl Default for FakeBridge {
    fn default() -> Self {
        let on = |id: &str, enabled: bool| (id.to_owned(), enabled);
        Self {
            recorded: Arc::default(),
            files: BTreeMap::new(),
            locals: BTreeMap::new(),
            inputs: BTreeMap::new(),
            gateway_caps: vec![
                on(caps::FRONTEND_INPUTS, true),
                on(caps::SOURCE_META_RESOLVER, true),
                on(caps::WARNINGS, false),
            ],
            llb_caps: vec![
                on(buildkit_llb::caps::MERGE_OP, true),
                on(buildkit_llb::caps::DIFF_OP, false),
            ],
            image_config: None,
        }
    }
}

impl FakeBridge {
    /// Adds (or replaces) the file tree of `local://<name>`.
    pub fn with_local<P, C>(mut self, name: &str, files: impl IntoIterator<Item = (P, C)>) -> Self
    where
        P: Into<String>,
        C: Into<Vec<u8>>,
    {
        let tree = files
            .into_iter()
            .map(|(path, contents)| (path.into(), contents.into()))
            .collect();
        self.locals.insert(name.to_owned(), tree);
        self
    }

    /// Replaces `Ping`'s gateway caps with these ids, all enabled.
    pub fn with_gateway_caps<'a>(mut self, ids: impl IntoIterator<Item = &'a str>) -> Self {
        self.gateway_caps = ids.into_iter().map(|id| (id.to_owned(), true)).collect();
        self
    }

    /// Replaces `Ping`'s LLB caps with these ids, all enabled.
    pub fn with_llb_caps<'a>(mut self, ids: impl IntoIterator<Item = &'a str>) -> Self {
        self.llb_caps = ids.into_iter().map(|id| (id.to_owned(), true)).collect();
        self
    }

    /// The recordings (a poisoned lock is still readable: a failed test thread must not hide
    /// what was recorded).
    pub fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.recorded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every `Return` received (a frontend should send exactly one).
    pub fn returns(&self) -> Vec<gateway::ReturnRequest> {
        self.recorded().returns.clone()
    }

    fn image(&self, reference: &str, platform: Option<&pb::Platform>) -> (String, Vec<u8>) {
        let platform = platform.cloned().unwrap_or_default();
        let config = self
            .image_config
            .clone()
            .unwrap_or_else(|| default_image_config(&platform));
        (fake_digest(reference, &platform), config)
    }

    fn file(&self, reference: &str, path: &str) -> Option<Vec<u8>> {
        let source = self.recorded().locals.get(reference).cloned();
        let path = path.trim_start_matches('/');
        match source {
            Some(source) => {
                let tree = self.locals.get(&source.name)?;
                source.transfers(path).then(|| tree.get(path).cloned())?
            }
            None => self.files.get(path).cloned(),
        }
    }
}

/// The digest the fake pins `reference` to on `platform`: `sha256:` and 64 hex digits, different
/// for every reference and platform.
pub fn fake_digest(reference: &str, platform: &pb::Platform) -> String {
    let key = format!(
        "{reference}|{}/{}/{}",
        platform.os, platform.architecture, platform.variant
    );
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(key.as_bytes()))
    )
}

/// An OCI image config for `platform` whose `Env` is `PATH=`[`FAKE_IMAGE_PATH`].
pub fn default_image_config(platform: &pb::Platform) -> Vec<u8> {
    let mut config = serde_json::json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "config": { "Env": [format!("PATH={FAKE_IMAGE_PATH}")] },
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    if !platform.variant.is_empty() {
        config["variant"] = platform.variant.clone().into();
    }
    serde_json::to_vec(&config).unwrap_or_default()
}

/// The `local://` source a definition loads, if any (the first one in op order).
fn local_source(definition: &pb::Definition) -> Option<LocalSource> {
    definition.def.iter().find_map(|bytes| {
        let op = pb::Op::decode(bytes.as_slice()).ok()?;
        let pb::op::Op::Source(source) = op.op? else {
            return None;
        };
        let name = source.identifier.strip_prefix(LOCAL_SCHEME)?;
        Some(LocalSource {
            name: name.to_owned(),
            attrs: source.attrs,
        })
    })
}

fn caps_of(caps: &[(String, bool)]) -> Vec<apicaps::ApiCap> {
    caps.iter()
        .map(|(id, enabled)| apicaps::ApiCap {
            id: id.clone(),
            enabled: *enabled,
            ..Default::default()
        })
        .collect()
}

#[tonic::async_trait]
impl LlbBridge for FakeBridge {
    async fn resolve_image_config(
        &self,
        request: Request<gateway::ResolveImageConfigRequest>,
    ) -> Result<Response<gateway::ResolveImageConfigResponse>, Status> {
        let request = request.into_inner();
        let (digest, config) = self.image(&request.r#ref, request.platform.as_ref());
        self.recorded().image_configs.push(request);
        Ok(Response::new(gateway::ResolveImageConfigResponse {
            digest,
            config,
            r#ref: String::new(),
        }))
    }

    async fn resolve_source_meta(
        &self,
        request: Request<gateway::ResolveSourceMetaRequest>,
    ) -> Result<Response<gateway::ResolveSourceMetaResponse>, Status> {
        let request = request.into_inner();
        let Some(source) = request.source.clone() else {
            return Err(Status::invalid_argument("no source"));
        };
        let Some(reference) = source.identifier.strip_prefix(IMAGE_SCHEME) else {
            return Err(Status::invalid_argument(format!(
                "the fake resolves only images, not {}",
                source.identifier
            )));
        };
        let (digest, config) = self.image(reference, request.platform.as_ref());
        self.recorded().meta.push(request);
        Ok(Response::new(gateway::ResolveSourceMetaResponse {
            // No source policy here: the source comes back unchanged.
            source: Some(source),
            image: Some(gateway::ResolveSourceImageResponse {
                digest,
                config,
                attestation_chain: None,
            }),
            ..Default::default()
        }))
    }

    async fn solve(
        &self,
        request: Request<gateway::SolveRequest>,
    ) -> Result<Response<gateway::SolveResponse>, Status> {
        let request = request.into_inner();
        let local = request.definition.as_ref().and_then(local_source);
        let mut recorded = self.recorded();
        recorded.solves.push(request);
        let id = format!("ref-{}", recorded.solves.len());
        if let Some(local) = local {
            recorded.locals.insert(id.clone(), local);
        }
        Ok(Response::new(gateway::SolveResponse {
            r#ref: String::new(),
            result: Some(gateway::Result {
                result: Some(gateway::result::Result::Ref(gateway::Ref { id, def: None })),
                ..Default::default()
            }),
        }))
    }

    async fn read_file(
        &self,
        request: Request<gateway::ReadFileRequest>,
    ) -> Result<Response<gateway::ReadFileResponse>, Status> {
        let request = request.into_inner();
        self.recorded().reads.push(request.clone());
        // BuildKit wraps ENOENT with code Unknown; frontends must cope with that form.
        let Some(data) = self.file(&request.r#ref, &request.file_path) else {
            return Err(Status::unknown(format!(
                "open {}: no such file or directory",
                request.file_path
            )));
        };
        let data = match request.range {
            Some(range) => {
                let start = usize::try_from(range.offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let length = usize::try_from(range.length).unwrap_or(usize::MAX);
                data[start..start.saturating_add(length).min(data.len())].to_vec()
            }
            None => data,
        };
        Ok(Response::new(gateway::ReadFileResponse { data }))
    }

    async fn read_dir(
        &self,
        _: Request<gateway::ReadDirRequest>,
    ) -> Result<Response<gateway::ReadDirResponse>, Status> {
        Err(Status::unimplemented("read_dir"))
    }

    async fn stat_file(
        &self,
        _: Request<gateway::StatFileRequest>,
    ) -> Result<Response<gateway::StatFileResponse>, Status> {
        Err(Status::unimplemented("stat_file"))
    }

    async fn evaluate(
        &self,
        _: Request<gateway::EvaluateRequest>,
    ) -> Result<Response<gateway::EvaluateResponse>, Status> {
        Ok(Response::new(gateway::EvaluateResponse {}))
    }

    async fn ping(
        &self,
        _: Request<gateway::PingRequest>,
    ) -> Result<Response<gateway::PongResponse>, Status> {
        self.recorded().pings += 1;
        Ok(Response::new(gateway::PongResponse {
            frontend_api_caps: caps_of(&self.gateway_caps),
            llb_caps: caps_of(&self.llb_caps),
            workers: vec![],
        }))
    }

    async fn r#return(
        &self,
        request: Request<gateway::ReturnRequest>,
    ) -> Result<Response<gateway::ReturnResponse>, Status> {
        let mut recorded = self.recorded();
        if !recorded.returns.is_empty() {
            return Err(Status::failed_precondition("gateway result is already set"));
        }
        recorded.returns.push(request.into_inner());
        Ok(Response::new(gateway::ReturnResponse {}))
    }

    async fn inputs(
        &self,
        _: Request<gateway::InputsRequest>,
    ) -> Result<Response<gateway::InputsResponse>, Status> {
        Ok(Response::new(gateway::InputsResponse {
            definitions: self.inputs.clone(),
        }))
    }

    async fn warn(
        &self,
        request: Request<gateway::WarnRequest>,
    ) -> Result<Response<gateway::WarnResponse>, Status> {
        self.recorded().warns.push(request.into_inner());
        Ok(Response::new(gateway::WarnResponse {}))
    }
}

/// Serves `fake` on `io` (one connection) in a background task of the current tokio runtime.
pub fn serve_on<IO>(fake: FakeBridge, io: IO)
where
    IO: AsyncRead + AsyncWrite + tonic::transport::server::Connected + Unpin + Send + 'static,
{
    // A never-ending incoming stream: the server must not shut down once its single
    // connection has been accepted.
    let incoming = tokio_stream::once(Ok::<_, std::io::Error>(io)).chain(tokio_stream::pending());
    tokio::spawn(
        tonic::transport::Server::builder()
            .serve_with_incoming(LlbBridgeServer::new(fake), incoming),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(include: &str, exclude: &str) -> LocalSource {
        let mut attrs = BTreeMap::new();
        if !include.is_empty() {
            attrs.insert(INCLUDE_ATTR.to_owned(), include.to_owned());
        }
        if !exclude.is_empty() {
            attrs.insert(EXCLUDE_ATTR.to_owned(), exclude.to_owned());
        }
        LocalSource {
            name: "context".into(),
            attrs,
        }
    }

    #[test]
    fn include_and_exclude_patterns_limit_the_transfer() {
        let all = source("", "");
        assert!(all.transfers("backend/app/main.py"));

        let some = source(r#"["backend/requirements.txt","frontend"]"#, "");
        assert!(some.transfers("backend/requirements.txt"));
        assert!(
            some.transfers("frontend/src/main.js"),
            "a directory covers its contents"
        );
        assert!(!some.transfers("backend/app/main.py"));
        assert!(!some.transfers("backend/requirements.txt.bak"));

        let globbed = source(
            r#"["**/*.txt"]"#,
            r#"["**/secret-*","!keep/secret-ok.txt"]"#,
        );
        assert!(globbed.transfers("backend/requirements.txt"));
        assert!(globbed.transfers("a.txt"));
        assert!(!globbed.transfers("backend/secret-notes.txt"));
        assert!(globbed.transfers("keep/secret-ok.txt"));
        assert!(!globbed.transfers("backend/main.py"));
    }

    #[test]
    fn digests_are_well_formed_and_distinct() {
        let amd = pb::Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            ..Default::default()
        };
        let arm = pb::Platform {
            architecture: "arm64".into(),
            ..amd.clone()
        };
        let digest = fake_digest("docker.io/library/python:3.11-slim", &amd);
        assert_eq!(digest.len(), "sha256:".len() + 64);
        assert!(digest.starts_with("sha256:"));
        assert_ne!(
            digest,
            fake_digest("docker.io/library/python:3.11-slim", &arm)
        );
        assert_ne!(digest, fake_digest("docker.io/library/node:18", &amd));
    }
}
