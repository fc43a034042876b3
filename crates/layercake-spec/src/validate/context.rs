//! Where in the spec a value sits, for messages.

/// Where in the spec a value sits, for messages: `in service `api``, `in `python` of service
/// `api``, `in `args``, `at the top level`.
#[derive(Clone, Default)]
pub(super) struct Ctx {
    service: Option<String>,
    path: Vec<String>,
}

impl Ctx {
    pub(super) fn child(&self, key: &str) -> Ctx {
        let mut path = self.path.clone();
        path.push(key.to_owned());
        Ctx {
            service: self.service.clone(),
            path,
        }
    }

    pub(super) fn service(name: &str) -> Ctx {
        Ctx {
            service: Some(name.to_owned()),
            path: Vec::new(),
        }
    }

    pub(super) fn describe(&self) -> String {
        let path = self.path.join(".");
        match (&self.service, path.is_empty()) {
            (None, true) => "at the top level".to_owned(),
            (None, false) => format!("in `{path}`"),
            (Some(service), true) => format!("in service `{service}`"),
            (Some(service), false) => format!("in `{path}` of service `{service}`"),
        }
    }
}
