//! Every op kind encodes the fields BuildKit expects: decode the marshalled bytes with the
//! `pb` types and check them.

// Test helpers outside #[test] fns may unwrap and panic too: a failure is the point.

use std::collections::BTreeMap;

use buildkit_llb::pb;
use buildkit_llb::{
    CacheSharing, ContentCache, Definition, Diff, Differ, Exec, FileCopy, FileOp, Git, Http, Image,
    LlbError, Local, Merge, Mkdir, Mkfile, Mount, NetMode, Output, Owner, Platform, ResolveMode,
    Rm, Secret, SecurityMode, SshMount, UserRef,
};
use prost::Message as _;

fn decode(output: &Output) -> pb::Op {
    pb::Op::decode(output.op_bytes().unwrap()).unwrap()
}

fn source(op: &pb::Op) -> &pb::SourceOp {
    match &op.op {
        Some(pb::op::Op::Source(source)) => source,
        other => panic!("not a source op: {other:?}"),
    }
}

fn exec(op: &pb::Op) -> &pb::ExecOp {
    match &op.op {
        Some(pb::op::Op::Exec(exec)) => exec,
        other => panic!("not an exec op: {other:?}"),
    }
}

fn file(op: &pb::Op) -> &pb::FileOp {
    match &op.op {
        Some(pb::op::Op::File(file)) => file,
        other => panic!("not a file op: {other:?}"),
    }
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The caps recorded in the metadata of the op producing `output`.
fn op_caps(output: &Output) -> Vec<String> {
    let definition = Definition::new(output);
    let digest = output.digest().unwrap().to_string();
    definition.as_pb().metadata[&digest]
        .caps
        .keys()
        .cloned()
        .collect()
}

fn amd64() -> Platform {
    Platform::new("linux", "amd64")
}

#[test]
fn image_source_fields() {
    let out = Image::new("python:3.11-slim").platform(amd64()).build();
    let op = decode(&out);
    assert_eq!(
        source(&op).identifier,
        "docker-image://docker.io/library/python:3.11-slim"
    );
    assert!(source(&op).attrs.is_empty());
    assert_eq!(op.platform, Some(amd64().to_pb()));
    assert_eq!(
        op.constraints,
        Some(pb::WorkerConstraints { filter: vec![] })
    );
    assert!(op.inputs.is_empty());
    assert_eq!(op_caps(&out), ["source.image"]);

    let pinned = Image::new("ghcr.io/acme/base:1")
        .pinned("sha256:0123")
        .resolve_mode(ResolveMode::ForcePull)
        .record_type("internal")
        .layer_limit(3)
        .checksum("sha256:abcd")
        .build();
    let op = decode(&pinned);
    assert_eq!(
        source(&op).identifier,
        "docker-image://ghcr.io/acme/base:1@sha256:0123"
    );
    assert_eq!(
        source(&op).attrs,
        attrs(&[
            ("image.checksum", "sha256:abcd"),
            ("image.layerlimit", "3"),
            ("image.recordtype", "internal"),
            ("image.resolvemode", "pull"),
        ])
    );
    assert_eq!(op.platform, None);
    assert_eq!(
        op_caps(&pinned),
        [
            "source.image",
            "source.image.checksum",
            "source.image.layerlimit",
            "source.image.resolvemode"
        ]
    );
    let local = decode(
        &Image::new("alpine")
            .resolve_mode(ResolveMode::PreferLocal)
            .build(),
    );
    assert_eq!(
        source(&local).attrs,
        attrs(&[("image.resolvemode", "local")])
    );
    let default = decode(
        &Image::new("alpine")
            .resolve_mode(ResolveMode::Default)
            .build(),
    );
    assert!(source(&default).attrs.is_empty());
}

#[test]
fn image_references_normalise_like_docker() {
    for (input, want) in [
        ("alpine", "docker.io/library/alpine:latest"),
        ("python:3.11-slim", "docker.io/library/python:3.11-slim"),
        ("acme/app", "docker.io/acme/app:latest"),
        (
            "index.docker.io/library/node:18",
            "docker.io/library/node:18",
        ),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("localhost/app:v1", "localhost/app:v1"),
        ("ghcr.io/acme/app@sha256:ab", "ghcr.io/acme/app@sha256:ab"),
        ("node:18@sha256:ab", "docker.io/library/node:18@sha256:ab"),
    ] {
        assert_eq!(Image::new(input).reference(), want, "{input}");
    }
}

#[test]
fn image_op_bytes_match_go_encoding() {
    // What BuildKit's Go client writes for llb.Image("alpine", llb.Platform(linux/amd64)):
    // fields in number order with the oneof at its own number (source = 3), then platform
    // (10) and an always-present empty WorkerConstraints (11).
    let out = Image::new("alpine").platform(amd64()).build();
    let identifier = b"docker-image://docker.io/library/alpine:latest";
    let mut source_op = vec![0x0a, identifier.len() as u8];
    source_op.extend_from_slice(identifier);
    let mut want = vec![0x1a, source_op.len() as u8];
    want.extend_from_slice(&source_op);
    want.extend_from_slice(&[0x52, 0x0e, 0x0a, 0x05]);
    want.extend_from_slice(b"amd64");
    want.extend_from_slice(&[0x12, 0x05]);
    want.extend_from_slice(b"linux");
    want.extend_from_slice(&[0x5a, 0x00]);
    assert_eq!(out.op_bytes().unwrap(), want.as_slice());
}

#[test]
fn local_source_fields() {
    let out = Local::new("context")
        .include_patterns(["backend/requirements.txt", "backend/<x>&y"])
        .exclude_patterns(["**/node_modules"])
        .follow_paths(["backend/requirements.txt"])
        .shared_key_hint("context")
        .session_id("sess-1")
        .differ(Differ::None, true)
        .build();
    let op = decode(&out);
    assert_eq!(source(&op).identifier, "local://context");
    assert_eq!(
        source(&op).attrs,
        attrs(&[
            ("local.differ", "none"),
            ("local.excludepatterns", r#"["**/node_modules"]"#),
            ("local.followpaths", r#"["backend/requirements.txt"]"#),
            (
                "local.includepattern",
                r#"["backend/requirements.txt","backend/\u003cx\u003e\u0026y"]"#
            ),
            ("local.session", "sess-1"),
            ("local.sharedkeyhint", "context"),
        ])
    );
    assert_eq!(op.platform, None);
    assert_eq!(
        op_caps(&out),
        [
            "source.local",
            "source.local.differ",
            "source.local.excludepatterns",
            "source.local.followpaths",
            "source.local.includepatterns",
            "source.local.sessionid",
            "source.local.sharedkeyhint",
        ]
    );

    let bare = Local::new("dockerfile")
        .unique_id("u1")
        .differ(Differ::Metadata, false)
        .build();
    let op = decode(&bare);
    assert_eq!(
        source(&op).attrs,
        attrs(&[("local.differ", "metadata"), ("local.unique", "u1")])
    );
    assert_eq!(op_caps(&bare), ["source.local", "source.local.unique"]);
}

#[test]
fn git_source_fields() {
    let out = Git::new("https://github.com/moby/buildkit.git")
        .reference("v0.11.6")
        .subdir("docs/")
        .keep_git_dir()
        .checksum("0123abcd")
        .skip_submodules()
        .build();
    let op = decode(&out);
    assert_eq!(
        source(&op).identifier,
        "git://github.com/moby/buildkit.git#v0.11.6:docs"
    );
    assert_eq!(
        source(&op).attrs,
        attrs(&[
            ("git.authheadersecret", "GIT_AUTH_HEADER"),
            ("git.authtokensecret", "GIT_AUTH_TOKEN"),
            ("git.checksum", "0123abcd"),
            ("git.fullurl", "https://github.com/moby/buildkit.git"),
            ("git.keepgitdir", "true"),
            ("git.skipsubmodules", "true"),
        ])
    );
    let caps = op_caps(&out);
    for cap in [
        "source.git",
        "source.git.keepgitdir",
        "source.git.fullurl",
        "source.git.checksum",
        "source.git.skipsubmodules",
        "source.git.subdir",
    ] {
        assert!(caps.contains(&cap.to_string()), "{cap} in {caps:?}");
    }

    let ssh = decode(&Git::new("git@github.com:moby/buildkit.git").build());
    assert_eq!(
        source(&ssh).identifier,
        "git://github.com/moby/buildkit.git"
    );
    assert_eq!(source(&ssh).attrs["git.mountsshsock"], "default");
    assert_eq!(
        source(&ssh).attrs["git.fullurl"],
        "git@github.com:moby/buildkit.git"
    );

    let schemeless = decode(&Git::new("github.com/acme/app").reference("main").build());
    assert_eq!(
        source(&schemeless).identifier,
        "git://github.com/acme/app#main"
    );
    assert_eq!(
        source(&schemeless).attrs["git.fullurl"],
        "https://github.com/acme/app"
    );
}

#[test]
fn http_source_fields() {
    let out = Http::new("https://example.com/tool.tar.gz")
        .checksum("sha256:feed")
        .filename("tool.tgz")
        .perm(0o755)
        .chown(1000, 1001)
        .build();
    let op = decode(&out);
    assert_eq!(source(&op).identifier, "https://example.com/tool.tar.gz");
    assert_eq!(
        source(&op).attrs,
        attrs(&[
            ("http.checksum", "sha256:feed"),
            ("http.filename", "tool.tgz"),
            ("http.gid", "1001"),
            ("http.perm", "0755"),
            ("http.uid", "1000"),
        ])
    );
    assert_eq!(
        op_caps(&out),
        [
            "soruce.http.uidgid",
            "source.http",
            "source.http.checksum",
            "source.http.perm"
        ]
    );
}

#[test]
fn exec_fields_mounts_and_outputs() {
    let base = Image::new("python:3.11-slim").platform(amd64()).build();
    let ctx = Local::new("context").build();
    let deps = Image::new("busybox").build();
    let run = Exec::new(["pip", "wheel", "-r", "/src/requirements.txt"])
        .root(base.clone())
        .cwd("/src")
        .env("ZED", "last")
        .env("ALPHA", "first")
        .user("1000:1000")
        .hostname("builder")
        .extra_host("db", "10.0.0.2")
        .valid_exit_codes([0, 3])
        .mount(Mount::layer(deps.clone(), "/out"))
        .mount(
            Mount::readonly(ctx.clone(), "/src/requirements.txt")
                .selector("backend/requirements.txt"),
        )
        .mount(Mount::cache("/root/.cache/pip", "pip-cache").sharing(CacheSharing::Locked))
        .mount(Mount::tmpfs("/tmp").size(1 << 20))
        .mount(Mount::readonly(ctx.clone(), "/ctx"))
        .mount(Mount::layer(deps.clone(), "/another"))
        .secret(
            Secret::file("netrc", "/root/.netrc")
                .owner(0, 0, 0o440)
                .optional(),
        )
        .secret(Secret::env("token", "API_TOKEN"))
        .ssh(SshMount::new("default"))
        .custom_name("pip wheel")
        .build()
        .unwrap();
    let op = decode(&run.root());
    let exec = exec(&op);
    let meta = exec.meta.as_ref().unwrap();
    assert_eq!(meta.args, ["pip", "wheel", "-r", "/src/requirements.txt"]);
    assert_eq!(
        meta.env,
        [
            "ALPHA=first",
            "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0",
            "ZED=last"
        ]
    );
    assert_eq!(meta.cwd, "/src");
    assert_eq!(meta.user, "1000:1000");
    assert_eq!(meta.hostname, "builder");
    assert_eq!(
        meta.extra_hosts,
        [pb::HostIp {
            host: "db".into(),
            ip: "10.0.0.2".into()
        }]
    );
    assert_eq!(meta.valid_exit_codes, [0, 3]);
    assert!(meta.remove_mount_stubs_recursive);
    assert_eq!(exec.network, pb::NetMode::Unset as i32);
    assert_eq!(exec.security, pb::SecurityMode::Sandbox as i32);
    // The platform comes from the root image.
    assert_eq!(op.platform, Some(amd64().to_pb()));

    // Inputs: base, deps, ctx — deduplicated, numbered in sorted-mount order.
    let digests: Vec<&str> = op.inputs.iter().map(|i| i.digest.as_str()).collect();
    assert_eq!(
        digests,
        [
            base.digest().unwrap().as_str(),
            deps.digest().unwrap().as_str(),
            ctx.digest().unwrap().as_str()
        ]
    );
    let summary: Vec<(&str, i64, i64, bool, i32)> = exec
        .mounts
        .iter()
        .map(|m| (m.dest.as_str(), m.input, m.output, m.readonly, m.mount_type))
        .collect();
    let bind = pb::MountType::Bind as i32;
    assert_eq!(
        summary,
        [
            ("/", 0, 0, false, bind),
            ("/another", 1, 1, false, bind),
            ("/ctx", 2, -1, true, bind),
            ("/out", 1, 2, false, bind),
            (
                "/root/.cache/pip",
                -1,
                -1,
                false,
                pb::MountType::Cache as i32
            ),
            ("/src/requirements.txt", 2, -1, true, bind),
            ("/tmp", -1, -1, false, pb::MountType::Tmpfs as i32),
            ("/root/.netrc", -1, 0, false, pb::MountType::Secret as i32),
            (
                "/run/buildkit/ssh_agent.0",
                -1,
                0,
                false,
                pb::MountType::Ssh as i32
            ),
        ]
    );
    assert_eq!(exec.mounts[5].selector, "backend/requirements.txt");
    assert_eq!(
        exec.mounts[4].cache_opt,
        Some(pb::CacheOpt {
            id: "pip-cache".into(),
            sharing: pb::CacheSharingOpt::Locked as i32
        })
    );
    assert_eq!(
        exec.mounts[6].tmpfs_opt,
        Some(pb::TmpfsOpt { size: 1 << 20 })
    );
    assert_eq!(
        exec.mounts[7].secret_opt,
        Some(pb::SecretOpt {
            id: "netrc".into(),
            uid: 0,
            gid: 0,
            mode: 0o440,
            optional: true
        })
    );
    assert_eq!(
        exec.mounts[8].ssh_opt,
        Some(pb::SshOpt {
            id: "default".into(),
            uid: 0,
            gid: 0,
            mode: 0o600,
            optional: false
        })
    );
    assert_eq!(
        exec.secretenv,
        [pb::SecretEnv {
            id: "token".into(),
            name: "API_TOKEN".into(),
            optional: false
        }]
    );

    // Outputs: the root is 0; writable layers are numbered in destination order.
    assert_eq!(run.root().index(), 0);
    assert_eq!(run.output(0).unwrap().index(), 2); // "/out"
    assert_eq!(run.mount("/another").unwrap().index(), 1);
    assert!(run.output(1).is_none()); // read-only
    assert!(run.output(2).is_none()); // cache
    assert!(run.mount("/tmp").is_none());
    assert_eq!(run.output(0).unwrap().digest(), run.root().digest());

    let caps = op_caps(&run.root());
    assert_eq!(
        caps,
        [
            "exec.meta.base",
            "exec.mount.bind",
            "exec.mount.cache",
            "exec.mount.cache.sharing",
            "exec.mount.secret",
            "exec.mount.selector",
            "exec.mount.ssh",
            "exec.mount.tmpfs",
            "exec.mount.tmpfs.size",
            "exec.secretenv",
            "exec.validexitcode",
        ]
    );
}

#[test]
fn exec_network_security_and_cache_base() {
    let seed = Image::new("busybox").build();
    let run = Exec::new(["true"])
        .network(NetMode::None)
        .security(SecurityMode::Insecure)
        .platform(Platform::new("linux", "arm64").with_variant("v8"))
        .mount(
            Mount::cache("/cache", "c")
                .base(seed.clone())
                .sharing(CacheSharing::Private),
        )
        .build()
        .unwrap();
    let op = decode(&run.root());
    let exec = exec(&op);
    assert_eq!(exec.network, pb::NetMode::None as i32);
    assert_eq!(exec.security, pb::SecurityMode::Insecure as i32);
    assert_eq!(op.platform.as_ref().unwrap().variant, "v8");
    // Scratch root: no input, still output 0. The cache base is input 0.
    assert_eq!(exec.mounts[0].dest, "/");
    assert_eq!((exec.mounts[0].input, exec.mounts[0].output), (-1, 0));
    assert_eq!((exec.mounts[1].input, exec.mounts[1].output), (0, -1));
    assert_eq!(
        exec.mounts[1].cache_opt.as_ref().unwrap().sharing,
        pb::CacheSharingOpt::Private as i32
    );
    assert_eq!(op.inputs.len(), 1);
    assert_eq!(op.inputs[0].digest, seed.digest().unwrap().as_str());
    let caps = op_caps(&run.root());
    assert!(caps.contains(&"exec.meta.network".to_string()));
    assert!(caps.contains(&"exec.meta.security".to_string()));
    assert!(!caps.contains(&"exec.mount.bind".to_string()));

    let host = decode(
        &Exec::new(["true"])
            .network(NetMode::Host)
            .build()
            .unwrap()
            .root(),
    );
    assert_eq!(self::exec(&host).network, pb::NetMode::Host as i32);
}

#[test]
fn exec_mount_content_cache_mode_and_cap() {
    let tree = Image::new("node:18").build();
    let keyed_by_definition = Exec::new(["npm", "run", "build"])
        .mount(Mount::layer(tree.clone(), "/app").content_cache(ContentCache::Off))
        .build()
        .unwrap();
    let op = decode(&keyed_by_definition.root());
    let app = exec(&op).mounts.iter().find(|m| m.dest == "/app").unwrap();
    assert_eq!(app.content_cache, pb::MountContentCache::Off as i32);
    let caps = op_caps(&keyed_by_definition.root());
    assert!(caps.contains(&"exec.mount.cache.content".to_string()));

    // Left at the default, the field stays unset and old engines see no new capability.
    let plain = Exec::new(["npm", "run", "build"])
        .mount(Mount::layer(tree, "/app"))
        .build()
        .unwrap();
    let op = decode(&plain.root());
    assert!(
        exec(&op)
            .mounts
            .iter()
            .all(|m| m.content_cache == pb::MountContentCache::Default as i32)
    );
    assert!(!op_caps(&plain.root()).contains(&"exec.mount.cache.content".to_string()));
}

#[test]
fn exec_rejects_bad_input() {
    assert!(matches!(
        Exec::new(Vec::<String>::new()).build(),
        Err(LlbError::EmptyArgs)
    ));
    assert!(matches!(
        Exec::new(["x"]).cwd("").build(),
        Err(LlbError::EmptyCwd)
    ));
    assert!(matches!(
        Exec::new(["x"]).mount(Mount::tmpfs("tmp")).build(),
        Err(LlbError::RelativeMountDest(dest)) if dest == "tmp"
    ));
    assert!(matches!(
        Exec::new(["x"]).mount(Mount::tmpfs("/t")).mount(Mount::cache("/t", "c")).build(),
        Err(LlbError::DuplicateMountDest(dest)) if dest == "/t"
    ));
    assert!(matches!(
        Exec::new(["x"]).mount(Mount::tmpfs("/")).build(),
        Err(LlbError::DuplicateMountDest(_))
    ));
}

#[test]
fn file_op_chains_actions_like_buildkit() {
    let base = Image::new("node:18").platform(amd64()).build();
    let ctx = Local::new("context").build();
    let other = Image::new("busybox").build();
    let out = FileOp::new(base.clone())
        .mkdir(
            Mkdir::new("app/", 0o755)
                .make_parents(true)
                .owner(Owner::parse("node:node")),
        )
        .copy(
            FileCopy::new(ctx.clone(), "web/package.json", "/app/")
                .owner(Owner::ids(1000, 1000))
                .mode(0o644)
                .create_dest_path(true)
                .follow_symlinks(true)
                .include_patterns(["*.json"])
                .exclude_patterns(["secret.json"])
                .timestamp(0),
        )
        .copy(
            FileCopy::new(other.clone(), "./bin/../bin/sh", "/app/sh")
                .allow_wildcard(true)
                .allow_empty_wildcard(true)
                .dir_contents_only(true),
        )
        .copy(FileCopy::new(ctx.clone(), "web/package-lock.json", "/app/"))
        .mkfile(Mkfile::new("/app/.npmrc", 0o600, b"audit=false\n".to_vec()))
        .rm(Rm::new("/app/tmp/*")
            .allow_not_found(true)
            .allow_wildcard(true))
        .build()
        .unwrap();
    let op = decode(&out);
    assert_eq!(op.platform, None);
    let digests: Vec<&str> = op.inputs.iter().map(|i| i.digest.as_str()).collect();
    assert_eq!(
        digests,
        [
            base.digest().unwrap().as_str(),
            ctx.digest().unwrap().as_str(),
            other.digest().unwrap().as_str()
        ]
    );
    let actions = &file(&op).actions;
    let wiring: Vec<(i64, i64, i64)> = actions
        .iter()
        .map(|a| (a.input, a.secondary_input, a.output))
        .collect();
    // 3 inputs; action n>0 reads the previous action's result, index 3 + (n - 1).
    assert_eq!(
        wiring,
        [
            (0, -1, -1),
            (3, 1, -1),
            (4, 2, -1),
            (5, 1, -1),
            (6, -1, -1),
            (7, -1, 0)
        ]
    );
    let Some(pb::file_action::Action::Mkdir(mkdir)) = &actions[0].action else {
        panic!()
    };
    assert_eq!(mkdir.path, "/app");
    assert_eq!(mkdir.mode, 0o755);
    assert!(mkdir.make_parents);
    assert_eq!(mkdir.timestamp, -1);
    let owner = mkdir.owner.as_ref().unwrap();
    assert_eq!(
        owner.user.as_ref().unwrap().user,
        Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
            name: "node".into(),
            input: 0
        }))
    );
    let Some(pb::file_action::Action::Copy(copy)) = &actions[1].action else {
        panic!()
    };
    assert_eq!(copy.src, "/web/package.json");
    assert_eq!(copy.dest, "/app/");
    assert_eq!(copy.mode, 0o644);
    assert_eq!(copy.timestamp, 0);
    assert!(copy.create_dest_path && copy.follow_symlink);
    assert!(!copy.allow_wildcard);
    assert_eq!(copy.include_patterns, ["*.json"]);
    assert_eq!(copy.exclude_patterns, ["secret.json"]);
    assert_eq!(
        copy.owner.as_ref().unwrap().group.as_ref().unwrap().user,
        Some(pb::user_opt::User::ById(1000))
    );
    let Some(pb::file_action::Action::Copy(copy)) = &actions[2].action else {
        panic!()
    };
    assert_eq!(copy.src, "/bin/sh");
    assert_eq!(copy.mode, -1);
    assert_eq!(copy.timestamp, -1);
    assert!(copy.allow_wildcard && copy.allow_empty_wildcard && copy.dir_copy_contents);
    assert!(copy.owner.is_none());
    let Some(pb::file_action::Action::Mkfile(mkfile)) = &actions[4].action else {
        panic!()
    };
    assert_eq!(
        (mkfile.path.as_str(), mkfile.mode, mkfile.data.as_slice()),
        ("/app/.npmrc", 0o600, &b"audit=false\n"[..])
    );
    let Some(pb::file_action::Action::Rm(rm)) = &actions[5].action else {
        panic!()
    };
    assert_eq!(rm.path, "/app/tmp/*");
    assert!(rm.allow_not_found && rm.allow_wildcard);
    assert_eq!(
        op_caps(&out),
        [
            "file.base",
            "file.copy.includeexcludepatterns",
            "file.rm.wildcard"
        ]
    );
    // The platform passes through to later execs.
    assert_eq!(out.platform(), Some(&amd64()));
}

