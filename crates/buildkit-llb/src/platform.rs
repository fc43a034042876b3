use std::fmt;

use buildkit_proto::pb;

use crate::error::LlbError;

/// An OCI platform (`os/architecture[/variant]`) that an op runs on or resolves for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// CPU architecture in GOARCH spelling, e.g. `amd64`, `arm64`.
    pub architecture: String,
    /// Architecture variant, e.g. `v8` or `v7`; empty when none.
    pub variant: String,
    /// OS version (Windows only); empty when none.
    pub os_version: String,
}

impl Platform {
    /// A platform with no variant.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Self {
            os: os.into(),
            architecture: architecture.into(),
            variant: String::new(),
            os_version: String::new(),
        }
    }

    /// The same platform with `variant` set.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = variant.into();
        self
    }

    /// Parses `os/arch` or `os/arch/variant` (the `--platform` spelling). No normalisation is
    /// applied: pass what BuildKit's workers report (e.g. `linux/arm64`, `linux/arm/v7`).
    pub fn parse(text: &str) -> Result<Self, LlbError> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Self::new(*os, *arch)),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Self::new(*os, *arch).with_variant(*variant))
            }
            _ => Err(LlbError::InvalidPlatform(text.to_owned())),
        }
    }

    /// The wire form.
    pub fn to_pb(&self) -> pb::Platform {
        pb::Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
            os_version: self.os_version.clone(),
            os_features: Vec::new(),
        }
    }

    /// From the wire form (OS features are dropped: BuildKit marks them unused).
    pub fn from_pb(platform: &pb::Platform) -> Self {
        Self {
            os: platform.os.clone(),
            architecture: platform.architecture.clone(),
            variant: platform.variant.clone(),
            os_version: platform.os_version.clone(),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}
