//! `${...}` in the values that take build args: well formed, and naming declared args.

use crate::error::{ErrorKind, SpecError};
use crate::interpolate::{Piece, pieces};
use crate::location::Location;
use crate::model::Spec;

use super::checker::Checker;
use super::suggest::closest;

impl Checker<'_> {
    pub(super) fn check_interpolation(&mut self, spec: &Spec) {
        let mut spec = spec.clone();
        let declared = spec.args.clone();
        let mut found = Vec::new();
        crate::resolve::for_each_interpolated(&mut spec, &mut |value, context| {
            match pieces(&value.value) {
                Err(reason) => {
                    // Underline from the bad `${` to the end of its line.
                    let needle = value.value.find("${").map_or_else(String::new, |i| {
                        value.value[i..]
                            .chars()
                            .take_while(|c| *c != '\n')
                            .collect()
                    });
                    let kind = ErrorKind::Interpolation {
                        context: context.to_owned(),
                        reason,
                    };
                    found.push((value.location, kind, needle));
                }
                Ok(pieces) => {
                    for piece in pieces {
                        let Piece::Arg {
                            name,
                            default: None,
                        } = piece
                        else {
                            continue;
                        };
                        if declared.contains_key(name) {
                            continue;
                        }
                        let kind = ErrorKind::UndeclaredArg {
                            name: name.to_owned(),
                            context: context.to_owned(),
                            suggestion: closest(name, declared.keys().map(String::as_str)),
                        };
                        found.push((value.location, kind, format!("${{{name}}}")));
                    }
                }
            }
        });
        let mut seen = std::collections::BTreeSet::new();
        for (location, kind, needle) in found {
            // A defaulted `builder_image` is a copy of `image`: report the place once.
            if !seen.insert((location, needle.clone())) {
                continue;
            }
            let undeclared = matches!(kind, ErrorKind::UndeclaredArg { .. });
            let (location, width) = self.find_in_line(location, &needle);
            let mut error =
                SpecError::new(self.file, Some(location), kind).with_snippet(self.text, width);
            if undeclared {
                error = error
                    .with_help("declare it under `args:`, or give a default: `${NAME:-default}`");
            }
            self.errors.push(error);
        }
    }

    /// Narrows a value's location to where `needle` sits in its line (when it is on that line),
    /// and how wide it is; otherwise the value's start.
    fn find_in_line(&self, location: Location, needle: &str) -> (Location, usize) {
        let index = usize::try_from(location.line.saturating_sub(1)).unwrap_or(usize::MAX);
        let start = usize::try_from(location.column.saturating_sub(1)).unwrap_or(0);
        let found = self.text.lines().nth(index).and_then(|line| {
            let chars: Vec<char> = line.chars().collect();
            let rest: String = chars.get(start..)?.iter().collect();
            let at = rest.find(needle).filter(|_| !needle.is_empty())?;
            let column = start + rest[..at].chars().count() + 1;
            Some((u32::try_from(column).ok()?, needle.chars().count()))
        });
        match found {
            Some((column, width)) => (Location::new(location.line, column), width),
            None => (location, 1),
        }
    }
}
