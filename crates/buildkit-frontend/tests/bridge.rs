//! Drives the client and `serve` against a fake LLBBridge (a tonic server
//! from buildkit-proto's `server` feature) over an in-memory duplex pipe.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use buildkit_frontend::testing::{FakeBridge, default_image_config, fake_digest, serve_on};
use buildkit_frontend::{
    BuildEnv, BuildError, Client, ImageResults, Outcome, Platform, PlatformImage, ResolveMode,
    SourceLocation, SourceRange, Warning, caps, connect_io, serve,
};
use buildkit_proto::{gateway, pb};

/// Serves `fake` on one end of an in-memory pipe; returns the other end's channel.
async fn start(fake: FakeBridge) -> tonic::transport::Channel {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    serve_on(fake, server_io);
    connect_io(client_io).await.unwrap()
}

fn env(opts: &[&str]) -> BuildEnv {
    BuildEnv::from_vars(
        opts.iter()
            .enumerate()
            .map(|(i, o)| (format!("BUILDKIT_FRONTEND_OPT_{i}"), o.to_string()))
            .chain([("BUILDKIT_SESSION_ID".to_string(), "sess".to_string())]),
    )
    .unwrap()
}

/// The single Return the fake received.
fn returned(fake: &FakeBridge) -> gateway::ReturnRequest {
    let returns = fake.returns();
    assert_eq!(returns.len(), 1, "exactly one Return");
    returns[0].clone()
}

fn definition() -> pb::Definition {
    pb::Definition {
        def: vec![b"op".to_vec()],
        ..Default::default()
    }
}

#[tokio::test]
async fn ping_records_enabled_caps_only() {
    let mut client = Client::new(start(FakeBridge::default()).await, env(&[]));
    assert!(!client.has_gateway_cap(caps::FRONTEND_INPUTS));
    client.ping().await.unwrap();
    assert!(client.has_gateway_cap(caps::FRONTEND_INPUTS));
    assert!(
        !client.has_gateway_cap(caps::WARNINGS),
        "disabled caps are absent"
    );
    assert!(client.has_llb_cap(buildkit_llb::caps::MERGE_OP));
    assert!(!client.has_llb_cap(buildkit_llb::caps::DIFF_OP));
    assert!(
        !client.has_llb_cap(caps::FRONTEND_INPUTS),
        "gateway and LLB caps are separate"
    );
    assert_eq!(client.env().session_id, "sess");
}

#[tokio::test]
async fn solve_passes_cache_imports() {
    let fake = FakeBridge::default();
    let client = Client::new(
        start(fake.clone()).await,
        env(&[
            r#"cache-imports=[{"Type":"registry","Attrs":{"ref":"reg.example/app:cache"}}]"#,
            "cache-from=reg.example/old:cache",
        ]),
    );
    let imports = client.opts().cache_imports().unwrap();
    assert!(client.first_solve_sent().is_none());
    let before = std::time::Instant::now();
    let solved = client.solve(definition(), &imports, true).await.unwrap();
    assert_eq!(solved.id, "ref-1");
    // Clones share the instant; a later Solve does not move it.
    let first = client.clone().first_solve_sent().unwrap();
    assert!(first >= before);
    client.solve(definition(), &imports, true).await.unwrap();
    assert_eq!(client.first_solve_sent(), Some(first));

    let recorded = fake.recorded.lock().unwrap();
    let request = &recorded.solves[0];
    assert_eq!(
        request.definition.as_ref().unwrap().def,
        vec![b"op".to_vec()]
    );
    assert!(request.allow_result_return);
    assert!(request.allow_result_array_ref);
    assert!(request.evaluate);
    let got: Vec<(&str, &str)> = request
        .cache_imports
        .iter()
        .map(|c| (c.r#type.as_str(), c.attrs["ref"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("registry", "reg.example/app:cache"),
            ("registry", "reg.example/old:cache")
        ]
    );
}

