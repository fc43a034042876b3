//! The offline commands: `plan`, `llb`, `targets`, `check`. They read the spec and the context
//! from disk; everything else is the same pipeline the frontend runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use buildkit_llb::Definition;
use layercake_plan::{
    Base, FileScope, FileSource, LowerInputs, Mount, Plan, PlanOptions, Platform, RunsOn, Severity,
    StageOutput, Step, gather, lint, lower, plan,
};

use crate::cli::{BuildArgs, CheckArgs, Command, LlbArgs, SpecArg};
use crate::load::{LoadedSpec, choose_target, parse_build_args};
use crate::tools;
use crate::tools::spec_file::{open_context, read_plan_files, read_spec};

/// A failure of an offline command: the message for stderr.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

pub fn main(command: Command) -> ExitCode {
    let result = match command {
        Command::Plan(args) => plan_command(&args),
        Command::Llb(args) => llb_command(&args),
        Command::Targets(args) => targets_command(&args),
        Command::Check(args) => check_command(&args),
        Command::Bake(args) => tools::bake_command(&args).map_err(Failure::from),
        Command::Ci(args) => tools::ci_command(&args).map_err(Failure::from),
        Command::Schema => tools::schema_command().map_err(Failure::from),
        Command::Init(args) => tools::init_command(&args).map_err(Failure::from),
        Command::Dockerfile(args) => tools::dockerfile_command(&args).map_err(Failure::from),
        Command::Frontend | Command::Probe(_) => Ok(ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            // Whatever a message quotes is shown escaped: no terminal sequences, no hidden text.
            eprintln!("{}", layercake_spec::shown_lines(message.trim_end()));
            ExitCode::from(1)
        }
    }
}

fn parse_platform(text: &str) -> Result<Platform, Failure> {
    // The plan's platforms are `os/arch[/variant]`: no OS version or features reach the LLB.
    Platform::parse(text)
        .map(Platform::without_os_options)
        .map_err(|e| Failure(format!("--platform `{text}`: {e}")))
}

fn build_plan(args: &BuildArgs) -> Result<(LoadedSpec, Plan, Vec<String>), Failure> {
    let build_args = parse_build_args(&args.build_args)?;
    let loaded = read_spec(&args.spec, &build_args)?;
    let target = choose_target(&loaded.spec, args.target.as_deref())?;
    let context = open_context(&args.spec, args.context.as_ref())?;
    let files = read_plan_files(&loaded, &target, &context)?;
    let platform = parse_platform(&args.platform)?;
    let plan = plan(
        &loaded.services,
        &target,
        &files,
        &PlanOptions::new(platform),
    )?;
    Ok((loaded, plan, context.excludes()))
}

