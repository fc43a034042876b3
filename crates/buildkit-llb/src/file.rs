use std::collections::BTreeSet;

use buildkit_proto::pb;

use crate::caps;
use crate::error::LlbError;
use crate::options::{OpOptions, op_options_methods};
use crate::output::{InputList, Node, Output};
use crate::paths::{go_path_clean, go_path_join, normalize_file_path};

/// A user or group, by numeric id or by name (looked up in the base's `/etc/passwd` /
/// `/etc/group` by BuildKit).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UserRef {
    /// A numeric id.
    Id(u32),
    /// A name.
    Name(String),
}

impl UserRef {
    /// `root` and decimal numbers become ids, anything else a name (BuildKit's `WithUser`).
    pub fn parse(text: &str) -> Self {
        if text == "root" {
            return Self::Id(0);
        }
        match text.parse::<i32>() {
            Ok(id) if id >= 0 => Self::Id(id.unsigned_abs()),
            _ => Self::Name(text.to_owned()),
        }
    }

    fn to_pb(&self, base: i64) -> pb::UserOpt {
        pb::UserOpt {
            user: Some(match self {
                Self::Id(id) => pb::user_opt::User::ById(*id),
                Self::Name(name) => pb::user_opt::User::ByName(pb::NamedUserOpt {
                    name: name.clone(),
                    input: base,
                }),
            }),
        }
    }
}

/// Owner of files created by a file action (`ChownOpt`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    /// The user, if set.
    pub user: Option<UserRef>,
    /// The group, if set.
    pub group: Option<UserRef>,
}

impl Owner {
    /// Numeric uid and gid.
    pub fn ids(uid: u32, gid: u32) -> Self {
        Self {
            user: Some(UserRef::Id(uid)),
            group: Some(UserRef::Id(gid)),
        }
    }

    /// `user` or `user:group` (Docker's `--chown` syntax), each part an id or a name.
    pub fn parse(text: &str) -> Self {
        let (user, group) = match text.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (text, None),
        };
        Self {
            user: Some(UserRef::parse(user)),
            group: group.map(UserRef::parse),
        }
    }

    fn to_pb(&self, base: i64) -> pb::ChownOpt {
        pb::ChownOpt {
            user: self.user.as_ref().map(|user| user.to_pb(base)),
            group: self.group.as_ref().map(|group| group.to_pb(base)),
        }
    }
}

/// Copies `src` of another output onto the file op's filesystem (`FileActionCopy`).
#[derive(Clone, Debug)]
pub struct FileCopy {
    source: Output,
    src: String,
    dest: String,
    owner: Option<Owner>,
    mode: Option<u32>,
    mode_str: String,
    follow_symlinks: bool,
    dir_contents_only: bool,
    attempt_unpack: bool,
    create_dest_path: bool,
    allow_wildcard: bool,
    allow_empty_wildcard: bool,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
    required_paths: Vec<String>,
    timestamp: Option<i64>,
    always_replace_existing_dest_paths: bool,
}

impl FileCopy {
    /// Copies path `src` of `source` to `dest`. A `dest` ending in `/` means "into this
    /// directory". Relative paths are taken from `/`.
    pub fn new(source: Output, src: impl Into<String>, dest: impl Into<String>) -> Self {
        Self {
            source,
            src: src.into(),
            dest: dest.into(),
            owner: None,
            mode: None,
            mode_str: String::new(),
            follow_symlinks: false,
            dir_contents_only: false,
            attempt_unpack: false,
            create_dest_path: false,
            allow_wildcard: false,
            allow_empty_wildcard: false,
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            required_paths: Vec::new(),
            timestamp: None,
            always_replace_existing_dest_paths: false,
        }
    }

    /// Owner of the copied files.
    pub fn owner(mut self, owner: Owner) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Permission bits of the copied files, e.g. `0o644`.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Symbolic mode (`u+x,g-w`), as `COPY --chmod` accepts (`file.copy.modestring`).
    pub fn mode_str(mut self, mode: impl Into<String>) -> Self {
        self.mode_str = mode.into();
        self
    }

