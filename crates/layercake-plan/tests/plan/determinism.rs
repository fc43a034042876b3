//! The same spec and context give the same LLB bytes: every run, and whatever order the spec
//! writes its maps in.

// Test helpers outside #[test] fns may fail loudly too.

use crate::common;

use layercake_plan::{PlanOptions, Platform};

/// The LLB bytes and the image configuration (where service env and labels end up).
fn llb_bytes(
    file_name: &str,
    text: &str,
    project: &common::Project,
    target: &str,
) -> (Vec<u8>, String) {
    let plan = common::plan_text(
        file_name,
        text,
        &project.context,
        target,
        &PlanOptions::new(Platform::linux_amd64()),
    );
    let lowered = layercake_plan::lower(&plan, &common::cli_inputs())
        .unwrap_or_else(|e| panic!("lower: {e}"));
    let image = serde_json::to_string(&lowered.image).unwrap_or_default();
    (common::definition(&plan).encode_to_vec(), image)
}

#[test]
fn every_testdata_target_lowers_to_the_same_bytes_100_times() {
    for project in common::projects() {
        for target in project.targets() {
            let first = common::definition(&project.plan_amd64(&target)).encode_to_vec();
            assert!(!first.is_empty());
            for run in 1..100 {
                let again = common::definition(&project.plan_amd64(&target)).encode_to_vec();
                assert!(
                    again == first,
                    "{} {target}: run {run} differs",
                    project.name
                );
            }
        }
    }
}

/// Reverses the order of the entries of the block mapping under the line `header` (entries
/// are the lines indented one level deeper).
fn reverse_block(text: &str, header: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == header)
        .unwrap_or_else(|| panic!("no `{header}`"));
    let indent = header.len() - header.trim_start().len() + 2;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.len() - l.trim_start().len() < indent || l.trim().is_empty())
        .map_or(lines.len(), |n| start + 1 + n);
    let mut block: Vec<&str> = lines[start + 1..end].to_vec();
    assert!(block.len() >= 2, "`{header}` has {} entries", block.len());
    block.reverse();
    let mut out: Vec<&str> = lines[..=start].to_vec();
    out.extend(block);
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

#[test]
fn map_key_order_in_the_spec_does_not_change_the_llb() {
    let project = common::project("realistic");
    let text = project.text();
    let mut shuffled = text.clone();
    for header in ["    env:", "    labels:", "args:"] {
        // Every block with this header (both services have labels).
        let mut from = 0;
        while let Some(at) = shuffled[from..].find(&format!("\n{header}\n")) {
            let (head, tail) = shuffled.split_at(from + at + 1);
            let tail = reverse_block(tail, header);
            from = head.len() + header.len();
            shuffled = format!("{head}{tail}");
        }
    }
    assert_ne!(shuffled, text, "nothing was reordered");
    // The reordered spec really has the keys in another order.
    let api_env = |t: &str| {
        t.find("APP_ENV: production")
            .zip(t.find("WEB_CONCURRENCY: 2"))
    };
    let (a, b) = api_env(&text).unwrap_or_default();
    let (c, d) = api_env(&shuffled).unwrap_or_default();
    assert!(a < b && c > d, "env was not reversed");
    for target in ["api", "web"] {
        assert_eq!(
            llb_bytes("layercake.yaml", &text, &project, target),
            llb_bytes("layercake.yaml", &shuffled, &project, target),
            "{target}"
        );
    }

    let full = common::project("ok-full");
    let text = full.text();
    let shuffled = reverse_block(&text, "    env:");
    assert_ne!(shuffled, text);
    assert_eq!(
        llb_bytes("full.yaml", &text, &full, "api"),
        llb_bytes("full.yaml", &shuffled, &full, "api")
    );
    // Flow mappings too: `pip_env: { A: 1, B: 2 }` is one entry here, so swap inline maps.
    let inline = text.replace(
        "env: { NGINX_ENTRYPOINT_QUIET_LOGS: \"1\" }",
        "env: { NGINX_ENTRYPOINT_QUIET_LOGS: \"1\", A_FIRST: x }",
    );
    let inline_swapped = text.replace(
        "env: { NGINX_ENTRYPOINT_QUIET_LOGS: \"1\" }",
        "env: { A_FIRST: x, NGINX_ENTRYPOINT_QUIET_LOGS: \"1\" }",
    );
    assert_ne!(inline, text);
    assert_eq!(
        llb_bytes("full.yaml", &inline, &full, "web"),
        llb_bytes("full.yaml", &inline_swapped, &full, "web")
    );
}

#[test]
fn a_changed_value_does_change_the_llb() {
    // Guards the test above: the comparison sees env values at all.
    let project = common::project("realistic");
    let text = project.text();
    let changed = text.replace("WEB_CONCURRENCY: 2", "WEB_CONCURRENCY: 3");
    assert_ne!(changed, text);
    let plan_a = common::plan_text(
        "layercake.yaml",
        &text,
        &project.context,
        "api",
        &PlanOptions::new(Platform::linux_amd64()),
    );
    let plan_b = common::plan_text(
        "layercake.yaml",
        &changed,
        &project.context,
        "api",
        &PlanOptions::new(Platform::linux_amd64()),
    );
    // Service env reaches the image config, not the LLB (no step of realistic/api uses it).
    assert_ne!(plan_a.image, plan_b.image);
    let inline = common::project("ok-full");
    let text = inline.text();
    let changed = text.replace("VITE_API_URL: \"${API_URL}\"", "VITE_API_URL: /other");
    assert_ne!(changed, text);
    assert_ne!(
        llb_bytes("full.yaml", &text, &inline, "web"),
        llb_bytes("full.yaml", &changed, &inline, "web")
    );
}
