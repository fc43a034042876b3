//! The format's keys, written once: each section of `layercake.yaml`, the keys it takes and the
//! shape of their values.
//!
//! Validation takes its known keys from here (unknown keys and their "did you mean", the hints
//! for a key in the wrong section, the free `x-` keys, a healthcheck's probes), and
//! [`json_schema`](crate::json_schema) is generated from it, so the two cannot list different
//! keys. What a value must be beyond its shape (paths inside the context, declared args,
//! services that exist), and every message about it, stays with validation, which knows where
//! each value was written; the shapes here are what an editor can check as you type.

/// A mapping with a fixed set of keys.
pub(crate) struct Section {
    pub keys: &'static [Key],
    /// Exactly one of these keys must be given.
    pub one_of: &'static [&'static str],
    /// Two keys that exclude each other.
    pub exclusive: Option<[&'static str; 2]>,
    /// Keys starting with this are free for the user (no regex characters in it: the schema
    /// matches it as a pattern).
    pub free_prefix: Option<&'static str>,
}

impl Section {
    /// The keys, in the order written here.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + use<> {
        let keys: &'static [Key] = self.keys;
        keys.iter().map(|key| key.name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.keys.iter().any(|key| key.name == name)
    }
}

/// One key of a section.
pub(crate) struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// For editors, where the shape alone says too little.
    pub doc: Option<&'static str>,
}

const fn key(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        required: false,
        doc: None,
    }
}

impl Key {
    const fn required(self) -> Key {
        Key {
            required: true,
            ..self
        }
    }

    const fn doc(self, doc: &'static str) -> Key {
        Key {
            doc: Some(doc),
            ..self
        }
    }
}

