//! A fake LLBBridge (BuildKit's side of the gateway) shared by the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use buildkit_frontend::caps;
use buildkit_proto::gateway::llb_bridge_server::{LlbBridge, LlbBridgeServer};
use buildkit_proto::{apicaps, gateway, pb};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status};

#[derive(Default)]
pub struct Recorded {
    pub solves: Vec<gateway::SolveRequest>,
    pub reads: Vec<gateway::ReadFileRequest>,
    pub warns: Vec<gateway::WarnRequest>,
    pub returns: Vec<gateway::ReturnRequest>,
    pub meta: Vec<gateway::ResolveSourceMetaRequest>,
}

#[derive(Clone, Default)]
pub struct FakeBridge {
    pub recorded: Arc<Mutex<Recorded>>,
    pub files: BTreeMap<String, Vec<u8>>,
}

fn cap(id: &str, enabled: bool) -> apicaps::ApiCap {
    apicaps::ApiCap {
        id: id.into(),
        enabled,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl LlbBridge for FakeBridge {
    async fn resolve_image_config(
        &self,
        request: Request<gateway::ResolveImageConfigRequest>,
    ) -> Result<Response<gateway::ResolveImageConfigResponse>, Status> {
        let r = request.into_inner();
        Ok(Response::new(gateway::ResolveImageConfigResponse {
            digest: "sha256:cfg".into(),
            config: format!(
                "{}|{}",
                r.resolve_mode,
                r.platform.unwrap_or_default().architecture
            )
            .into_bytes(),
            r#ref: String::new(),
        }))
    }

    async fn resolve_source_meta(
        &self,
        request: Request<gateway::ResolveSourceMetaRequest>,
    ) -> Result<Response<gateway::ResolveSourceMetaResponse>, Status> {
        let r = request.into_inner();
        self.recorded.lock().unwrap().meta.push(r.clone());
        Ok(Response::new(gateway::ResolveSourceMetaResponse {
            source: Some(pb::SourceOp {
                identifier: "docker-image://docker.io/library/python:3.12-slim".into(),
                attrs: BTreeMap::new(),
            }),
            image: Some(gateway::ResolveSourceImageResponse {
                digest: "sha256:meta".into(),
                config: b"{}".to_vec(),
                attestation_chain: None,
            }),
            ..Default::default()
        }))
    }

    async fn solve(
        &self,
        request: Request<gateway::SolveRequest>,
    ) -> Result<Response<gateway::SolveResponse>, Status> {
        let mut recorded = self.recorded.lock().unwrap();
        recorded.solves.push(request.into_inner());
        let id = format!("ref-{}", recorded.solves.len());
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
        let r = request.into_inner();
        self.recorded.lock().unwrap().reads.push(r.clone());
        let Some(data) = self.files.get(&r.file_path) else {
            return Err(Status::unknown(format!(
                "open {}: no such file or directory",
                r.file_path
            )));
        };
        let data = match r.range {
            Some(range) => {
                let start = usize::try_from(range.offset).unwrap();
                let end = start + usize::try_from(range.length).unwrap();
                data[start..end.min(data.len())].to_vec()
            }
            None => data.clone(),
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
        Ok(Response::new(gateway::PongResponse {
            frontend_api_caps: vec![
                cap(caps::FRONTEND_INPUTS, true),
                cap(caps::SOURCE_META_RESOLVER, true),
                cap(caps::WARNINGS, false),
            ],
            llb_caps: vec![cap(caps::MERGE_OP, true), cap(caps::DIFF_OP, false)],
            workers: vec![],
        }))
    }

    async fn r#return(
        &self,
        request: Request<gateway::ReturnRequest>,
    ) -> Result<Response<gateway::ReturnResponse>, Status> {
        let mut recorded = self.recorded.lock().unwrap();
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
            definitions: BTreeMap::from([("dockerfile".to_string(), pb::Definition::default())]),
        }))
    }

    async fn warn(
        &self,
        request: Request<gateway::WarnRequest>,
    ) -> Result<Response<gateway::WarnResponse>, Status> {
        self.recorded
            .lock()
            .unwrap()
            .warns
            .push(request.into_inner());
        Ok(Response::new(gateway::WarnResponse {}))
    }
}

/// Serves `fake` on `io` (one connection) in a background task.
pub fn serve_on<IO>(fake: FakeBridge, io: IO)
where
    IO: AsyncRead + AsyncWrite + tonic::transport::server::Connected + Unpin + Send + 'static,
{
    // Never-ending incoming stream: the server must not shut down after the
    // single connection is accepted.
    let incoming = tokio_stream::once(Ok::<_, std::io::Error>(io)).chain(tokio_stream::pending());
    tokio::spawn(
        tonic::transport::Server::builder()
            .serve_with_incoming(LlbBridgeServer::new(fake), incoming),
    );
}

/// The single Return the fake received.
pub fn returned(fake: &FakeBridge) -> gateway::ReturnRequest {
    let recorded = fake.recorded.lock().unwrap();
    assert_eq!(recorded.returns.len(), 1, "exactly one Return");
    recorded.returns[0].clone()
}