fn plan_command(args: &BuildArgs) -> Result<ExitCode, Failure> {
    let (_, plan, _) = build_plan(args)?;
    let text = if args.json {
        serde_json::to_string_pretty(&plan)? + "\n"
    } else {
        render_plan(&plan)
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn llb_command(args: &LlbArgs) -> Result<ExitCode, Failure> {
    let (_, plan, context_excludes) = build_plan(&args.build)?;
    let inputs = LowerInputs {
        context_name: "context".into(),
        // As the frontend sends them: `.dockerignore` in the order written.
        context_excludes,
        frontend_image: Some(args.frontend_image.clone()),
        // As the frontend sees an image built by its recipes (it checks; this cannot).
        frontend_is_probe_layer: true,
        ..LowerInputs::default()
    };
    let lowered = lower(&plan, &inputs)?;
    let definition = Definition::new(&lowered.output);
    let mut stdout = std::io::stdout().lock();
    if args.build.json {
        stdout.write_all(definition.to_json_string().as_bytes())?;
        stdout.write_all(b"\n")?;
    } else {
        stdout.write_all(&definition.encode_to_vec())?;
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn targets_command(args: &SpecArg) -> Result<ExitCode, Failure> {
    let loaded = read_spec(&args.spec, &BTreeMap::new())?;
    let default = loaded.spec.default_service().map(|s| s.name.value.clone());
    let mut out = String::new();
    for service in &loaded.spec.services {
        let marker = if default.as_deref() == Some(service.name.value.as_str()) {
            " (default)"
        } else {
            ""
        };
        let description = service
            .description
            .as_ref()
            .map(|d| format!("  {}", layercake_spec::shown(&d.value)))
            .unwrap_or_default();
        let _ = writeln!(out, "{}{marker}{description}", service.name.value);
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn check_command(args: &CheckArgs) -> Result<ExitCode, Failure> {
    let loaded = read_spec(&args.spec, &BTreeMap::new())?;
    let context = open_context(&args.spec, args.context.as_ref())?;
    // Files that do not exist stay out of the map: the checks report them. One the context
    // cannot hold (excluded, a device, too large, a link out of it) is an error.
    let files = gather(&loaded.services, FileScope::Checks, |wanted, optional| {
        context.read_existing(wanted, optional)
    })?
    .files;
    let findings = lint(&loaded.services, &files);
    let mut out = String::new();
    for finding in &findings {
        let place = match (&finding.file, finding.line) {
            (Some(file), Some(line)) => format!(" ({file}:{line})"),
            (Some(file), None) => format!(" ({file})"),
            _ => String::new(),
        };
        // Findings quote file contents: shown escaped.
        let _ = writeln!(
            out,
            "{:?} {} [{}]{}: {}",
            finding.severity,
            finding.rule,
            finding.service,
            layercake_spec::shown(&place),
            layercake_spec::shown(&finding.message)
        );
    }
    if findings.is_empty() {
        let _ = writeln!(out, "{}: no problems found", args.spec.display());
    }
    std::io::stdout().write_all(out.as_bytes())?;
    // Errors fail the check; warnings only with --strict.
    let failed = findings
        .iter()
        .any(|f| args.strict || f.severity == Severity::Error);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe_source(source: &FileSource) -> String {
    match source {
        FileSource::Context { path } if path.is_empty() => "context".into(),
        FileSource::Context { path } => format!("context:{path}"),
        FileSource::Stage { stage, path } => format!("{stage}:{path}"),
        FileSource::Frontend { path } => format!("frontend:{path}"),
    }
}

/// The plan as a person reads it.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "service {} for {}", plan.service, plan.platform);
    let _ = writeln!(out, "context: {}", plan.context.follow_paths.join(", "));
    for stage in &plan.stages {
        let base = match &stage.base {
            Base::Scratch => "scratch".to_owned(),
            Base::Image(reference) => reference.clone(),
            Base::Stage(id) => id.to_string(),
            Base::Merge(ids) => format!("merge of {} stages", ids.len()),
            Base::Frontend => "the frontend image".to_owned(),
        };
        let output = match &stage.output {
            StageOutput::Root => String::new(),
            StageOutput::Mount(path) => format!(", result: {path}"),
            StageOutput::Diff => ", result: its changes as a layer".to_owned(),
        };
        let runs_on = match stage.runs_on {
            RunsOn::Target => "",
            RunsOn::Build => ", the build platform",
        };
        let _ = writeln!(
            out,
            "\nstage {} (from {base} on {}{runs_on}{output})\n  {}",
            stage.id, stage.platform, stage.purpose
        );
        for step in &stage.steps {
            let _ = writeln!(out, "  {}", step.name());
            match step {
                Step::Run(run) => {
                    for mount in &run.mounts {
                        let text = match mount {
                            Mount::ReadOnly { target, source } => {
                                format!("{target} <- {} (read-only)", describe_source(source))
                            }
                            Mount::Output { target, from } => format!(
                                "{target} <- {} (writable)",
                                from.as_ref().map_or("scratch".into(), ToString::to_string)
                            ),
                            Mount::Cache { target, id, .. } => format!("{target} cache {id}"),
                            Mount::SecretFile { target, id, .. } => {
                                format!("{target} secret {id}")
                            }
                            Mount::SecretEnv { name, id, .. } => format!("${name} secret {id}"),
                            Mount::Ssh { .. } => "ssh agent".into(),
                            Mount::Tmpfs { target } => format!("{target} tmpfs"),
                        };
                        let _ = writeln!(out, "      mount {text}");
                    }
                }
                Step::Copy(copy) => {
                    let _ = writeln!(
                        out,
                        "      {} -> {}{}",
                        describe_source(&copy.from),
                        copy.dest,
                        if copy.include.is_empty() {
                            String::new()
                        } else {
                            format!(" (only {})", copy.include.join(", "))
                        }
                    );
                }
                Step::WriteFile(write) => {
                    let _ = writeln!(out, "      {} ({} bytes)", write.path, write.contents.len());
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\nimage config:\n{}",
        serde_json::to_string_pretty(&plan.image).unwrap_or_default()
    );
    out
}
