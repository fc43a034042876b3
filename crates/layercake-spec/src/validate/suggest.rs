//! "Did you mean": the likely intended name for a typo.

use crate::yaml::{Node, Value};

/// Whether `node` has a key that is a near miss for one of `wanted` (already reported as an
/// unknown key with a "did you mean"), so the missing key need not be reported too.
pub(super) fn misspelt(node: &Node, wanted: &[&str]) -> bool {
    let Value::Map(map) = &node.value else {
        return false;
    };
    map.iter().any(|(k, _)| match &k.value {
        Value::Str(key) => {
            !wanted.contains(&key.as_str()) && closest(key, wanted.iter().copied()).is_some()
        }
        _ => false,
    })
}

/// The most similar candidate, if any is close enough to be a likely typo.
pub(crate) fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<String> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("pyhton", keys::SERVICE.names()).as_deref(),
            Some("python")
        );
        assert_eq!(closest("zzz", keys::SERVICE.names()), None);
    }
}
