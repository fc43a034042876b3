//! Values reaching a shell arrive as values: build args in shell-form commands become
//! positional parameters, never script text.

use std::collections::BTreeMap;

use layercake_spec::{Command, parse};

const SPEC: &str = r#"
args:
  WORKERS: "4"
  GREETING:
services:
  api:
    python:
      version: "3.12"
      build_steps:
        - echo "${GREETING:-hi}" > /tmp/greeting && echo $$HOME
        - [echo, "${WORKERS}"]
    command: exec gunicorn --workers ${WORKERS} app:app
    entrypoint: 'echo plain $HOME'
"#;

fn resolved(args: &[(&str, &str)]) -> layercake_spec::Spec {
    let spec = parse("layercake.yaml", SPEC).unwrap();
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    spec.resolve_args(&args).unwrap()
}

#[test]
fn a_build_arg_in_a_shell_form_is_a_positional_parameter() {
    let spec = resolved(&[("WORKERS", "4; rm -rf / #"), ("GREETING", "$(id) `id`")]);
    let api = spec.service("api").unwrap();
    assert_eq!(
        api.command.as_ref().unwrap().argv(),
        [
            "/bin/sh",
            "-c",
            "exec gunicorn --workers ${1} app:app",
            "sh",
            "4; rm -rf / #"
        ]
    );
    let steps = &api.python().unwrap().build_steps;
    assert_eq!(
        steps[0].argv(),
        [
            "/bin/sh",
            "-c",
            "echo \"${1}\" > /tmp/greeting && echo $HOME",
            "sh",
            "$(id) `id`"
        ]
    );
    // Exec form: the value is one argument already.
    assert_eq!(steps[1].argv(), ["echo", "4; rm -rf / #"]);
    // A shell form without references is left as written.
    assert!(matches!(api.entrypoint, Some(Command::Shell(_))));
    assert_eq!(
        api.entrypoint.as_ref().unwrap().argv(),
        ["/bin/sh", "-c", "echo plain $HOME"]
    );
}

#[test]
fn defaults_still_apply_to_positional_values() {
    let spec = resolved(&[]);
    let api = spec.service("api").unwrap();
    let steps = &api.python().unwrap().build_steps;
    assert_eq!(steps[0].argv()[4], "hi");
    assert_eq!(api.command.as_ref().unwrap().argv()[4], "4");
}

/// The real shell, given the argv: the hostile value is printed, not run.
#[test]
fn the_shell_receives_the_value_as_data() {
    let spec = resolved(&[("GREETING", "x\"; echo INJECTED; echo \"")]);
    let api = spec.service("api").unwrap();
    let mut argv = api.python().unwrap().build_steps[0].argv();
    argv[2] = argv[2].replace("> /tmp/greeting && echo $HOME", "");
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim_end(), "x\"; echo INJECTED; echo \"");
}

#[test]
fn a_nul_in_a_build_arg_value_is_refused_at_the_value() {
    let spec = parse("layercake.yaml", SPEC).unwrap();
    let args = BTreeMap::from([("WORKERS".to_owned(), "4\0".to_owned())]);
    let errors = spec.resolve_args(&args).unwrap_err().to_string();
    assert!(errors.contains("NUL"), "{errors}");
    assert!(errors.contains("layercake.yaml:12:"), "{errors}");
    assert_eq!(errors.matches("NUL").count(), 2, "once per value: {errors}");
}

#[test]
fn an_image_arg_with_a_line_break_is_refused() {
    let text = "args: { IMG: python }\nservices:\n  api:\n    python: { version: \"3.12\", image: \"${IMG}:3.12\" }\n";
    let spec = parse("layercake.yaml", text).unwrap();
    let args = BTreeMap::from([("IMG".to_owned(), "python\nRUN id".to_owned())]);
    let errors = spec.resolve_args(&args).unwrap_err().to_string();
    assert!(errors.contains("not an image reference"), "{errors}");
    assert!(errors.contains("python\\nRUN id"), "{errors}");
    assert!(errors.contains("layercake.yaml:4:"), "{errors}");
}

/// An exec form that runs a shell script is shell code too: `[sh, -c, "…${X}"]` gets the value
/// as a positional parameter, and one whose script has its own arguments is refused.
#[test]
fn a_build_arg_in_an_exec_form_shell_script_is_a_positional_parameter() {
    let spec = parse(
        "layercake.yaml",
        "args:\n  NAME: x\nservices:\n  api:\n    python:\n      version: \"3.12\"\n      \
         build_steps:\n        - [/bin/bash, -c, \"echo hello ${NAME}\"]\n        - [sh, -c, \
         \"echo $$1 ${NAME}\", sh, one]\n",
    )
    .unwrap();
    let args = BTreeMap::from([("NAME".to_owned(), "$(touch /tmp/pwned)".to_owned())]);
    let errors = spec.resolve_args(&args).err().map(|e| e.to_string());
    let Some(errors) = errors else {
        unreachable!("the script with its own arguments was accepted")
    };
    assert!(errors.contains("layercake.yaml:9:"), "{errors}");
    assert!(errors.contains("own arguments"), "{errors}");

    let spec = parse(
        "layercake.yaml",
        "args:\n  NAME: x\nservices:\n  api:\n    python:\n      version: \"3.12\"\n      \
         build_steps:\n        - [/bin/bash, -c, \"echo hello ${NAME}\"]\n",
    )
    .unwrap();
    let resolved = spec.resolve_args(&args).unwrap();
    let step = &resolved
        .service("api")
        .unwrap()
        .python()
        .unwrap()
        .build_steps[0];
    assert_eq!(
        step.argv(),
        [
            "/bin/bash",
            "-c",
            "echo hello ${1}",
            "sh",
            "$(touch /tmp/pwned)"
        ]
    );
}