    /// Resolve a symlink at `src`.
    pub fn follow_symlinks(mut self, on: bool) -> Self {
        self.follow_symlinks = on;
        self
    }

    /// If `src` is a directory, copy its contents rather than the directory itself.
    pub fn dir_contents_only(mut self, on: bool) -> Self {
        self.dir_contents_only = on;
        self
    }

    /// Unpack `src` if it is an archive (Docker's `ADD` behaviour).
    pub fn attempt_unpack(mut self, on: bool) -> Self {
        self.attempt_unpack = on;
        self
    }

    /// Create missing parent directories of `dest`.
    pub fn create_dest_path(mut self, on: bool) -> Self {
        self.create_dest_path = on;
        self
    }

    /// Treat `src` as a wildcard pattern.
    pub fn allow_wildcard(mut self, on: bool) -> Self {
        self.allow_wildcard = on;
        self
    }

    /// Do not fail when the wildcard matches nothing.
    pub fn allow_empty_wildcard(mut self, on: bool) -> Self {
        self.allow_empty_wildcard = on;
        self
    }

    /// Copy only paths matching these patterns.
    pub fn include_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Skip paths matching these patterns.
    pub fn exclude_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Paths that must exist among the included ones (`file.copy.requiredpaths`).
    pub fn required_paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Fixed modification time of the copied files, in Unix nanoseconds.
    pub fn timestamp(mut self, unix_nanos: i64) -> Self {
        self.timestamp = Some(unix_nanos);
        self
    }

    /// Replace a dest path of a different type instead of failing.
    pub fn always_replace_existing_dest_paths(mut self, on: bool) -> Self {
        self.always_replace_existing_dest_paths = on;
        self
    }

    fn to_pb(&self, base: i64, op_caps: &mut BTreeSet<&'static str>) -> pb::FileActionCopy {
        if !self.include_patterns.is_empty() || !self.exclude_patterns.is_empty() {
            op_caps.insert(caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS);
        }
        if !self.required_paths.is_empty() {
            op_caps.insert(caps::FILE_COPY_REQUIRED_PATHS);
        }
        if self.always_replace_existing_dest_paths {
            op_caps.insert(caps::FILE_COPY_ALWAYS_REPLACE_EXISTING_DEST_PATHS);
        }
        let (mode, mode_str) = if !self.mode_str.is_empty() {
            op_caps.insert(caps::FILE_COPY_MODE_STRING);
            (0, self.mode_str.clone())
        } else {
            (self.mode.map_or(-1, |mode| mode as i32), String::new())
        };
        pb::FileActionCopy {
            src: go_path_join("/", &go_path_clean(&self.src)),
            dest: normalize_file_path("/", &self.dest, true),
            owner: self.owner.as_ref().map(|owner| owner.to_pb(base)),
            mode,
            follow_symlink: self.follow_symlinks,
            dir_copy_contents: self.dir_contents_only,
            attempt_unpack_docker_compatibility: self.attempt_unpack,
            create_dest_path: self.create_dest_path,
            allow_wildcard: self.allow_wildcard,
            allow_empty_wildcard: self.allow_empty_wildcard,
            timestamp: self.timestamp.unwrap_or(-1),
            include_patterns: self.include_patterns.clone(),
            exclude_patterns: self.exclude_patterns.clone(),
            always_replace_existing_dest_paths: self.always_replace_existing_dest_paths,
            mode_str,
            required_paths: self.required_paths.clone(),
        }
    }
}

/// Creates a directory (`FileActionMkDir`).
#[derive(Clone, Debug)]
pub struct Mkdir {
    path: String,
    mode: u32,
    make_parents: bool,
    owner: Option<Owner>,
    timestamp: Option<i64>,
}

impl Mkdir {
    /// A directory at `path` with permission bits `mode` (e.g. `0o755`).
    pub fn new(path: impl Into<String>, mode: u32) -> Self {
        Self {
            path: path.into(),
            mode,
            make_parents: false,
            owner: None,
            timestamp: None,
        }
    }

