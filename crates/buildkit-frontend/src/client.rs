//! The LLBBridge client a frontend uses to talk to BuildKit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use buildkit_proto::gateway::llb_bridge_client::LlbBridgeClient;
use buildkit_proto::{fsutil, gateway, pb, types};
use tonic::transport::Channel;

use crate::error::{BuildError, ClientError, SourceLocation};
use crate::opts::{BuildEnv, CacheImport, FrontendOpts};
use crate::result::{FrontendResult, SolvedRef};
use crate::transport::MAX_MESSAGE_SIZE;
use buildkit_llb::{Platform, ResolveMode};

/// Gateway capability ids (only the ones a frontend commonly gates on; any id
/// string works with [`Client::has_gateway_cap`]). LLB capability ids are
/// [`buildkit_llb::caps`], for [`Client::has_llb_cap`].
pub mod caps {
    /// Gateway: `Inputs` and `FrontendInputs`.
    pub const FRONTEND_INPUTS: &str = "frontend.inputs";
    /// Gateway: `SolveRequest.CacheImports`.
    pub const IMPORT_CACHES: &str = "importcaches";
    /// Gateway: `SolveRequest.Evaluate`.
    pub const SOLVE_EVALUATE: &str = "gateway.solve.evaluate";
    /// Gateway: the `Evaluate` call.
    pub const EVALUATE: &str = "gateway.evaluate";
    /// Gateway: `Warn`.
    pub const WARNINGS: &str = "gateway.warnings";
    /// Gateway: `ResolveSourceMeta`.
    pub const SOURCE_META_RESOLVER: &str = "source.metaresolver";
    /// Gateway: `ReadDir`.
    pub const READ_DIR: &str = "readdir";
    /// Gateway: `StatFile`.
    pub const STAT_FILE: &str = "statfile";
    /// Gateway: results as `Ref{id,def}`.
    pub const PROTO_REF_ARRAY: &str = "proto.refarray";
}

/// What `Ping` reported: enabled capabilities and the workers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caps {
    pub gateway: BTreeSet<String>,
    pub llb: buildkit_llb::Caps,
    pub workers: Vec<types::WorkerRecord>,
}

/// A resolved image: pinned digest and config JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference as resolved (source policies may rewrite it).
    pub reference: String,
    /// `sha256:…` manifest digest.
    pub digest: String,
    /// The image config JSON.
    pub config: Vec<u8>,
}

/// A warning for `Warn`, shown in the build output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warning {
    /// Digest of the vertex the warning belongs to (may be empty).
    pub vertex: String,
    /// 1 is a warning.
    pub level: i64,
    pub short: String,
    pub detail: Vec<String>,
    pub url: String,
    pub location: Option<SourceLocation>,
}

/// A connected LLBBridge client plus the build's environment. Cheap to
/// clone; all clones share one connection.
#[derive(Debug, Clone)]
pub struct Client {
    bridge: LlbBridgeClient<Channel>,
    env: Arc<BuildEnv>,
    caps: Arc<Caps>,
    /// When the first `Solve` went out, shared by every clone (to measure a frontend's start).
    first_solve: Arc<OnceLock<Instant>>,
}

/// Timeout of the first Ping, as BuildKit's Go client uses.
const PING_TIMEOUT: Duration = Duration::from_secs(15);

impl Client {
    /// Wraps a connected channel. Call [`Client::ping`] before relying on caps.
    pub fn new(channel: Channel, env: BuildEnv) -> Self {
        let bridge = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        Client {
            bridge,
            env: Arc::new(env),
            caps: Arc::new(Caps::default()),
            first_solve: Arc::new(OnceLock::new()),
        }
    }

    /// When this client (or a clone) sent its first `Solve`, if it has.
    pub fn first_solve_sent(&self) -> Option<Instant> {
        self.first_solve.get().copied()
    }

    pub fn env(&self) -> &BuildEnv {
        &self.env
    }

