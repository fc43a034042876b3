//! Building the `Result` a frontend returns: one image, one image per
//! platform, or metadata only (subrequests).

use std::collections::BTreeMap;

use buildkit_proto::{gateway, pb};
use serde::Serialize;

use buildkit_llb::Platform;

/// Metadata key of the image config (suffixed `/<platform id>` per platform).
pub const IMAGE_CONFIG_KEY: &str = "containerimage.config";
/// Metadata key of the base image's config.
pub const IMAGE_BASE_CONFIG_KEY: &str = "containerimage.base.config";
/// Metadata key of the source date epoch (Unix seconds, decimal).
pub const SOURCE_DATE_EPOCH_KEY: &str = "source.date.epoch";
/// Metadata key of the platform list (`{"platforms":[{"id","platform"}]}`).
pub const PLATFORMS_KEY: &str = "refs.platforms";

/// A solved reference, usable in later reads and in the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SolvedRef {
    /// BuildKit's id of the result; empty for an empty (scratch) result.
    pub id: String,
    /// The definition it came from, when BuildKit sends it back.
    pub definition: Option<pb::Definition>,
}

impl SolvedRef {
    pub fn to_proto(&self) -> gateway::Ref {
        gateway::Ref {
            id: self.id.clone(),
            def: self.definition.clone(),
        }
    }
}

/// What the frontend returns to BuildKit on success.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontendResult {
    result: gateway::Result,
}

impl FrontendResult {
    /// A result with no image (e.g. a subrequest answer); add metadata.
    pub fn metadata_only() -> Self {
        FrontendResult::default()
    }

    /// One image with its config, nothing else. For platform-aware results
    /// use [`ImageResults`].
    pub fn single(reference: &SolvedRef, image_config: Vec<u8>) -> Self {
        let mut out = FrontendResult::default();
        out.result.result = Some(gateway::result::Result::Ref(reference.to_proto()));
        out.add_metadata(IMAGE_CONFIG_KEY, image_config);
        out
    }

    /// Adds (or replaces) a metadata entry.
    pub fn add_metadata(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.result.metadata.insert(key.into(), value.into());
        self
    }

    pub fn metadata(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.result.metadata
    }

    pub fn as_proto(&self) -> &gateway::Result {
        &self.result
    }

    pub fn into_proto(self) -> gateway::Result {
        self.result
    }
}

/// Why an image result could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("a single-platform result can hold one image, got a second for {0}")]
    SecondSinglePlatformImage(String),
    #[error("platform {0} was added twice")]
    DuplicatePlatform(String),
    #[error("no image was added to the result")]
    Empty,
}

/// One built image for [`ImageResults::add`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlatformImage {
    pub platform: Platform,
    pub reference: SolvedRef,
    /// The image config JSON (`containerimage.config`).
    pub config: Vec<u8>,
    /// The base image's config, if the exporter should know it.
    pub base_config: Option<Vec<u8>>,
    /// `SOURCE_DATE_EPOCH` applied to this image, in Unix seconds.
    pub epoch: Option<i64>,
}

/// Collects per-platform images the way BuildKit's Dockerfile frontend
/// does: a map keyed by platform id when multi-platform was requested, else
/// one plain ref; `refs.platforms` always.
#[derive(Debug, Clone, Default)]
pub struct ImageResults {
    multi_platform: bool,
    images: Vec<PlatformImage>,
}

#[derive(Serialize)]
struct ExportPlatforms<'a> {
    platforms: Vec<ExportPlatform<'a>>,
}

#[derive(Serialize)]
struct ExportPlatform<'a> {
    id: String,
    platform: &'a Platform,
}

impl ImageResults {
    /// `multi_platform` is [`crate::FrontendOpts::multi_platform`].
    pub fn new(multi_platform: bool) -> Self {
        ImageResults {
            multi_platform,
            images: Vec::new(),
        }
    }

    pub fn add(&mut self, image: PlatformImage) -> Result<&mut Self, ResultError> {
        let id = image.platform.id();
        if !self.multi_platform && !self.images.is_empty() {
            return Err(ResultError::SecondSinglePlatformImage(id));
        }
        if self.images.iter().any(|i| i.platform.id() == id) {
            return Err(ResultError::DuplicatePlatform(id));
        }
        self.images.push(image);
        Ok(self)
    }