#[tokio::test]
async fn read_file_whole_ranged_and_missing() {
    let fake = FakeBridge {
        files: BTreeMap::from([(
            "layercake.yaml".to_string(),
            b"# syntax=x\nservices: {}\n".to_vec(),
        )]),
        ..FakeBridge::default()
    };
    let client = Client::new(start(fake.clone()).await, env(&[]));
    let whole = client
        .read_file("ref-1", "layercake.yaml", None)
        .await
        .unwrap();
    assert_eq!(whole, b"# syntax=x\nservices: {}\n");
    let part = client
        .read_file("ref-1", "layercake.yaml", Some((2, 6)))
        .await
        .unwrap();
    assert_eq!(part, b"syntax");
    let missing = client
        .read_file("ref-1", ".dockerignore", None)
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let other = client.stat_file("ref-1", "x").await.unwrap_err();
    assert!(!other.is_not_found());

    let reads = &fake.recorded.lock().unwrap().reads;
    assert_eq!(reads[0].r#ref, "ref-1");
    assert_eq!(
        reads[1].range,
        Some(gateway::FileRange {
            offset: 2,
            length: 6
        })
    );
}

#[tokio::test]
async fn resolve_warn_and_inputs() {
    let fake = FakeBridge {
        inputs: BTreeMap::from([("dockerfile".to_string(), definition())]),
        ..FakeBridge::default()
    };
    let mut client = Client::new(start(fake.clone()).await, env(&[]));
    let arm = Platform::parse("linux/arm64").unwrap();

    // Before Ping no cap is known: ResolveImageConfig is used.
    let img = client
        .resolve_image(
            "python:3.12",
            Some(&arm),
            ResolveMode::ForcePull,
            "[internal] load",
        )
        .await
        .unwrap();
    assert_eq!(img.digest, fake_digest("python:3.12", &arm.to_pb()));
    assert_eq!(img.config, default_image_config(&arm.to_pb()));
    assert_eq!(img.reference, "python:3.12");
    {
        let recorded = fake.recorded();
        assert!(recorded.meta.is_empty());
        let request = &recorded.image_configs[0];
        assert_eq!(request.r#ref, "python:3.12");
        assert_eq!(request.resolve_mode, "pull");
        assert_eq!(request.platform.as_ref().unwrap().architecture, "arm64");
        assert_eq!(request.log_name, "[internal] load");
    }

    client.ping().await.unwrap();
    let img = client
        .resolve_image(
            "docker.io/library/python:3.12-slim",
            Some(&arm),
            ResolveMode::Default,
            "load",
        )
        .await
        .unwrap();
    assert_eq!(
        img.digest,
        fake_digest("docker.io/library/python:3.12-slim", &arm.to_pb())
    );
    assert_eq!(img.reference, "docker.io/library/python:3.12-slim");
    {
        let recorded = fake.recorded();
        assert_eq!(
            recorded.image_configs.len(),
            1,
            "after Ping: ResolveSourceMeta"
        );
        let meta = &recorded.meta[0];
        assert_eq!(
            meta.source.as_ref().unwrap().identifier,
            "docker-image://docker.io/library/python:3.12-slim"
        );
        assert_eq!(meta.platform.as_ref().unwrap().architecture, "arm64");
        assert_eq!(meta.resolve_mode, "default");
    }

    client
        .warn(&Warning {
            vertex: "sha256:v".into(),
            level: 1,
            short: "unpinned image".into(),
            detail: vec!["pin it".into()],
            url: String::new(),
            location: Some(SourceLocation {
                filename: "layercake.yaml".into(),
                data: b"a\nb\n".to_vec(),
                language: "yaml".into(),
                ranges: vec![SourceRange::line(2)],
            }),
        })
        .await
        .unwrap();
    {
        let warn = &fake.recorded.lock().unwrap().warns[0];
        assert_eq!(warn.short, b"unpinned image");
        assert_eq!(warn.detail, vec![b"pin it".to_vec()]);
        assert_eq!(warn.info.as_ref().unwrap().filename, "layercake.yaml");
        assert_eq!(warn.ranges[0].start.unwrap().line, 2);
    }

    let inputs = client.inputs().await.unwrap();
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs["dockerfile"].def, vec![b"op".to_vec()]);
}

#[tokio::test]
async fn serve_returns_single_platform_result() {
    let fake = FakeBridge::default();
    let channel = start(fake.clone()).await;
    let outcome = serve(
        channel,
        Ok(env(&["target=api"])),
        |client: Client| async move {
            assert!(
                client.has_gateway_cap(caps::FRONTEND_INPUTS),
                "serve pings first"
            );
            let solved = client.solve(definition(), &[], false).await?;
            let mut results = ImageResults::new(client.opts().multi_platform()?);
            results
                .add(PlatformImage {
                    platform: Platform::parse("linux/amd64").unwrap(),
                    reference: solved,
                    config: br#"{"architecture":"amd64","os":"linux"}"#.to_vec(),
                    ..PlatformImage::default()
                })
                .map_err(|e| BuildError::new(e.to_string()))?;
            results.finish().map_err(|e| BuildError::new(e.to_string()))
        },
    )
    .await;
    assert!(matches!(outcome, Outcome::Returned), "{outcome:?}");
    assert_eq!(outcome.exit_code(), std::process::ExitCode::SUCCESS);

    let ret = returned(&fake);
    assert!(ret.error.is_none());
    let result = ret.result.unwrap();
    let Some(gateway::result::Result::Ref(r)) = result.result else {
        panic!("expected one ref, got {:?}", result.result);
    };
    assert_eq!(r.id, "ref-1");
    assert_eq!(
        result.metadata["containerimage.config"],
        br#"{"architecture":"amd64","os":"linux"}"#
    );
    assert!(result.metadata.contains_key("refs.platforms"));
}

#[tokio::test]
async fn serve_returns_multi_platform_result() {
    let fake = FakeBridge::default();
    let channel = start(fake.clone()).await;
    let opts = ["platform=linux/amd64,linux/arm64/v8"];
    let outcome = serve(channel, Ok(env(&opts)), |client: Client| async move {
        let mut results = ImageResults::new(client.opts().multi_platform()?);
        for platform in client.opts().platforms()? {
            let solved = client.solve(definition(), &[], false).await?;
            let config = format!(r#"{{"architecture":"{}"}}"#, platform.architecture).into_bytes();
            results
                .add(PlatformImage {
                    platform,
                    reference: solved,
                    config,
                    ..PlatformImage::default()
                })
                .map_err(|e| BuildError::new(e.to_string()))?;
        }
        results.finish().map_err(|e| BuildError::new(e.to_string()))
    })
    .await;
    assert!(matches!(outcome, Outcome::Returned), "{outcome:?}");

    let result = returned(&fake).result.unwrap();
    let Some(gateway::result::Result::Refs(map)) = result.result else {
        panic!("expected a ref map, got {:?}", result.result);
    };
    assert_eq!(map.refs["linux/amd64"].id, "ref-1");
    assert_eq!(map.refs["linux/arm64"].id, "ref-2");
    assert_eq!(
        result.metadata["containerimage.config/linux/arm64"],
        br#"{"architecture":"arm64"}"#
    );
    let platforms: serde_json::Value =
        serde_json::from_slice(&result.metadata["refs.platforms"]).unwrap();
    assert_eq!(platforms["platforms"][1]["id"], "linux/arm64");
    assert_eq!(
        platforms["platforms"][1]["platform"]["architecture"],
        "arm64"
    );
}

#[tokio::test]
async fn serve_returns_handler_error() {
    let fake = FakeBridge::default();
    let channel = start(fake.clone()).await;
    let outcome = serve(channel, Ok(env(&[])), |_client: Client| async move {
        Err::<buildkit_frontend::FrontendResult, _>(
            BuildError::new("unknown service \"apx\"; did you mean \"api\"?").with_location(
                SourceLocation {
                    filename: "layercake.yaml".into(),
                    data: b"services:\n  apx: {}\n".to_vec(),
                    language: "yaml".into(),
                    ranges: vec![SourceRange::line(2)],
                },
            ),
        )
    })
    .await;
    let Outcome::ReturnedError(err) = &outcome else {
        panic!("expected a returned error, got {outcome:?}");
    };
    assert!(err.message.contains("apx"));
    assert_eq!(outcome.exit_code(), std::process::ExitCode::SUCCESS);

    let ret = returned(&fake);
    assert!(ret.result.is_none());
    let status = ret.error.unwrap();
    assert_eq!(status.code, tonic::Code::Unknown as i32);
    assert_eq!(
        status.message,
        "unknown service \"apx\"; did you mean \"api\"?"
    );
    assert_eq!(status.details.len(), 1);
    assert_eq!(
        status.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Source+json"
    );
}

#[tokio::test]
async fn serve_returns_a_panicking_handler_as_an_error() {
    let fake = FakeBridge::default();
    let channel = start(fake.clone()).await;
    let outcome = serve(channel, Ok(env(&[])), |_client: Client| async move {
        let plans: Vec<u8> = Vec::new();
        // An out-of-bounds index: the kind of bug a panic hook would otherwise turn into a
        // vanished frontend process.
        let first = plans[plans.len()];
        Ok::<_, BuildError>(buildkit_frontend::FrontendResult::single(
            &buildkit_frontend::SolvedRef::default(),
            vec![first],
        ))
    })
    .await;
    let Outcome::ReturnedError(err) = &outcome else {
        panic!("expected a returned error, got {outcome:?}");
    };
    assert!(
        err.message.starts_with("internal error in the frontend"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("index out of bounds"),
        "{}",
        err.message
    );
    assert_eq!(outcome.exit_code(), std::process::ExitCode::SUCCESS);
    let status = returned(&fake).error.unwrap();
    assert!(status.message.contains("index out of bounds"));
}

#[tokio::test]
async fn serve_returns_environment_error_without_calling_handler() {
    let fake = FakeBridge::default();
    let channel = start(fake.clone()).await;
    let bad_env = BuildEnv::from_vars([("BUILDKIT_FRONTEND_OPT_0", "no-equals-sign")]);
    let outcome = serve(channel, bad_env, |_client: Client| async move {
        panic!("handler must not run with a broken environment")
    })
    .await;
    assert!(matches!(outcome, Outcome::ReturnedError(_)), "{outcome:?}");
    let status = returned(&fake).error.unwrap();
    assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
    assert!(
        status.message.contains("BUILDKIT_FRONTEND_OPT_0"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn second_return_is_reported() {
    let fake = FakeBridge::default();
    let client = Client::new(start(fake.clone()).await, env(&[]));
    client
        .return_result(buildkit_frontend::FrontendResult::metadata_only())
        .await
        .unwrap();
    let err = client
        .return_error(&BuildError::new("late"))
        .await
        .unwrap_err();
    assert_eq!(
        err.status().unwrap().code(),
        tonic::Code::FailedPrecondition
    );
}