    /// Create missing parents too (`mkdir -p`).
    pub fn make_parents(mut self, on: bool) -> Self {
        self.make_parents = on;
        self
    }

    /// Owner of the new directory.
    pub fn owner(mut self, owner: Owner) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Fixed modification time, in Unix nanoseconds.
    pub fn timestamp(mut self, unix_nanos: i64) -> Self {
        self.timestamp = Some(unix_nanos);
        self
    }

    fn to_pb(&self, base: i64) -> pb::FileActionMkDir {
        pb::FileActionMkDir {
            path: normalize_file_path("/", &self.path, false),
            mode: (self.mode & 0o777) as i32,
            make_parents: self.make_parents,
            owner: self.owner.as_ref().map(|owner| owner.to_pb(base)),
            timestamp: self.timestamp.unwrap_or(-1),
        }
    }
}

/// Creates a file with given content (`FileActionMkFile`).
#[derive(Clone, Debug)]
pub struct Mkfile {
    path: String,
    mode: u32,
    data: Vec<u8>,
    owner: Option<Owner>,
    timestamp: Option<i64>,
}

impl Mkfile {
    /// A file at `path` with permission bits `mode` holding `data`.
    pub fn new(path: impl Into<String>, mode: u32, data: impl Into<Vec<u8>>) -> Self {
        Self {
            path: path.into(),
            mode,
            data: data.into(),
            owner: None,
            timestamp: None,
        }
    }

    /// Owner of the new file.
    pub fn owner(mut self, owner: Owner) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Fixed modification time, in Unix nanoseconds.
    pub fn timestamp(mut self, unix_nanos: i64) -> Self {
        self.timestamp = Some(unix_nanos);
        self
    }

    fn to_pb(&self, base: i64) -> pb::FileActionMkFile {
        pb::FileActionMkFile {
            path: normalize_file_path("/", &self.path, false),
            mode: (self.mode & 0o777) as i32,
            data: self.data.clone(),
            owner: self.owner.as_ref().map(|owner| owner.to_pb(base)),
            timestamp: self.timestamp.unwrap_or(-1),
        }
    }
}

/// Removes a path (`FileActionRm`).
#[derive(Clone, Debug)]
pub struct Rm {
    path: String,
    allow_not_found: bool,
    allow_wildcard: bool,
}

impl Rm {
    /// Removes `path`.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            allow_not_found: false,
            allow_wildcard: false,
        }
    }

    /// Do not fail if `path` does not exist.
    pub fn allow_not_found(mut self, on: bool) -> Self {
        self.allow_not_found = on;
        self
    }

    /// Treat `path` as a wildcard pattern.
    pub fn allow_wildcard(mut self, on: bool) -> Self {
        self.allow_wildcard = on;
        self
    }

    fn to_pb(&self, op_caps: &mut BTreeSet<&'static str>) -> pb::FileActionRm {
        if self.allow_wildcard {
            op_caps.insert(caps::FILE_RM_WILDCARD);
        }
        pb::FileActionRm {
            path: normalize_file_path("/", &self.path, false),
            allow_not_found: self.allow_not_found,
            allow_wildcard: self.allow_wildcard,
        }
    }
}

#[derive(Clone, Debug)]
enum Action {
    Copy(FileCopy),
    Mkdir(Mkdir),
    Mkfile(Mkfile),
    Rm(Rm),
}

/// A `FileOp`: a chain of file actions applied one after another to `base`, in one op and one
/// layer. The first action reads `base`; each later action reads the previous action's result
/// (BuildKit's relative index `inputs + n`); copies read their source as a secondary input.
///
/// ```
/// use buildkit_llb::{FileCopy, FileOp, Image, Local, Mkdir, Owner};
/// let ctx = Local::new("context").build();
/// let base = Image::new("node:18").build();
/// let out = FileOp::new(base)
///     .mkdir(Mkdir::new("/app", 0o755).make_parents(true))
///     .copy(FileCopy::new(ctx, "web/package.json", "/app/").owner(Owner::ids(1000, 1000)))
///     .custom_name("copy package.json")
///     .build()
///     .unwrap();
/// assert_eq!(out.index(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct FileOp {
    base: Output,
    actions: Vec<Action>,
    options: OpOptions,
}

