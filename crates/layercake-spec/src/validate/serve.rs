//! `serve:` and its `nginx:`.

use crate::keys;
use crate::location::Spanned;
use crate::model::{DEFAULT_NGINX_IMAGE, NginxServe, Serve};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    pub(super) fn serve(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<Serve> {
        let ctx = service.child("serve");
        let fields = self.fields(node, "serve", service, &ctx, Some(&keys::SERVE), &|_| {
            Some("`serve` has one server today: `nginx:`".to_owned())
        })?;
        let Some(nginx) = fields.get("nginx") else {
            self.missing(node, "nginx", &ctx, "like `serve: { nginx: {} }`");
            return None;
        };
        let owner = fields.key("nginx").map_or(node.location, |k| k.location);
        let nginx_ctx = ctx.child("nginx");
        // `nginx:` alone (null) means all defaults.
        let empty = Node {
            location: nginx.location,
            width: 1,
            raw: None,
            value: Value::Map(Vec::new()),
        };
        let nginx_node = if matches!(nginx.value, Value::Null) {
            &empty
        } else {
            nginx
        };
        let fields = self.fields(
            nginx_node,
            "nginx",
            &ctx,
            &nginx_ctx,
            Some(&keys::NGINX),
            &|_| None,
        )?;
        let image = match fields.get("image") {
            Some(n) => self.image(n, "image", &nginx_ctx),
            None => Some(Spanned::new(DEFAULT_NGINX_IMAGE.to_owned(), owner)),
        };
        let spa = fields
            .get("spa")
            .and_then(|n| self.bool(n, "spa", &nginx_ctx))
            .unwrap_or(true);
        let config = fields
            .get("config")
            .and_then(|n| self.relative_path(n, "config", &nginx_ctx, base));
        Some(Serve::Nginx(NginxServe {
            image: image?,
            spa,
            config,
        }))
    }
}
