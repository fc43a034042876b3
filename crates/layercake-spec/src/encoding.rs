//! Spec bytes → text. BuildKit hands the frontend raw bytes; a lossy conversion would turn a
//! spec saved in the wrong encoding into a confusing YAML error (or, worse, a valid spec with
//! replacement characters in it), so the encoding is checked here, with a position.

use crate::error::{ErrorKind, SpecError, SpecErrors};
use crate::location::Location;
use crate::model::Spec;
use crate::validate::{MAX_SPEC_BYTES, parse};

/// Parses a spec given as bytes: the size limit first, then the encoding (UTF-8, an optional
/// UTF-8 byte-order mark is dropped), then [`parse`].
pub fn parse_bytes(file_name: &str, bytes: &[u8]) -> Result<Spec, SpecErrors> {
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(SpecError::new(
            file_name,
            None,
            ErrorKind::TooLarge {
                size: bytes.len(),
                limit: MAX_SPEC_BYTES,
            },
        )
        .with_help("a layercake spec is a few dozen lines; is this the right file?")
        .into());
    }
    if let Some(encoding) = utf16_or_32(bytes) {
        return Err(SpecError::new(
            file_name,
            Some(Location::new(1, 1)),
            ErrorKind::Encoding {
                reason: format!("the file is {encoding} (it starts with a byte-order mark)"),
            },
        )
        .with_help("save the spec as UTF-8")
        .into());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(file_name, text),
        Err(error) => {
            let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
            let location = position_after(valid);
            let bad = bytes
                .get(error.valid_up_to())
                .map_or_else(String::new, |byte| format!(" (byte 0x{byte:02x})"));
            Err(SpecError::new(
                file_name,
                Some(location),
                ErrorKind::Encoding {
                    reason: format!("the file is not valid UTF-8{bad}"),
                },
            )
            .with_help("save the spec as UTF-8")
            .with_snippet(&String::from_utf8_lossy(bytes), 1)
            .into())
        }
    }
}

/// UTF-16 and UTF-32 byte-order marks (UTF-32 LE first: it starts like UTF-16 LE).
fn utf16_or_32(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        Some("UTF-32")
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        Some("UTF-16")
    } else {
        None
    }
}

/// The 1-based line and column (in characters) just after `valid`, which is valid UTF-8.
fn position_after(valid: &[u8]) -> Location {
    let text = std::str::from_utf8(valid).unwrap_or_default();
    let line = text.matches('\n').count().saturating_add(1);
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    let column = last_line.chars().count().saturating_add(1);
    Location::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}
