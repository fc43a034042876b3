//! OCI platforms, parsed and normalised the way BuildKit's Go side does it (containerd's
//! `platforms.Parse` followed by `platforms.Normalize`), so the ids results are keyed by match
//! what the exporter and buildx expect.

use std::cmp::Ordering;
use std::fmt;

use buildkit_proto::pb;
use serde::{Deserialize, Serialize};

/// Why a platform specifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("invalid platform {specifier:?}: {reason}")]
    Invalid { specifier: String, reason: String },
}

/// An OCI platform (`os/architecture[/variant]`) that an op runs on or resolves for.
/// Serialises like the image-spec `Platform` JSON (`architecture`, `os`, `os.version`,
/// `os.features`, `variant`). Ordered by os, architecture, variant, then the OS options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in GOARCH spelling, e.g. `amd64`, `arm64`.
    pub architecture: String,
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// OS version (Windows only); empty when none.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    /// OS features (Windows only); empty when none.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// Architecture variant, e.g. `v8` or `v7`; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

impl Platform {
    /// A platform with no variant, as written (not normalised: see [`Platform::normalized`]).
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Self {
            os: os.into(),
            architecture: architecture.into(),
            ..Self::default()
        }
    }

    /// `linux/amd64`.
    pub fn linux_amd64() -> Self {
        Self::new("linux", "amd64")
    }

    /// The same platform with `variant` set.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = variant.into();
        self
    }

    /// The same platform without its OS version and features (the `(…)` of [`Platform::id`]):
    /// just `os/architecture[/variant]`.
    pub fn without_os_options(mut self) -> Self {
        self.os_version = String::new();
        self.os_features = Vec::new();
        self
    }

    /// The platform this process runs on (normalised), used when neither the
    /// user nor the workers name one.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            "loongarch64" => "loong64",
            other => other,
        };
        Platform::new(std::env::consts::OS, architecture).normalized()
    }

    /// Parses `os[/arch[/variant]]` (or a lone os or arch) and normalises it:
    /// `linux/arm64/v8` → `linux/arm64`, `linux/arm` → `linux/arm/v7`,
    /// `linux/x86_64` → `linux/amd64`.
    pub fn parse(specifier: &str) -> Result<Self, PlatformError> {
        let invalid = |reason: &str| PlatformError::Invalid {
            specifier: specifier.to_string(),
            reason: reason.to_string(),
        };
        if specifier.contains('*') {
            return Err(invalid("wildcards are not supported"));
        }
        let parts: Vec<&str> = specifier.splitn(4, '/').collect();
        let (os_name, os_version, os_features) =
            split_os_component(parts[0]).ok_or_else(|| invalid("bad OS component"))?;
        for part in &parts[1..] {
            if !is_specifier_component(part) {
                return Err(invalid("bad component"));
            }
        }
        let mut platform = Platform {
            os: normalize_os(&os_name),
            os_version,
            os_features,
            ..Platform::default()
        };
        match parts.len() {
            1 => {
                if is_known_os(&platform.os) {
                    let host = Platform::host();
                    platform.architecture = host.architecture;
                    platform.variant = host.variant;
                } else {
                    let (arch, variant) = normalize_arch(parts[0], "");
                    if !is_known_arch(&arch) {
                        return Err(invalid("unknown operating system or architecture"));
                    }
                    platform.os = Platform::host().os;
                    platform.os_version = String::new();
                    platform.os_features = Vec::new();
                    platform.architecture = arch;
                    platform.variant = variant;
                }
            }
            2 => {
                let (arch, variant) = normalize_arch(parts[1], "");
                platform.architecture = arch;
                platform.variant = variant;
            }
            3 => {
                let (arch, variant) = normalize_arch(parts[1], parts[2]);
                platform.architecture = arch;
                platform.variant = variant;
            }
            _ => return Err(invalid("too many components")),
        }
        Ok(platform.normalized())
    }

    /// Parses exactly `os/arch` or `os/arch/variant`, with no normalisation: for what BuildKit's
    /// workers report (e.g. `linux/arm64`, `linux/arm/v7`).
    pub fn parse_exact(text: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self::new(*os, *arch)),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Self::new(*os, *arch).with_variant(*variant))
            }
            _ => Err(PlatformError::Invalid {
                specifier: text.to_owned(),
                reason: "expected os/arch or os/arch/variant".to_owned(),
            }),
        }
    }

    /// containerd's `Normalize`: lower-case names, canonical architecture
    /// and variant, sorted unique OS features.
    pub fn normalized(mut self) -> Self {
        self.os = normalize_os(&self.os);
        let (arch, variant) = normalize_arch(&self.architecture, &self.variant);
        self.architecture = arch;
        self.variant = variant;
        self.os_features.sort();
        self.os_features.dedup();
        self
    }

    /// `os/arch[/variant]`, as containerd's `Format`.
    pub fn format(&self) -> String {
        if self.os.is_empty() {
            return "unknown".to_string();
        }
        join_path(&[&self.os, &self.architecture, &self.variant])
    }

    /// The id BuildKit keys multi-platform results by (containerd's
    /// `FormatAll`: like [`Platform::format`] plus `(version+features)`).
    pub fn id(&self) -> String {
        if self.os.is_empty() {
            return "unknown".to_string();
        }
        let mut os = self.os.clone();
        let version = encode_os_option(&self.os_version);
        let mut features: Vec<&String> =
            self.os_features.iter().filter(|f| !f.is_empty()).collect();
        features.sort();
        features.dedup();
        let features: Vec<String> = features.iter().map(|f| encode_os_option(f)).collect();
        let features = features.join("+");
        if !version.is_empty() || !features.is_empty() {
            os.push('(');
            os.push_str(&version);
            if !features.is_empty() {
                os.push('+');
                os.push_str(&features);
            }
            os.push(')');
        }
        join_path(&[&os, &self.architecture, &self.variant])
    }

    /// The wire form.
    pub fn to_pb(&self) -> pb::Platform {
        pb::Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
        }
    }

    /// From the wire form, normalised.
    pub fn from_pb(platform: &pb::Platform) -> Self {
        Platform {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            os_version: platform.os_version.clone(),
            os_features: platform.os_features.clone(),
            variant: platform.variant.clone(),
        }
        .normalized()
    }

    fn sort_key(&self) -> (&str, &str, &str, &str, &[String]) {
        (
            &self.os,
            &self.architecture,
            &self.variant,
            &self.os_version,
            &self.os_features,
        )
    }
}

