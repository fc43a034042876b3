//! JSON dumps of representative graphs, reviewed once and pinned: any change to what goes on
//! the wire (fields, order, digests) shows up as a snapshot diff.

// Test helpers outside #[test] fns may unwrap and panic too: a failure is the point.

use buildkit_llb::{
    CacheSharing, Definition, Diff, Exec, FileCopy, FileOp, Git, Http, Image, Local, Merge, Mkdir,
    Mkfile, Mount, NetMode, Output, Owner, Platform, Range, Rm, Secret, SourceMap,
};

const PYTHON_DIGEST: &str =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NODE_DIGEST: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const NGINX_DIGEST: &str =
    "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn amd64() -> Platform {
    Platform::new("linux", "amd64")
}

/// The layercake Python service shape: wheels built from the requirements file only, installed
/// from a read-only mount of the wheels stage, app code copied last.
fn python_wheels_graph() -> Output {
    let spec = SourceMap::new(
        "layercake.yaml",
        "yaml",
        b"services:\n  api:\n    python: {version: \"3.11\"}\n".to_vec(),
    );
    let ctx = Local::new("context")
        .shared_key_hint("context")
        .exclude_patterns(["**/__pycache__", ".git"])
        .custom_name("[internal] load build context")
        .build();
    let python = Image::new("python:3.11")
        .platform(amd64())
        .pinned(PYTHON_DIGEST)
        .build();
    let slim = Image::new("python:3.11-slim")
        .platform(amd64())
        .pinned(PYTHON_DIGEST)
        .build();
    let wheels = Exec::new([
        "pip",
        "wheel",
        "--wheel-dir",
        "/wheels",
        "-r",
        "/src/requirements.txt",
    ])
    .root(python)
    .cwd("/src")
    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    .env("PIP_NO_COLOR", "1")
    .mount(
        Mount::readonly(ctx.clone(), "/src/requirements.txt").selector("backend/requirements.txt"),
    )
    .mount(
        Mount::cache("/root/.cache/pip", "layercake-pip-3.11-linux-amd64")
            .sharing(CacheSharing::Locked),
    )
    .mount(Mount::layer(Output::scratch(), "/wheels"))
    .secret(Secret::file("pip-netrc", "/root/.netrc").optional())
    .custom_name("[api wheels 1/1] pip wheel -r requirements.txt")
    .progress_group("api-wheels", "api: wheels", false)
    .source_location(spec.location([Range::lines(3, 3)]))
    .build()
    .unwrap();
    let user = FileOp::new(slim)
        .mkdir(
            Mkdir::new("/app", 0o755)
                .make_parents(true)
                .owner(Owner::ids(10001, 10001)),
        )
        .custom_name("[api runtime 1/3] mkdir /app")
        .build()
        .unwrap();
    let install = Exec::new([
        "pip",
        "install",
        "--no-index",
        "--find-links",
        "/wheels",
        "-r",
        "/src/requirements.txt",
    ])
    .root(user)
    .network(NetMode::None)
    .mount(Mount::readonly(wheels.mount("/wheels").unwrap(), "/wheels"))
    .mount(
        Mount::readonly(ctx.clone(), "/src/requirements.txt").selector("backend/requirements.txt"),
    )
    .custom_name("[api runtime 2/3] pip install --no-index")
    .build()
    .unwrap();
    FileOp::new(install.root())
        .copy(
            FileCopy::new(ctx, "backend/", "/app/")
                .dir_contents_only(true)
                .owner(Owner::ids(10001, 10001))
                .exclude_patterns(["requirements.txt"]),
        )
        .custom_name("[api runtime 3/3] copy app")
        .build()
        .unwrap()
}