#[test]
fn file_op_on_scratch_and_errors() {
    let ctx = Local::new("context").build();
    let out = FileOp::new(Output::scratch())
        .copy(FileCopy::new(ctx.clone(), "/dist", "/usr/share/nginx/html").mode_str("u+rwx"))
        .mkfile(Mkfile::new("/etc/x", 0o644, Vec::new()).owner(Owner {
            user: Some(UserRef::Name("www".into())),
            group: None,
        }))
        .build()
        .unwrap();
    let op = decode(&out);
    assert_eq!(op.inputs.len(), 1);
    let actions = &file(&op).actions;
    assert_eq!(
        (
            actions[0].input,
            actions[0].secondary_input,
            actions[0].output
        ),
        (-1, 0, -1)
    );
    assert_eq!(
        (
            actions[1].input,
            actions[1].secondary_input,
            actions[1].output
        ),
        (1, -1, 0)
    );
    let Some(pb::file_action::Action::Copy(copy)) = &actions[0].action else {
        panic!()
    };
    assert_eq!((copy.mode, copy.mode_str.as_str()), (0, "u+rwx"));
    let Some(pb::file_action::Action::Mkfile(mkfile)) = &actions[1].action else {
        panic!()
    };
    // A name on a scratch base has no input to resolve it in.
    assert_eq!(
        mkfile.owner.as_ref().unwrap().user.as_ref().unwrap().user,
        Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
            name: "www".into(),
            input: -1
        }))
    );
    assert!(op_caps(&out).contains(&"file.copy.modestring".to_string()));
    assert!(matches!(
        FileOp::new(ctx).build(),
        Err(LlbError::EmptyFileOp)
    ));
    assert_eq!(UserRef::parse("root"), UserRef::Id(0));
    assert_eq!(UserRef::parse("65532"), UserRef::Id(65532));
    assert_eq!(UserRef::parse("-1"), UserRef::Name("-1".into()));
}