impl PartialOrd for Platform {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Platform {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

/// [`Platform::id`]: `linux/arm64`, `windows(10.0.17763+win32k)/amd64`.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

/// Parses a comma-separated platform list as the `platform` frontend option carries it.
pub fn parse_platform_list(value: &str) -> Result<Vec<Platform>, PlatformError> {
    value
        .split(',')
        .map(|p| Platform::parse(p.trim()))
        .collect()
}

/// Joins non-empty parts with `/` (Go's `path.Join` for these inputs).
fn join_path(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/")
}

fn is_specifier_component(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `os[(version[+feature]*)]` → (os, version, features).
fn split_os_component(part: &str) -> Option<(String, String, Vec<String>)> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    };
    let is_option = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '%' | '-'))
    };
    let Some(open) = part.find('(') else {
        return is_name(part).then(|| (part.to_string(), String::new(), Vec::new()));
    };
    let name = &part[..open];
    let inner = part[open + 1..].strip_suffix(')')?;
    if !is_name(name) {
        return None;
    }
    let mut pieces = inner.split('+');
    let version = pieces.next().unwrap_or_default();
    if !is_option(version) {
        return None;
    }
    let mut features = Vec::new();
    for feature in pieces {
        if feature.is_empty() || !is_option(feature) {
            return None;
        }
        features.push(decode_os_option(feature)?);
    }
    Some((name.to_string(), decode_os_option(version)?, features))
}

fn encode_os_option(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' => out.push_str("%25"),
            '+' => out.push_str("%2B"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '/' => out.push_str("%2F"),
            other => out.push(other),
        }
    }
    out
}