    /// The result, in the order the platforms were added.
    pub fn finish(self) -> Result<FrontendResult, ResultError> {
        if self.images.is_empty() {
            return Err(ResultError::Empty);
        }
        let mut out = FrontendResult::default();
        let mut refs = BTreeMap::new();
        for image in &self.images {
            let id = image.platform.id();
            let suffix = |key: &str| {
                if self.multi_platform {
                    format!("{key}/{id}")
                } else {
                    key.to_string()
                }
            };
            out.add_metadata(suffix(IMAGE_CONFIG_KEY), image.config.clone());
            if let Some(base) = &image.base_config {
                out.add_metadata(suffix(IMAGE_BASE_CONFIG_KEY), base.clone());
            }
            if let Some(epoch) = image.epoch {
                out.add_metadata(suffix(SOURCE_DATE_EPOCH_KEY), epoch.to_string());
            }
            if self.multi_platform {
                refs.insert(id, image.reference.to_proto());
            } else {
                out.result.result = Some(gateway::result::Result::Ref(image.reference.to_proto()));
            }
        }
        if self.multi_platform {
            out.result.result = Some(gateway::result::Result::Refs(gateway::RefMap { refs }));
        }
        let platforms = ExportPlatforms {
            platforms: self
                .images
                .iter()
                .map(|i| ExportPlatform {
                    id: i.platform.id(),
                    platform: &i.platform,
                })
                .collect(),
        };
        // Serialising plain strings cannot fail; an empty list is harmless.
        let json = serde_json::to_vec(&platforms).unwrap_or_default();
        out.add_metadata(PLATFORMS_KEY, json);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(platform: &str, id: &str) -> PlatformImage {
        PlatformImage {
            platform: Platform::parse(platform).unwrap(),
            reference: SolvedRef {
                id: id.into(),
                definition: None,
            },
            config: format!("{{\"id\":\"{id}\"}}").into_bytes(),
            base_config: None,
            epoch: Some(1_700_000_000),
        }
    }

    #[test]
    fn single_platform() {
        let mut results = ImageResults::new(false);
        results.add(image("linux/amd64", "r1")).unwrap();
        assert!(results.add(image("linux/arm64", "r2")).is_err());
        let out = results.finish().unwrap().into_proto();
        let Some(gateway::result::Result::Ref(r)) = out.result else {
            panic!("expected a single ref: {out:?}");
        };
        assert_eq!(r.id, "r1");
        assert_eq!(out.metadata[IMAGE_CONFIG_KEY], br#"{"id":"r1"}"#);
        assert_eq!(out.metadata[SOURCE_DATE_EPOCH_KEY], b"1700000000");
        assert_eq!(
            String::from_utf8(out.metadata[PLATFORMS_KEY].clone()).unwrap(),
            r#"{"platforms":[{"id":"linux/amd64","platform":{"architecture":"amd64","os":"linux"}}]}"#
        );
    }

    #[test]
    fn multi_platform() {
        let mut results = ImageResults::new(true);
        results.add(image("linux/arm/v7", "r2")).unwrap();
        results.add(image("linux/amd64", "r1")).unwrap();
        assert_eq!(
            results.add(image("linux/amd64", "r3")).unwrap_err(),
            ResultError::DuplicatePlatform("linux/amd64".into())
        );
        let out = results.finish().unwrap().into_proto();
        let Some(gateway::result::Result::Refs(map)) = out.result else {
            panic!("expected a ref map: {out:?}");
        };
        assert_eq!(map.refs["linux/amd64"].id, "r1");
        assert_eq!(map.refs["linux/arm/v7"].id, "r2");
        assert_eq!(
            out.metadata["containerimage.config/linux/amd64"],
            br#"{"id":"r1"}"#
        );
        assert_eq!(
            out.metadata["containerimage.config/linux/arm/v7"],
            br#"{"id":"r2"}"#
        );
        assert!(out.metadata.contains_key("source.date.epoch/linux/amd64"));
        assert!(!out.metadata.contains_key(IMAGE_CONFIG_KEY));
        assert_eq!(
            String::from_utf8(out.metadata[PLATFORMS_KEY].clone()).unwrap(),
            concat!(
                r#"{"platforms":[{"id":"linux/arm/v7","platform":{"architecture":"arm","os":"linux","variant":"v7"}},"#,
                r#"{"id":"linux/amd64","platform":{"architecture":"amd64","os":"linux"}}]}"#
            )
        );
        assert_eq!(
            ImageResults::new(true).finish().unwrap_err(),
            ResultError::Empty
        );
    }
}