/// The layercake static-site shape: npm ci on the manifests only, build, serve with nginx.
fn npm_graph() -> Output {
    let ctx = Local::new("context").shared_key_hint("context").build();
    let node = Image::new("node:18")
        .platform(amd64())
        .pinned(NODE_DIGEST)
        .build();
    let manifests = FileOp::new(node.clone())
        .copy(FileCopy::new(ctx.clone(), "web/package.json", "/app/").create_dest_path(true))
        .copy(FileCopy::new(ctx.clone(), "web/package-lock.json", "/app/").create_dest_path(true))
        .custom_name("[web deps 1/2] copy package manifests")
        .build()
        .unwrap();
    let deps = Exec::new(["npm", "ci", "--legacy-peer-deps"])
        .root(manifests)
        .cwd("/app")
        .mount(Mount::cache("/root/.npm", "layercake-npm").sharing(CacheSharing::Shared))
        .custom_name("[web deps 2/2] npm ci")
        .build()
        .unwrap();
    let sources = FileOp::new(deps.root())
        .copy(
            FileCopy::new(ctx, "web/", "/app/")
                .dir_contents_only(true)
                .exclude_patterns(["node_modules", "dist"]),
        )
        .custom_name("[web build 1/2] copy sources")
        .build()
        .unwrap();
    let built = Exec::new(["npm", "run", "build"])
        .root(sources)
        .cwd("/app")
        .env("NODE_ENV", "production")
        .custom_name("[web build 2/2] npm run build")
        .build()
        .unwrap();
    let nginx = Image::new("nginx:1.27-alpine")
        .platform(amd64())
        .pinned(NGINX_DIGEST)
        .build();
    FileOp::new(nginx)
        .rm(Rm::new("/usr/share/nginx/html/*")
            .allow_wildcard(true)
            .allow_not_found(true))
        .copy(
            FileCopy::new(built.root(), "/app/dist/app", "/usr/share/nginx/html")
                .dir_contents_only(true)
                .owner(Owner::parse("nginx:nginx")),
        )
        .mkfile(Mkfile::new(
            "/etc/nginx/conf.d/default.conf",
            0o644,
            b"server { listen 8080; location / { try_files $uri /index.html; } }\n".to_vec(),
        ))
        .custom_name("[web serve 1/1] nginx site")
        .build()
        .unwrap()
}

/// Merge and diff: the files an install added, layered onto a different base.
fn merge_diff_graph() -> Output {
    let base = Image::new("debian:bookworm-slim").platform(amd64()).build();
    let installed = Exec::new(["sh", "-c", "apt-get update && apt-get install -y libpq5"])
        .root(base.clone())
        .custom_name("apt-get install libpq5")
        .build()
        .unwrap();
    let added = Diff::new(base, installed.root())
        .custom_name("diff")
        .build();
    let runtime = Image::new("gcr.io/distroless/base-debian12")
        .platform(amd64())
        .build();
    Merge::new([runtime, added])
        .custom_name("merge")
        .export_cache(true)
        .build()
}

/// Remote sources feeding one file op.
fn sources_graph() -> Output {
    let repo = Git::new("https://github.com/acme/tools.git")
        .reference("v1.2.3")
        .subdir("scripts")
        .keep_git_dir()
        .build();
    let tarball = Http::new("https://example.com/tool-1.0.tar.gz")
        .checksum("sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd")
        .filename("tool.tar.gz")
        .perm(0o644)
        .build();
    let local = Local::new("dockerfile")
        .include_patterns(["layercake.yaml", ".dockerignore"])
        .unique_id("layercake-spec")
        .build();
    FileOp::new(Output::scratch())
        .copy(FileCopy::new(repo, "/", "/opt/tools/").dir_contents_only(true))
        .copy(FileCopy::new(tarball, "tool.tar.gz", "/opt/"))
        .copy(FileCopy::new(
            local,
            "layercake.yaml",
            "/etc/layercake.yaml",
        ))
        .ignore_cache()
        .build()
        .unwrap()
}

#[test]
fn python_wheels_dump() {
    insta::assert_snapshot!(Definition::new(&python_wheels_graph()).to_json_string());
}

#[test]
fn npm_dump() {
    insta::assert_snapshot!(Definition::new(&npm_graph()).to_json_string());
}

#[test]
fn merge_diff_dump() {
    insta::assert_snapshot!(Definition::new(&merge_diff_graph()).to_json_string());
}

#[test]
fn sources_dump() {
    insta::assert_snapshot!(Definition::new(&sources_graph()).to_json_string());
}
