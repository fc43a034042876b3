//! The readable JSON view of a definition. serde_json's map is a BTreeMap here (no
//! `preserve_order`), so keys are always sorted and the dump is deterministic.

use buildkit_proto::pb;
use serde_json::{Map, Value, json};

use crate::definition::Definition;

pub(crate) fn definition_to_json(definition: &Definition) -> Value {
    let pb = definition.as_pb();
    let ops: Vec<Value> = definition
        .ops()
        .iter()
        .map(|(digest, op)| {
            let mut entry = Map::new();
            entry.insert("digest".into(), json!(digest.as_str()));
            entry.insert("op".into(), op_json(op));
            if let Some(metadata) = pb.metadata.get(digest.as_str()) {
                entry.insert("metadata".into(), metadata_json(metadata));
            }
            if let Some(locations) = pb
                .source
                .as_ref()
                .and_then(|source| source.locations.get(digest.as_str()))
            {
                entry.insert("source_locations".into(), locations_json(locations));
            }
            Value::Object(entry)
        })
        .collect();
    let mut root = Map::new();
    root.insert("ops".into(), Value::Array(ops));
    if let Some(source) = &pb.source
        && !source.infos.is_empty()
    {
        let infos = source
            .infos
            .iter()
            .map(|info| {
                let mut object = Map::new();
                put_str(&mut object, "filename", &info.filename);
                put_str(&mut object, "language", &info.language);
                put_bytes(&mut object, "data", &info.data);
                if let Some(definition) = &info.definition {
                    object.insert("definition_ops".into(), json!(definition.def.len()));
                }
                Value::Object(object)
            })
            .collect();
        root.insert("source_infos".into(), Value::Array(infos));
    }
    Value::Object(root)
}

fn put_str(object: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        object.insert(key.into(), json!(value));
    }
}

fn put_list(object: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        object.insert(key.into(), json!(values));
    }
}

fn put_true(object: &mut Map<String, Value>, key: &str, value: bool) {
    if value {
        object.insert(key.into(), json!(true));
    }
}

/// Text when it is UTF-8, else hex, so binary file content stays readable and deterministic.
fn put_bytes(object: &mut Map<String, Value>, key: &str, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => object.insert(key.into(), json!(text)),
        Err(_) => object.insert(format!("{key}_hex"), json!(hex::encode(bytes))),
    };
}

fn platform_text(platform: &pb::Platform) -> String {
    let mut text = format!("{}/{}", platform.os, platform.architecture);
    if !platform.variant.is_empty() {
        text.push('/');
        text.push_str(&platform.variant);
    }
    text
}

fn op_json(op: &pb::Op) -> Value {
    let mut object = Map::new();
    let inputs: Vec<Value> = op
        .inputs
        .iter()
        .map(|input| json!({"digest": input.digest, "index": input.index}))
        .collect();
    if !inputs.is_empty() {
        object.insert("inputs".into(), Value::Array(inputs));
    }
    if let Some(platform) = &op.platform {
        object.insert("platform".into(), json!(platform_text(platform)));
    }
    if let Some(constraints) = &op.constraints {
        put_list(&mut object, "worker_constraints", &constraints.filter);
    }
    match &op.op {
        Some(pb::op::Op::Exec(exec)) => {
            object.insert("exec".into(), exec_json(exec));
        }
        Some(pb::op::Op::Source(source)) => {
            object.insert(
                "source".into(),
                json!({"identifier": source.identifier, "attrs": source.attrs}),
            );
        }
        Some(pb::op::Op::File(file)) => {
            let actions: Vec<Value> = file.actions.iter().map(file_action_json).collect();
            object.insert("file".into(), json!({ "actions": actions }));
        }
        Some(pb::op::Op::Merge(merge)) => {
            let inputs: Vec<i64> = merge.inputs.iter().map(|input| input.input).collect();
            object.insert("merge".into(), json!({ "inputs": inputs }));
        }
        Some(pb::op::Op::Diff(diff)) => {
            object.insert(
                "diff".into(),
                json!({
                    "lower": diff.lower.as_ref().map(|lower| lower.input),
                    "upper": diff.upper.as_ref().map(|upper| upper.input),
                }),
            );
        }
        Some(pb::op::Op::Build(build)) => {
            object.insert(
                "build".into(),
                json!({"builder": build.builder, "attrs": build.attrs}),
            );
        }
        Some(pb::op::Op::Passthrough(passthrough)) => {
            object.insert(
                "passthrough".into(),
                json!({"id": passthrough.id, "outputs": passthrough.outputs}),
            );
        }
        None => {}
    }
    Value::Object(object)
}

