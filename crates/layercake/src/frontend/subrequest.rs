//! `docker buildx build --call …`: targets, outline, check (lint) and describe.

use std::collections::BTreeMap;

use base64::Engine as _;
use buildkit_frontend::{BuildError, Client, FrontendResult, SourceRange, subrequests};
use layercake_plan::{Finding, Mount, PlanOptions, Severity, Step, lint};
use layercake_spec::Spec;
use serde_json::json;

use super::context::{ContextReader, SpecFile};
use super::{described, spec_error};
use crate::load::{choose_target, load};

/// The lint subrequest as `frontend.subrequests.describe` lists it.
pub fn lint_description() -> subrequests::RequestDescription {
    let mut description = subrequests::RequestDescription::targets();
    description.name = subrequests::LINT.into();
    description.description = "Check the spec and the dependency files it reads".into();
    description.metadata.push(subrequests::Named {
        name: "result.statuscode".into(),
        description: String::new(),
    });
    description
}

pub async fn answer(
    client: &Client,
    reader: &ContextReader<'_>,
    spec_file: &SpecFile,
    request: &str,
    build_args: &BTreeMap<String, String>,
) -> Result<FrontendResult, BuildError> {
    match request {
        subrequests::DESCRIBE => Ok(subrequests::describe_result(&described())),
        subrequests::TARGETS => {
            let spec = layercake_spec::parse_bytes(&spec_file.name, &spec_file.bytes)
                .map_err(|errors| spec_error(spec_file, &errors))?;
            Ok(targets(&spec, spec_file).to_result())
        }
        subrequests::OUTLINE => outline(client, reader, spec_file, build_args).await,
        subrequests::LINT => check(reader, spec_file, build_args).await,
        other => Err(BuildError::unsupported_subrequest(other)),
    }
}

fn range(line: u32) -> SourceRange {
    SourceRange::line(i32::try_from(line).unwrap_or(i32::MAX))
}

fn targets(spec: &Spec, spec_file: &SpecFile) -> subrequests::TargetList {
    let default = spec.default_service().map(|s| s.name.value.clone());
    subrequests::TargetList {
        targets: spec
            .services
            .iter()
            .map(|service| subrequests::Target {
                name: service.name.value.clone(),
                default: default.as_deref() == Some(service.name.value.as_str()),
                description: service
                    .description
                    .as_ref()
                    .map(|d| d.value.clone())
                    .unwrap_or_default(),
                base: match (service.python(), service.node()) {
                    // Without a spec version, the image is the project's Python's.
                    (Some(py), _) => py.image.as_ref().map_or_else(
                        || "python:<the project's version>-slim".to_owned(),
                        |image| image.value.clone(),
                    ),
                    (_, Some(node)) => node.image.value.clone(),
                    _ => String::new(),
                },
                platform: String::new(),
                location: Some(subrequests::Location::new(
                    0,
                    &[range(service.name.location.line)],
                )),
            })
            .collect(),
        sources: vec![spec_file.text.as_bytes().to_vec()],
    }
}

async fn outline(
    client: &Client,
    reader: &ContextReader<'_>,
    spec_file: &SpecFile,
    build_args: &BTreeMap<String, String>,
) -> Result<FrontendResult, BuildError> {
    let loaded = load(&spec_file.name, &spec_file.bytes, build_args)
        .map_err(|errors| spec_error(spec_file, &errors))?;
    let target = choose_target(&loaded.spec, client.opts().target())
        .map_err(|e| BuildError::new(e.to_string()))?;
    let Some(service) = loaded.spec.service(&target) else {
        return Err(BuildError::new(format!("unknown target `{target}`")));
    };
    let used = loaded.spec.referenced_args();
    let args = loaded
        .spec
        .args
        .iter()
        .map(|(name, default)| subrequests::OutlineArg {
            name: name.clone(),
            description: match used.get(name) {
                Some(places) => format!("used on line(s) {}", join_lines(places)),
                None => "declared, not used".into(),
            },
            value: build_args
                .get(name)
                .cloned()
                .unwrap_or_else(|| default.value.clone()),
            location: Some(subrequests::Location::new(
                0,
                &[range(default.location.line)],
            )),
        })
        .collect();
    let secrets = service
        .secrets
        .iter()
        .map(|secret| subrequests::OutlineRequirement {
            name: secret.id.value.clone(),
            required: secret.required,
            location: Some(subrequests::Location::new(
                0,
                &[range(secret.id.location.line)],
            )),
        })
        .collect();
    let ssh = if service.ssh {
        vec![subrequests::OutlineRequirement {
            name: "default".into(),
            required: true,
            location: Some(subrequests::Location::new(
                0,
                &[range(service.name.location.line)],
            )),
        }]
    } else {
        Vec::new()
    };
    // Cache ids come from the plan, which needs the requirement files; without them the
    // outline still lists args and secrets.
    let files = super::read_plan_files(reader, spec_file, &loaded, &target)
        .await
        .unwrap_or_default();
    let platform = client.env().build_platform().without_os_options();
    let mut cache = Vec::new();
    if let Ok(plan) = layercake_plan::plan(
        &loaded.services,
        &target,
        &files,
        &PlanOptions::new(platform),
    ) {
        for stage in &plan.stages {
            for step in &stage.steps {
                if let Step::Run(run) = step {
                    for mount in &run.mounts {
                        if let Mount::Cache { id, .. } = mount
                            && !cache
                                .iter()
                                .any(|c: &subrequests::OutlineCache| &c.id == id)
                        {
                            cache.push(subrequests::OutlineCache {
                                id: id.clone(),
                                location: None,
                            });
                        }
                    }
                }
            }
        }
    }
    let mut description: Vec<String> = service
        .description
        .as_ref()
        .map(|d| d.value.clone())
        .into_iter()
        .collect();
    description.extend(
        layercake_plan::describe_requirements(&loaded.services, &target, &files)
            .ok()
            .flatten(),
    );
    let outline = subrequests::Outline {
        name: target.clone(),
        description: description.join("\n"),
        args,
        secrets,
        ssh,
        cache,
        sources: vec![spec_file.text.as_bytes().to_vec()],
    };
    Ok(outline.to_result())
}

