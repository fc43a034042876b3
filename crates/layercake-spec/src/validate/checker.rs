//! The checker that walks the spanned tree, and how it reports a problem at a node.

use crate::error::{ErrorKind, SpecError};
use crate::location::Location;
use crate::yaml::Node;

use super::context::Ctx;

/// Walks the spanned YAML tree, collecting every problem found.
pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    pub(super) errors: Vec<SpecError>,
}

impl Checker<'_> {
    pub(super) fn report(&mut self, node: &Node, kind: ErrorKind) {
        let error = self.at(node, kind);
        self.errors.push(error);
    }

    pub(super) fn report_help(&mut self, node: &Node, kind: ErrorKind, help: impl Into<String>) {
        let error = self.at(node, kind).with_help(help);
        self.errors.push(error);
    }

    pub(super) fn at(&self, node: &Node, kind: ErrorKind) -> SpecError {
        SpecError::new(self.file, Some(node.location), kind).with_snippet(self.text, node.width)
    }

    pub(super) fn at_location(&self, location: Location, kind: ErrorKind) -> SpecError {
        SpecError::new(self.file, Some(location), kind).with_snippet(self.text, 1)
    }

    pub(super) fn wrong_type(&mut self, node: &Node, key: &str, ctx: &Ctx, expected: &'static str) {
        self.report(
            node,
            ErrorKind::WrongType {
                key: key.to_owned(),
                context: ctx.describe(),
                expected,
                found: node.kind_name(),
            },
        );
    }

    pub(super) fn invalid(&mut self, node: &Node, key: &str, ctx: &Ctx, reason: impl Into<String>) {
        self.report(
            node,
            ErrorKind::InvalidValue {
                key: key.to_owned(),
                context: ctx.describe(),
                reason: reason.into(),
            },
        );
    }

    pub(super) fn missing(&mut self, node: &Node, key: &str, ctx: &Ctx, help: &str) {
        self.report_help(
            node,
            ErrorKind::MissingKey {
                key: key.to_owned(),
                context: ctx.describe(),
            },
            format!("add `{key}`, {help}"),
        );
    }
}