#[test]
fn merge_and_diff_fields() {
    let a = Image::new("alpine").platform(amd64()).build();
    let b = Local::new("context").build();
    let merged = Merge::new([a.clone(), Output::scratch(), b.clone(), a.clone()]).build();
    let op = decode(&merged);
    let Some(pb::op::Op::Merge(merge)) = &op.op else {
        panic!()
    };
    let indices: Vec<i64> = merge.inputs.iter().map(|i| i.input).collect();
    assert_eq!(indices, [0, 1, 2]);
    assert_eq!(op.inputs.len(), 3);
    assert_eq!(op.inputs[2], op.inputs[0]);
    assert_eq!(op.platform, None);
    assert_eq!(merged.platform(), Some(&amd64()));
    assert_eq!(op_caps(&merged), ["mergeop"]);
    assert!(Merge::new([Output::scratch()]).build().is_scratch());
    assert_eq!(Merge::new([b.clone(), Output::scratch()]).build(), b);

    let diff = Diff::new(a.clone(), merged.clone()).build();
    let op = decode(&diff);
    let Some(pb::op::Op::Diff(d)) = &op.op else {
        panic!()
    };
    assert_eq!((d.lower.unwrap().input, d.upper.unwrap().input), (0, 1));
    assert_eq!(op.inputs[0].digest, a.digest().unwrap().as_str());
    assert_eq!(op.inputs[1].digest, merged.digest().unwrap().as_str());
    assert_eq!(op_caps(&diff), ["diffop"]);
    let to_scratch = decode(&Diff::new(a.clone(), Output::scratch()).build());
    let Some(pb::op::Op::Diff(d)) = &to_scratch.op else {
        panic!()
    };
    assert_eq!((d.lower.unwrap().input, d.upper.unwrap().input), (0, -1));
    assert_eq!(Diff::new(Output::scratch(), b.clone()).build(), b);
}