/// The shape of a value.
pub(crate) enum Shape {
    /// Any string.
    Str,
    /// A string that is not empty.
    NonEmpty,
    /// A string matching this pattern.
    Pattern(&'static str),
    /// A path relative to the service folder (or the workdir).
    Relative,
    /// An absolute path.
    Absolute,
    /// Quoted digits and dots.
    Version,
    /// A Go-style duration.
    Duration,
    /// 1 to 65535.
    Port,
    Bool,
    /// `true`, the only value that means something (`none: true`).
    True,
    /// An integer, 0 or more.
    Count,
    /// A uid or gid: a positive integer.
    Id,
    /// A list (exec form) or a string (shell form).
    Command,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// A list of values of one shape.
    List(&'static Shape),
    /// One value, or a list of them.
    OneOrList(&'static Shape),
    /// A mapping whose names the user picks (matching `names`, when given), with values of one
    /// shape, and at least one entry when `nonempty`.
    Map {
        names: Option<&'static str>,
        values: &'static Shape,
        nonempty: bool,
    },
    /// A string, a number or a boolean, taken as written.
    Scalar,
    /// A scalar, or nothing.
    ScalarOrNull,
    Section(&'static Section),
    /// A section, or nothing for all its defaults (`nginx:`).
    SectionOrNull(&'static Section),
    /// A string (described by the first field), or the section spelt out.
    StrOrSection(&'static str, &'static Section),
}

const STRINGS: Shape = Shape::List(&Shape::Str);
/// Env and label values.
const STRING_MAP: Shape = Shape::Map {
    names: None,
    values: &Shape::Scalar,
    nonempty: false,
};

pub(crate) static TOP: Section = Section {
    keys: &[
        key("default", Shape::Str),
        key(
            "args",
            Shape::Map {
                names: Some("^[A-Za-z_][A-Za-z0-9_]*$"),
                values: &Shape::ScalarOrNull,
                nonempty: false,
            },
        ),
        key(
            "services",
            Shape::Map {
                names: Some("^[a-z][a-z0-9_-]{0,62}$"),
                values: &Shape::Section(&SERVICE),
                nonempty: true,
            },
        )
        .required(),
    ],
    one_of: &[],
    exclusive: None,
    // A place for YAML anchors (`x-common: &common ...`), as in Compose.
    free_prefix: Some("x-"),
};

pub(crate) static SERVICE: Section = Section {
    keys: &[
        key("description", Shape::Str),
        key("path", Shape::Relative),
        key("include", Shape::List(&Shape::Relative)),
        key("exclude", STRINGS),
        key("python", Shape::Section(&PYTHON)),
        key("node", Shape::Section(&NODE)),
        key("serve", Shape::Section(&SERVE)),
        key("assets", Shape::List(&Shape::Section(&ASSET))),
        key("command", Shape::Command),
        key("entrypoint", Shape::Command),
        key("workdir", Shape::Absolute),
        key("port", Shape::Port),
        key("env", STRING_MAP),
        key(
            "user",
            Shape::StrOrSection("A user name, or \"root\" to opt out.", &USER),
        ),
        key("healthcheck", Shape::Section(&HEALTHCHECK)),
        key("volumes", Shape::List(&Shape::Absolute)),
        key("labels", STRING_MAP),
        key("stop_signal", Shape::Str),
        key("secrets", Shape::List(&Shape::Section(&SECRET))),
        key("ssh", Shape::Bool),
    ],
    one_of: &["python", "node"],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static PYTHON: Section = Section {
    keys: &[
        key("version", Shape::Version).doc(
            "Python version; default: the project's (.python-version, requires-python, \
             Poetry's python).",
        ),
        key("image", Shape::Str).doc("Runtime base; default python:<version>-slim."),
        key("builder_image", Shape::Str).doc("Wheels-stage base; default: image."),
        key("requirements", Shape::OneOrList(&Shape::Relative)),
        key(
            "project",
            Shape::Choice(&["uv", "poetry", "pep621", "requirements"]),
        )
        .doc(
            "What lists the dependencies; default: detected from the service folder (uv.lock, \
             else poetry.lock, else requirements.txt, else pyproject.toml's [project]).",
        ),
        key("groups", STRINGS)
            .doc("uv, poetry, pep621: dependency groups to install besides the main ones."),
        key("extras", STRINGS).doc("uv, poetry, pep621: extras of the project to install."),
        key("package", Shape::NonEmpty).doc("uv: the workspace member the service is."),
        key("pip_flags", STRINGS),
        key("pip_env", STRING_MAP),
        key("packages", Shape::Section(&PACKAGES)),
        key("build_steps", Shape::List(&Shape::Command)),
    ],
    one_of: &[],
    exclusive: Some(["requirements", "project"]),
    free_prefix: None,
};

pub(crate) static PACKAGES: Section = Section {
    keys: &[
        key("build", STRINGS),
        key("pip", STRINGS),
        key("runtime", STRINGS),
    ],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static NODE: Section = Section {
    keys: &[
        key("version", Shape::Version).required(),
        key("image", Shape::Str).doc("Build base; default node:<version>."),
        key("install", Shape::Choice(&["ci", "install"])),
        key("install_flags", STRINGS),
        key("npmrc", Shape::Bool),
        key("script", Shape::NonEmpty),
        key("output", Shape::Relative),
        key("env", STRING_MAP),
    ],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static SERVE: Section = Section {
    keys: &[key("nginx", Shape::SectionOrNull(&NGINX)).required()],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static NGINX: Section = Section {
    keys: &[
        key("image", Shape::Str),
        key("spa", Shape::Bool),
        key("config", Shape::Relative),
    ],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static ASSET: Section = Section {
    keys: &[
        key("from", Shape::Str).required(),
        key("to", Shape::Relative).required(),
    ],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static USER: Section = Section {
    keys: &[
        key("name", Shape::Str).required(),
        key("uid", Shape::Id),
        key("gid", Shape::Id),
    ],
    one_of: &[],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static HEALTHCHECK: Section = Section {
    keys: &[
        key("http", Shape::Pattern("^/")),
        key("command", Shape::Command),
        key("none", Shape::True),
        key("port", Shape::Port),
        key("interval", Shape::Duration),
        key("timeout", Shape::Duration),
        key("start_period", Shape::Duration),
        key("retries", Shape::Count),
    ],
    // The probes, in the order validation names a second one.
    one_of: &["http", "command", "none"],
    exclusive: None,
    free_prefix: None,
};

pub(crate) static SECRET: Section = Section {
    keys: &[
        key("id", Shape::Pattern("^[A-Za-z0-9_.-]+$")).required(),
        key("env", Shape::Pattern("^[A-Za-z_][A-Za-z0-9_]*$")),
        key("target", Shape::Absolute),
        key("required", Shape::Bool),
        key("rebuild_on_change", Shape::Bool),
    ],
    one_of: &[],
    exclusive: Some(["env", "target"]),
    free_prefix: None,
};