fn exec_json(exec: &pb::ExecOp) -> Value {
    let mut object = Map::new();
    if let Some(meta) = &exec.meta {
        let mut m = Map::new();
        m.insert("args".into(), json!(meta.args));
        put_list(&mut m, "env", &meta.env);
        put_str(&mut m, "cwd", &meta.cwd);
        put_str(&mut m, "user", &meta.user);
        put_str(&mut m, "hostname", &meta.hostname);
        if !meta.extra_hosts.is_empty() {
            let hosts: Vec<String> = meta
                .extra_hosts
                .iter()
                .map(|host| format!("{}={}", host.host, host.ip))
                .collect();
            m.insert("extra_hosts".into(), json!(hosts));
        }
        if !meta.valid_exit_codes.is_empty() {
            m.insert("valid_exit_codes".into(), json!(meta.valid_exit_codes));
        }
        put_true(
            &mut m,
            "remove_mount_stubs_recursive",
            meta.remove_mount_stubs_recursive,
        );
        object.insert("meta".into(), Value::Object(m));
    }
    let mounts: Vec<Value> = exec.mounts.iter().map(mount_json).collect();
    object.insert("mounts".into(), Value::Array(mounts));
    let network = match pb::NetMode::try_from(exec.network) {
        Ok(pb::NetMode::Unset) => "sandbox".to_owned(),
        Ok(pb::NetMode::Host) => "host".to_owned(),
        Ok(pb::NetMode::None) => "none".to_owned(),
        Err(_) => exec.network.to_string(),
    };
    object.insert("network".into(), json!(network));
    let security = match pb::SecurityMode::try_from(exec.security) {
        Ok(pb::SecurityMode::Sandbox) => "sandbox".to_owned(),
        Ok(pb::SecurityMode::Insecure) => "insecure".to_owned(),
        Err(_) => exec.security.to_string(),
    };
    object.insert("security".into(), json!(security));
    if !exec.secretenv.is_empty() {
        let secrets: Vec<Value> = exec
            .secretenv
            .iter()
            .map(
                |secret| json!({"id": secret.id, "name": secret.name, "optional": secret.optional}),
            )
            .collect();
        object.insert("secret_env".into(), Value::Array(secrets));
    }
    Value::Object(object)
}

fn mount_json(mount: &pb::Mount) -> Value {
    let mut object = Map::new();
    object.insert("dest".into(), json!(mount.dest));
    object.insert("input".into(), json!(mount.input));
    object.insert("output".into(), json!(mount.output));
    let kind = match pb::MountType::try_from(mount.mount_type) {
        Ok(pb::MountType::Bind) => "bind".to_owned(),
        Ok(pb::MountType::Secret) => "secret".to_owned(),
        Ok(pb::MountType::Ssh) => "ssh".to_owned(),
        Ok(pb::MountType::Cache) => "cache".to_owned(),
        Ok(pb::MountType::Tmpfs) => "tmpfs".to_owned(),
        Err(_) => mount.mount_type.to_string(),
    };
    object.insert("type".into(), json!(kind));
    put_true(&mut object, "readonly", mount.readonly);
    put_str(&mut object, "selector", &mount.selector);
    match pb::MountContentCache::try_from(mount.content_cache) {
        Ok(pb::MountContentCache::Default) => {}
        Ok(pb::MountContentCache::On) => {
            object.insert("content_cache".into(), json!("on"));
        }
        Ok(pb::MountContentCache::Off) => {
            object.insert("content_cache".into(), json!("off"));
        }
        Err(_) => {
            object.insert("content_cache".into(), json!(mount.content_cache));
        }
    }
    if let Some(cache) = &mount.cache_opt {
        let sharing = match pb::CacheSharingOpt::try_from(cache.sharing) {
            Ok(pb::CacheSharingOpt::Shared) => "shared".to_owned(),
            Ok(pb::CacheSharingOpt::Private) => "private".to_owned(),
            Ok(pb::CacheSharingOpt::Locked) => "locked".to_owned(),
            Err(_) => cache.sharing.to_string(),
        };
        object.insert("cache".into(), json!({"id": cache.id, "sharing": sharing}));
    }
    if let Some(secret) = &mount.secret_opt {
        object.insert(
            "secret".into(),
            json!({"id": secret.id, "uid": secret.uid, "gid": secret.gid,
                   "mode": format!("{:04o}", secret.mode), "optional": secret.optional}),
        );
    }
    if let Some(ssh) = &mount.ssh_opt {
        object.insert(
            "ssh".into(),
            json!({"id": ssh.id, "uid": ssh.uid, "gid": ssh.gid,
                   "mode": format!("{:04o}", ssh.mode), "optional": ssh.optional}),
        );
    }
    if let Some(tmpfs) = &mount.tmpfs_opt {
        object.insert("tmpfs".into(), json!({ "size": tmpfs.size }));
    }
    Value::Object(object)
}

fn user_json(user: &pb::UserOpt) -> Value {
    match &user.user {
        Some(pb::user_opt::User::ById(id)) => json!(id),
        Some(pb::user_opt::User::ByName(named)) => {
            json!({"name": named.name, "input": named.input})
        }
        None => Value::Null,
    }
}

fn owner_json(object: &mut Map<String, Value>, owner: Option<&pb::ChownOpt>) {
    if let Some(owner) = owner {
        let mut o = Map::new();
        if let Some(user) = &owner.user {
            o.insert("user".into(), user_json(user));
        }
        if let Some(group) = &owner.group {
            o.insert("group".into(), user_json(group));
        }
        object.insert("owner".into(), Value::Object(o));
    }
}