#[test]
fn metadata_options_reach_op_metadata() {
    let out = Image::new("alpine")
        .custom_name("base")
        .description("com.example.step", "1")
        .ignore_cache()
        .export_cache(false)
        .progress_group("g1", "Group", true)
        .worker_constraint("labels.os==linux")
        .cap("custom.cap")
        .build();
    let op = decode(&out);
    assert_eq!(op.constraints.unwrap().filter, ["labels.os==linux"]);
    let definition = Definition::new(&out);
    let metadata = &definition.as_pb().metadata[out.digest().unwrap().as_str()];
    assert!(metadata.ignore_cache);
    assert_eq!(
        metadata.description,
        attrs(&[("com.example.step", "1"), ("llb.customname", "base")])
    );
    assert_eq!(
        metadata.export_cache,
        Some(pb::ExportCache { value: false })
    );
    assert_eq!(
        metadata.progress_group,
        Some(pb::ProgressGroup {
            id: "g1".into(),
            name: "Group".into(),
            weak: true
        })
    );
    assert!(metadata.caps.contains_key("custom.cap"));
    // Worker constraints are part of the op (they change the digest); metadata is not.
    assert_ne!(out.digest(), Image::new("alpine").build().digest());
    assert_eq!(
        Image::new("alpine").custom_name("x").build().digest(),
        Image::new("alpine").build().digest()
    );
}

#[test]
fn platform_parsing() {
    assert_eq!(Platform::parse_exact("linux/amd64").unwrap(), amd64());
    assert_eq!(
        Platform::parse_exact("linux/arm/v7").unwrap().to_string(),
        "linux/arm/v7"
    );
    assert!(Platform::parse_exact("linux").is_err());
    assert!(Platform::parse_exact("linux//").is_err());
}
