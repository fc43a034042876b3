//! The same graph, built again and again in fresh builders with every order-insensitive input
//! (env vars, description keys, caps, mounts, source options) inserted in a different order,
//! must give identical bytes and digests. A HashMap anywhere on the way would break this.

// Test helpers outside #[test] fns may unwrap and panic too: a failure is the point.

use buildkit_llb::{
    CacheSharing, Definition, Differ, Exec, FileCopy, FileOp, Image, Local, Merge, Mkdir, Mount,
    Output, Platform, Secret,
};

/// A small deterministic shuffler (xorshift), so no `rand` dependency is needed.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

enum LocalOption {
    Include,
    Exclude,
    Follow,
    Hint,
    Differ,
    Name,
}

fn build_graph(seed: u64) -> (Definition, Vec<String>) {
    let mut rng = Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut trace = Vec::new();

    let mut local = Local::new("context");
    let mut options = vec![
        LocalOption::Include,
        LocalOption::Exclude,
        LocalOption::Follow,
        LocalOption::Hint,
        LocalOption::Differ,
        LocalOption::Name,
    ];
    rng.shuffle(&mut options);
    for option in options {
        local = match option {
            LocalOption::Include => {
                local.include_patterns(["backend/requirements.txt", "web/package*.json"])
            }
            LocalOption::Exclude => local.exclude_patterns(["**/node_modules", "**/.git"]),
            LocalOption::Follow => local.follow_paths(["backend/requirements.txt"]),
            LocalOption::Hint => local.shared_key_hint("context"),
            LocalOption::Differ => local.differ(Differ::Metadata, true),
            LocalOption::Name => local.custom_name("load context"),
        };
    }
    let ctx = local.build();
    let base = Image::new("python:3.11-slim")
        .platform(Platform::new("linux", "amd64"))
        .pinned("sha256:1111111111111111111111111111111111111111111111111111111111111111")
        .build();

    let mut env: Vec<(String, String)> = (0..30)
        .map(|n| (format!("VAR_{n:02}"), format!("value-{n}")))
        .collect();
    rng.shuffle(&mut env);
    trace.push(
        env.iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
            .join(","),
    );

    let mut descriptions: Vec<(String, String)> = (0..20)
        .map(|n| (format!("com.example.key{n}"), format!("{n}")))
        .collect();
    rng.shuffle(&mut descriptions);
    trace.push(
        descriptions
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
            .join(","),
    );

    let mut caps: Vec<String> = (0..10).map(|n| format!("custom.cap.{n}")).collect();
    rng.shuffle(&mut caps);

    let mut mounts = vec![
        Mount::readonly(ctx.clone(), "/src/requirements.txt").selector("backend/requirements.txt"),
        Mount::cache("/root/.cache/pip", "pip-3.11-linux-amd64").sharing(CacheSharing::Locked),
        Mount::tmpfs("/tmp").size(64 << 20),
        Mount::layer(Output::scratch(), "/wheels"),
        Mount::readonly(ctx.clone(), "/constraints.txt").selector("backend/constraints.txt"),
    ];
    rng.shuffle(&mut mounts);
    trace.push(
        mounts
            .iter()
            .map(|m| m.dest().to_owned())
            .collect::<Vec<_>>()
            .join(","),
    );

    let mut exec = Exec::new([
        "pip",
        "wheel",
        "--wheel-dir",
        "/wheels",
        "-r",
        "/src/requirements.txt",
    ])
    .root(base.clone())
    .cwd("/src")
    .secret(Secret::file("pip-conf", "/etc/pip.conf").optional())
    .custom_name("[api wheels 1/2] pip wheel");
    for (key, value) in &env {
        exec = exec.env(key.clone(), value.clone());
    }
    for (key, value) in &descriptions {
        exec = exec.description(key.clone(), value.clone());
    }
    for cap in &caps {
        exec = exec.cap(cap.clone());
    }
    for mount in mounts {
        exec = exec.mount(mount);
    }
    let wheels = exec.build().unwrap();

    let mut runtime_env: Vec<(String, String)> = (0..15)
        .map(|n| (format!("RT_{n}"), n.to_string()))
        .collect();
    rng.shuffle(&mut runtime_env);
    let install = Exec::new([
        "pip",
        "install",
        "--no-index",
        "--find-links",
        "/wheels",
        "-r",
        "/src/requirements.txt",
    ])
    .root(base.clone())
    .envs(runtime_env)
    .mount(Mount::readonly(wheels.mount("/wheels").unwrap(), "/wheels"))
    .mount(
        Mount::readonly(ctx.clone(), "/src/requirements.txt").selector("backend/requirements.txt"),
    )
    .build()
    .unwrap();
    let app = FileOp::new(install.root())
        .mkdir(Mkdir::new("/app", 0o755).make_parents(true))
        .copy(FileCopy::new(ctx.clone(), "backend/", "/app/").dir_contents_only(true))
        .custom_name("copy app")
        .build()
        .unwrap();
    let layers = Merge::new([app, wheels.root()]).build();
    (Definition::new(&layers), trace)
}

#[test]
fn same_graph_same_bytes_across_100_builds() {
    let (first, first_trace) = build_graph(1);
    let first_bytes = first.encode_to_vec();
    let first_json = first.to_json_string();
    let mut orders_seen = std::collections::BTreeSet::new();
    for seed in 1..=100 {
        let (definition, trace) = build_graph(seed);
        orders_seen.insert(trace.clone());
        assert_eq!(
            definition
                .ops()
                .iter()
                .map(|(d, _)| d.clone())
                .collect::<Vec<_>>(),
            first
                .ops()
                .iter()
                .map(|(d, _)| d.clone())
                .collect::<Vec<_>>(),
            "seed {seed} changed a digest"
        );
        // Compared as a bool: a failure should name the seed, not print kilobytes of bytes.
        assert!(
            definition.encode_to_vec() == first_bytes,
            "seed {seed} changed the bytes"
        );
        assert_eq!(
            definition.to_json_string(),
            first_json,
            "seed {seed} changed the dump"
        );
        assert_eq!(definition.required_caps(), first.required_caps());
    }
    // The inputs really were inserted in many different orders.
    assert!(
        orders_seen.len() > 90,
        "only {} distinct orders",
        orders_seen.len()
    );
    assert!(orders_seen.contains(&first_trace));
}