fn mode_text(mode: i32) -> Value {
    if mode < 0 {
        json!(mode)
    } else {
        json!(format!("{mode:04o}"))
    }
}

fn file_action_json(action: &pb::FileAction) -> Value {
    let mut object = Map::new();
    object.insert("input".into(), json!(action.input));
    object.insert("secondary_input".into(), json!(action.secondary_input));
    object.insert("output".into(), json!(action.output));
    match &action.action {
        Some(pb::file_action::Action::Copy(copy)) => {
            let mut c = Map::new();
            c.insert("src".into(), json!(copy.src));
            c.insert("dest".into(), json!(copy.dest));
            owner_json(&mut c, copy.owner.as_ref());
            c.insert("mode".into(), mode_text(copy.mode));
            put_str(&mut c, "mode_str", &copy.mode_str);
            put_true(&mut c, "follow_symlink", copy.follow_symlink);
            put_true(&mut c, "dir_copy_contents", copy.dir_copy_contents);
            put_true(
                &mut c,
                "attempt_unpack",
                copy.attempt_unpack_docker_compatibility,
            );
            put_true(&mut c, "create_dest_path", copy.create_dest_path);
            put_true(&mut c, "allow_wildcard", copy.allow_wildcard);
            put_true(&mut c, "allow_empty_wildcard", copy.allow_empty_wildcard);
            put_true(
                &mut c,
                "always_replace_existing_dest_paths",
                copy.always_replace_existing_dest_paths,
            );
            c.insert("timestamp".into(), json!(copy.timestamp));
            put_list(&mut c, "include_patterns", &copy.include_patterns);
            put_list(&mut c, "exclude_patterns", &copy.exclude_patterns);
            put_list(&mut c, "required_paths", &copy.required_paths);
            object.insert("copy".into(), Value::Object(c));
        }
        Some(pb::file_action::Action::Mkdir(mkdir)) => {
            let mut m = Map::new();
            m.insert("path".into(), json!(mkdir.path));
            m.insert("mode".into(), mode_text(mkdir.mode));
            put_true(&mut m, "make_parents", mkdir.make_parents);
            owner_json(&mut m, mkdir.owner.as_ref());
            m.insert("timestamp".into(), json!(mkdir.timestamp));
            object.insert("mkdir".into(), Value::Object(m));
        }
        Some(pb::file_action::Action::Mkfile(mkfile)) => {
            let mut m = Map::new();
            m.insert("path".into(), json!(mkfile.path));
            m.insert("mode".into(), mode_text(mkfile.mode));
            put_bytes(&mut m, "data", &mkfile.data);
            owner_json(&mut m, mkfile.owner.as_ref());
            m.insert("timestamp".into(), json!(mkfile.timestamp));
            object.insert("mkfile".into(), Value::Object(m));
        }
        Some(pb::file_action::Action::Rm(rm)) => {
            let mut r = Map::new();
            r.insert("path".into(), json!(rm.path));
            put_true(&mut r, "allow_not_found", rm.allow_not_found);
            put_true(&mut r, "allow_wildcard", rm.allow_wildcard);
            object.insert("rm".into(), Value::Object(r));
        }
        Some(pb::file_action::Action::Symlink(symlink)) => {
            let mut s = Map::new();
            s.insert("oldpath".into(), json!(symlink.oldpath));
            s.insert("newpath".into(), json!(symlink.newpath));
            owner_json(&mut s, symlink.owner.as_ref());
            object.insert("symlink".into(), Value::Object(s));
        }
        None => {}
    }
    Value::Object(object)
}

fn metadata_json(metadata: &pb::OpMetadata) -> Value {
    let mut object = Map::new();
    put_true(&mut object, "ignore_cache", metadata.ignore_cache);
    if !metadata.description.is_empty() {
        object.insert("description".into(), json!(metadata.description));
    }
    if let Some(export) = &metadata.export_cache {
        object.insert("export_cache".into(), json!(export.value));
    }
    if !metadata.caps.is_empty() {
        let caps: Vec<&String> = metadata
            .caps
            .iter()
            .filter(|(_, on)| **on)
            .map(|(cap, _)| cap)
            .collect();
        object.insert("caps".into(), json!(caps));
    }
    if let Some(group) = &metadata.progress_group {
        object.insert(
            "progress_group".into(),
            json!({"id": group.id, "name": group.name, "weak": group.weak}),
        );
    }
    Value::Object(object)
}

fn locations_json(locations: &pb::Locations) -> Value {
    let list: Vec<Value> = locations
        .locations
        .iter()
        .map(|location| {
            let ranges: Vec<Value> = location
                .ranges
                .iter()
                .map(|range| {
                    let start = range.start.unwrap_or_default();
                    let end = range.end.unwrap_or_default();
                    json!(format!(
                        "{}:{}-{}:{}",
                        start.line, start.character, end.line, end.character
                    ))
                })
                .collect();
            json!({"source_index": location.source_index, "ranges": ranges})
        })
        .collect();
    Value::Array(list)
}