fn join_lines(places: &[layercake_spec::Location]) -> String {
    places
        .iter()
        .map(|l| l.line.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_info(name: &str, data: &[u8]) -> serde_json::Value {
    json!({
        "filename": name,
        "data": base64::engine::general_purpose::STANDARD.encode(data),
        "language": if name.ends_with(".json") { "json" } else if name.ends_with(".txt") { "text" } else { "yaml" },
    })
}

fn location(source_index: usize, line: u32) -> serde_json::Value {
    json!({
        "sourceIndex": source_index,
        "ranges": [{"start": {"line": line}, "end": {"line": line}}],
    })
}

/// `--call check`: the spec's own errors, or the lint findings, in BuildKit's lint format.
async fn check(
    reader: &ContextReader<'_>,
    spec_file: &SpecFile,
    build_args: &BTreeMap<String, String>,
) -> Result<FrontendResult, BuildError> {
    let mut sources = vec![source_info(&spec_file.name, spec_file.text.as_bytes())];
    let loaded = match load(&spec_file.name, &spec_file.bytes, build_args) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let first = errors.first();
            let text = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            let result = json!({
                "warnings": [],
                "sources": sources,
                "buildError": {
                    "message": first.map(|e| e.message()).unwrap_or_default(),
                    "location": location(0, first.and_then(|e| e.line()).unwrap_or(1)),
                },
            });
            return Ok(lint_result(&result, text, 1));
        }
    };
    // Missing files stay out of `known`: the checks report them.
    let known = layercake_plan::gather_async(
        &loaded.services,
        layercake_plan::FileScope::Checks,
        |wanted, optional| async move { reader.read_context_files(&wanted, &optional).await },
    )
    .await
    .map_err(|e| match e {
        layercake_plan::GatherError::Plan(e) => BuildError::new(e.to_string()),
        layercake_plan::GatherError::Read(e) => e,
    })?
    .files;
    let findings = lint(&loaded.services, &known);
    let mut warnings = Vec::new();
    let mut text = String::new();
    for finding in &findings {
        let location = finding_location(finding, &loaded.spec, &known, &mut sources);
        warnings.push(json!({
            "ruleName": finding.rule,
            "description": match finding.severity {
                Severity::Error => "will fail the build",
                Severity::Warning => "slower or less safe than it could be",
            },
            "detail": format!("[{}] {}", finding.service, finding.message),
            "location": location,
        }));
        text.push_str(&format!(
            "\nWARNING: {} ({})\n[{}] {}\n",
            finding.rule,
            match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            finding.service,
            finding.message
        ));
    }
    if findings.is_empty() {
        text.push_str("Check complete, no warnings found.\n");
    }
    let status = i32::from(!findings.is_empty());
    let result = json!({"warnings": warnings, "sources": sources});
    Ok(lint_result(&result, text, status))
}

fn finding_location(
    finding: &Finding,
    spec: &Spec,
    files: &layercake_plan::ContextFiles,
    sources: &mut Vec<serde_json::Value>,
) -> serde_json::Value {
    if let (Some(file), Some(line)) = (&finding.file, finding.line)
        && let Some(contents) = files.get(file)
    {
        sources.push(source_info(file, contents.as_bytes()));
        return location(sources.len() - 1, u32::try_from(line).unwrap_or(u32::MAX));
    }
    let line = spec
        .service(&finding.service)
        .map_or(1, |service| service.name.location.line);
    location(0, line)
}

fn lint_result(result: &serde_json::Value, text: String, status: i32) -> FrontendResult {
    let mut out = subrequests::subrequest_result(
        serde_json::to_vec_pretty(result).unwrap_or_default(),
        text.into_bytes(),
        "1.0.0",
    );
    out.add_metadata("result.statuscode", status.to_string().into_bytes());
    out
}