fn decode_os_option(value: &str) -> Option<String> {
    if !value.contains('%') {
        return Some(value.to_string());
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_known_os(os: &str) -> bool {
    matches!(
        os,
        "aix"
            | "android"
            | "darwin"
            | "dragonfly"
            | "freebsd"
            | "hurd"
            | "illumos"
            | "ios"
            | "js"
            | "linux"
            | "nacl"
            | "netbsd"
            | "openbsd"
            | "plan9"
            | "solaris"
            | "windows"
            | "zos"
    )
}

fn is_known_arch(arch: &str) -> bool {
    matches!(
        arch,
        "386"
            | "amd64"
            | "amd64p32"
            | "arm"
            | "armbe"
            | "arm64"
            | "arm64be"
            | "ppc64"
            | "ppc64le"
            | "loong64"
            | "mips"
            | "mipsle"
            | "mips64"
            | "mips64le"
            | "mips64p32"
            | "mips64p32le"
            | "ppc"
            | "riscv"
            | "riscv64"
            | "s390"
            | "s390x"
            | "sparc"
            | "sparc64"
            | "wasm"
    )
}

fn normalize_os(os: &str) -> String {
    if os.is_empty() {
        return std::env::consts::OS.to_string();
    }
    let os = os.to_ascii_lowercase();
    if os == "macos" {
        "darwin".to_string()
    } else {
        os
    }
}

fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => {
            let variant = if variant == "v1" {
                String::new()
            } else {
                variant
            };
            ("amd64".into(), variant)
        }
        "aarch64" | "arm64" => {
            let variant = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".into(),
                _ => variant,
            };
            ("arm64".into(), variant)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let variant = match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), variant)
        }
        _ => (arch, variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> String {
        Platform::parse(s).unwrap().id()
    }

    #[test]
    fn normalises_like_buildkit() {
        assert_eq!(id("linux/amd64"), "linux/amd64");
        assert_eq!(id("linux/arm64/v8"), "linux/arm64");
        assert_eq!(id("linux/aarch64"), "linux/arm64");
        assert_eq!(id("linux/arm64/v9.0"), "linux/arm64/v9");
        assert_eq!(id("linux/arm"), "linux/arm/v7");
        assert_eq!(id("linux/arm/7"), "linux/arm/v7");
        assert_eq!(id("linux/arm/v6"), "linux/arm/v6");
        assert_eq!(id("linux/armhf"), "linux/arm/v7");
        assert_eq!(id("Linux/X86_64"), "linux/amd64");
        assert_eq!(id("linux/amd64/v1"), "linux/amd64");
        assert_eq!(id("linux/amd64/v3"), "linux/amd64/v3");
        assert_eq!(id("linux/i386"), "linux/386");
        assert_eq!(id("macos/arm64"), "darwin/arm64");
        assert_eq!(id("linux/riscv64"), "linux/riscv64");
        assert_eq!(
            id("windows(10.0.17763+win32k)/amd64"),
            "windows(10.0.17763+win32k)/amd64"
        );
    }

    #[test]
    fn lone_architecture_takes_host_os() {
        let p = Platform::parse("arm64").unwrap();
        assert_eq!(p.architecture, "arm64");
        assert_eq!(p.os, std::env::consts::OS);
        let p = Platform::parse("linux").unwrap();
        assert_eq!(p.os, "linux");
        assert_eq!(p.architecture, Platform::host().architecture);
    }

    #[test]
    fn rejects_bad_specifiers() {
        assert!(Platform::parse("linux/*").is_err());
        assert!(Platform::parse("").is_err());
        assert!(Platform::parse("linux/amd64/v2/extra").is_err());
        assert!(Platform::parse("notanos").is_err());
        assert!(Platform::parse("linux/am d64").is_err());
    }

    #[test]
    fn lists_and_json() {
        let list = parse_platform_list("linux/amd64, linux/arm64/v8").unwrap();
        let ids: Vec<String> = list.iter().map(Platform::id).collect();
        assert_eq!(ids, ["linux/amd64", "linux/arm64"]);
        let json = serde_json::to_string(&Platform::parse("linux/arm/v7").unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"architecture":"arm","os":"linux","variant":"v7"}"#
        );
        let pb = list[1].to_pb();
        assert_eq!(
            (pb.os.as_str(), pb.architecture.as_str()),
            ("linux", "arm64")
        );
        assert_eq!(Platform::from_pb(&pb), list[1]);
    }
}