    pub fn opts(&self) -> FrontendOpts<'_> {
        self.env.opts()
    }

    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// Whether BuildKit's gateway has the (enabled) capability `id`.
    pub fn has_gateway_cap(&self, id: &str) -> bool {
        self.caps.gateway.contains(id)
    }

    /// Whether BuildKit's LLB solver has the (enabled) capability `id`.
    pub fn has_llb_cap(&self, id: &str) -> bool {
        self.caps.llb.contains(id)
    }

    fn bridge(&self) -> LlbBridgeClient<Channel> {
        self.bridge.clone()
    }

    /// `Ping`: records the enabled capabilities and workers on this client.
    pub async fn ping(&mut self) -> Result<&Caps, ClientError> {
        let mut request = tonic::Request::new(gateway::PingRequest {});
        request.set_timeout(PING_TIMEOUT);
        let pong = self
            .bridge()
            .ping(request)
            .await
            .map_err(ClientError::rpc("Ping"))?
            .into_inner();
        fn enabled<C: FromIterator<String>>(caps: &[buildkit_proto::apicaps::ApiCap]) -> C {
            caps.iter()
                .filter(|c| c.enabled)
                .map(|c| c.id.clone())
                .collect()
        }
        self.caps = Arc::new(Caps {
            gateway: enabled(&pong.frontend_api_caps),
            llb: enabled(&pong.llb_caps),
            workers: pong.workers,
        });
        Ok(&self.caps)
    }

    /// `ResolveImageConfig`: digest and config of `reference` for `platform`.
    pub async fn resolve_image_config(
        &self,
        reference: &str,
        platform: Option<&Platform>,
        mode: ResolveMode,
        log_name: &str,
    ) -> Result<ResolvedImage, ClientError> {
        let response = self
            .bridge()
            .resolve_image_config(gateway::ResolveImageConfigRequest {
                r#ref: reference.to_string(),
                platform: platform.map(Platform::to_pb),
                resolve_mode: mode.as_str().to_string(),
                log_name: log_name.to_string(),
                ..Default::default()
            })
            .await
            .map_err(ClientError::rpc("ResolveImageConfig"))?
            .into_inner();
        Ok(ResolvedImage {
            reference: if response.r#ref.is_empty() {
                reference.to_string()
            } else {
                response.r#ref
            },
            digest: response.digest,
            config: response.config,
        })
    }

    /// `ResolveSourceMeta`, raw.
    pub async fn resolve_source_meta(
        &self,
        request: gateway::ResolveSourceMetaRequest,
    ) -> Result<gateway::ResolveSourceMetaResponse, ClientError> {
        Ok(self
            .bridge()
            .resolve_source_meta(request)
            .await
            .map_err(ClientError::rpc("ResolveSourceMeta"))?
            .into_inner())
    }

    /// Resolves an image through `ResolveSourceMeta` when BuildKit has it
    /// (it honours source policies), else `ResolveImageConfig`.
    pub async fn resolve_image(
        &self,
        reference: &str,
        platform: Option<&Platform>,
        mode: ResolveMode,
        log_name: &str,
    ) -> Result<ResolvedImage, ClientError> {
        if !self.has_gateway_cap(caps::SOURCE_META_RESOLVER) {
            return self
                .resolve_image_config(reference, platform, mode, log_name)
                .await;
        }
        const SCHEME: &str = "docker-image://";
        let response = self
            .resolve_source_meta(gateway::ResolveSourceMetaRequest {
                source: Some(pb::SourceOp {
                    identifier: format!("{SCHEME}{reference}"),
                    attrs: BTreeMap::new(),
                }),
                platform: platform.map(Platform::to_pb),
                log_name: log_name.to_string(),
                resolve_mode: mode.as_str().to_string(),
                ..Default::default()
            })
            .await?;
        let image = response.image.ok_or(ClientError::MissingField {
            call: "ResolveSourceMeta",
            what: "image",
        })?;
        let resolved = response
            .source
            .and_then(|s| s.identifier.strip_prefix(SCHEME).map(str::to_string))
            .unwrap_or_else(|| reference.to_string());
        Ok(ResolvedImage {
            reference: resolved,
            digest: image.digest,
            config: image.config,
        })
    }

    /// `Solve` of an LLB definition, passing the user's cache imports (BuildKit
    /// does not add `--cache-from` to frontend solves). `evaluate` forces
    /// the build now so failures surface before `Return`.
    pub async fn solve(
        &self,
        definition: pb::Definition,
        cache_imports: &[CacheImport],
        evaluate: bool,
    ) -> Result<SolvedRef, ClientError> {
        let response = self
            .solve_request(gateway::SolveRequest {
                definition: Some(definition),
                allow_result_return: true,
                allow_result_array_ref: true,
                cache_imports: cache_imports.iter().map(CacheImport::to_proto).collect(),
                evaluate,
                ..Default::default()
            })
            .await?;
        match response.result.and_then(|r| r.result) {
            Some(gateway::result::Result::Ref(r)) => Ok(SolvedRef {
                id: r.id,
                definition: r.def,
            }),
            Some(gateway::result::Result::RefDeprecated(id)) => Ok(SolvedRef {
                id,
                definition: None,
            }),
            Some(_) => Err(ClientError::MissingField {
                call: "Solve",
                what: "single reference (got a map)",
            }),
            None => Ok(SolvedRef {
                id: response.r#ref,
                definition: None,
            }),
        }
    }

    /// `Solve`, raw (e.g. to call another frontend).
    pub async fn solve_request(
        &self,
        request: gateway::SolveRequest,
    ) -> Result<gateway::SolveResponse, ClientError> {
        self.first_solve.get_or_init(Instant::now);
        Ok(self
            .bridge()
            .solve(request)
            .await
            .map_err(ClientError::rpc("Solve"))?
            .into_inner())
    }

    /// `ReadFile` from a solved reference; `range` is `(offset, length)`.
    pub async fn read_file(
        &self,
        reference: &str,
        path: &str,
        range: Option<(i64, i64)>,
    ) -> Result<Vec<u8>, ClientError> {
        Ok(self
            .bridge()
            .read_file(gateway::ReadFileRequest {
                r#ref: reference.to_string(),
                file_path: path.to_string(),
                range: range.map(|(offset, length)| gateway::FileRange { offset, length }),
                mount_index: 0,
            })
            .await
            .map_err(ClientError::rpc("ReadFile"))?
            .into_inner()
            .data)
    }

    /// `ReadDir`; `include_pattern` is a glob (empty for everything).
    pub async fn read_dir(
        &self,
        reference: &str,
        path: &str,
        include_pattern: &str,
    ) -> Result<Vec<fsutil::Stat>, ClientError> {
        Ok(self
            .bridge()
            .read_dir(gateway::ReadDirRequest {
                r#ref: reference.to_string(),
                dir_path: path.to_string(),
                include_pattern: include_pattern.to_string(),
                mount_index: 0,
            })
            .await
            .map_err(ClientError::rpc("ReadDir"))?
            .into_inner()
            .entries)
    }

    /// `StatFile`.
    pub async fn stat_file(
        &self,
        reference: &str,
        path: &str,
    ) -> Result<fsutil::Stat, ClientError> {
        self.bridge()
            .stat_file(gateway::StatFileRequest {
                r#ref: reference.to_string(),
                path: path.to_string(),
                mount_index: 0,
            })
            .await
            .map_err(ClientError::rpc("StatFile"))?
            .into_inner()
            .stat
            .ok_or(ClientError::MissingField {
                call: "StatFile",
                what: "stat",
            })
    }

    /// `Evaluate`: builds a lazy reference now.
    pub async fn evaluate(&self, reference: &str) -> Result<(), ClientError> {
        self.bridge()
            .evaluate(gateway::EvaluateRequest {
                r#ref: reference.to_string(),
            })
            .await
            .map_err(ClientError::rpc("Evaluate"))?;
        Ok(())
    }

    /// `Inputs`: definitions passed in by a forwarding frontend, by name.
    pub async fn inputs(&self) -> Result<BTreeMap<String, pb::Definition>, ClientError> {
        Ok(self
            .bridge()
            .inputs(gateway::InputsRequest {})
            .await
            .map_err(ClientError::rpc("Inputs"))?
            .into_inner()
            .definitions)
    }

    /// `Warn`: a warning shown in the build output.
    pub async fn warn(&self, warning: &Warning) -> Result<(), ClientError> {
        let (info, ranges) = match &warning.location {
            Some(location) => (Some(location.source_info()), location.pb_ranges()),
            None => (None, Vec::new()),
        };
        self.bridge()
            .warn(gateway::WarnRequest {
                digest: warning.vertex.clone(),
                level: warning.level,
                short: warning.short.clone().into_bytes(),
                detail: warning
                    .detail
                    .iter()
                    .map(|d| d.clone().into_bytes())
                    .collect(),
                url: warning.url.clone(),
                info,
                ranges,
            })
            .await
            .map_err(ClientError::rpc("Warn"))?;
        Ok(())
    }

    /// `Return` with a result. Call once per build.
    pub async fn return_result(&self, result: FrontendResult) -> Result<(), ClientError> {
        self.return_request(gateway::ReturnRequest {
            result: Some(result.into_proto()),
            error: None,
        })
        .await
    }

    /// `Return` with an error; BuildKit fails the build with its message.
    pub async fn return_error(&self, error: &BuildError) -> Result<(), ClientError> {
        self.return_request(gateway::ReturnRequest {
            result: None,
            error: Some(error.to_status()),
        })
        .await
    }

    async fn return_request(&self, request: gateway::ReturnRequest) -> Result<(), ClientError> {
        self.bridge()
            .r#return(request)
            .await
            .map_err(ClientError::rpc("Return"))?;
        Ok(())
    }
}