impl FileOp {
    /// A file op on `base` ([`Output::scratch`] for an empty filesystem).
    pub fn new(base: Output) -> Self {
        Self {
            base,
            actions: Vec::new(),
            options: OpOptions::default(),
        }
    }

    /// Appends a copy.
    pub fn copy(mut self, copy: FileCopy) -> Self {
        self.actions.push(Action::Copy(copy));
        self
    }

    /// Appends a mkdir.
    pub fn mkdir(mut self, mkdir: Mkdir) -> Self {
        self.actions.push(Action::Mkdir(mkdir));
        self
    }

    /// Appends a mkfile.
    pub fn mkfile(mut self, mkfile: Mkfile) -> Self {
        self.actions.push(Action::Mkfile(mkfile));
        self
    }

    /// Appends a rm.
    pub fn rm(mut self, rm: Rm) -> Self {
        self.actions.push(Action::Rm(rm));
        self
    }

    op_options_methods!();

    /// Marshals the file op; its single output (index 0) is the result of the last action.
    pub fn build(self) -> Result<Output, LlbError> {
        if self.actions.is_empty() {
            return Err(LlbError::EmptyFileOp);
        }
        let mut op_caps = BTreeSet::from([caps::FILE_BASE]);
        let mut inputs = InputList::default();
        // (input, secondary input, relative input) per action, before relative indices are known.
        let mut wiring: Vec<(i64, i64)> = Vec::new();
        let mut actions = Vec::new();
        for (position, action) in self.actions.iter().enumerate() {
            let base = inputs.add(&self.base);
            let secondary = match action {
                Action::Copy(copy) => inputs.add(&copy.source),
                _ => -1,
            };
            wiring.push((base, secondary));
            let action = match action {
                Action::Copy(copy) => pb::file_action::Action::Copy(copy.to_pb(base, &mut op_caps)),
                Action::Mkdir(mkdir) => pb::file_action::Action::Mkdir(mkdir.to_pb(base)),
                Action::Mkfile(mkfile) => pb::file_action::Action::Mkfile(mkfile.to_pb(base)),
                Action::Rm(rm) => pb::file_action::Action::Rm(rm.to_pb(&mut op_caps)),
            };
            actions.push((position, action));
        }
        let input_count = inputs.inputs.len() as i64;
        let last = self.actions.len() - 1;
        let pb_actions = actions
            .into_iter()
            .zip(&wiring)
            .map(|((position, action), (base, secondary))| pb::FileAction {
                // A later action reads the previous action's result: index inputs + (n - 1).
                input: if position == 0 {
                    *base
                } else {
                    input_count + position as i64 - 1
                },
                secondary_input: *secondary,
                output: if position == last { 0 } else { -1 },
                action: Some(action),
            })
            .collect();

        // BuildKit's marshaller visits the base, then copy sources from the last action back.
        let mut deps: Vec<Output> = Vec::new();
        let sources =
            std::iter::once(&self.base).chain(self.actions.iter().rev().filter_map(|action| {
                match action {
                    Action::Copy(copy) => Some(&copy.source),
                    _ => None,
                }
            }));
        for source in sources {
            if !source.is_scratch() && !deps.contains(source) {
                deps.push(source.clone());
            }
        }

        let op = pb::Op {
            inputs: inputs.inputs,
            platform: None,
            constraints: self.options.worker_constraints_pb(),
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: pb_actions,
            })),
        };
        let node = Node::finish(
            &op,
            deps,
            self.options.metadata(&op_caps),
            self.options.locations.clone(),
            self.base.platform().cloned(),
        );
        Ok(Output::new(node, 0))
    }
}
