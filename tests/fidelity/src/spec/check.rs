//! Checking one recorded exchange against the spec.

use bridge_sim::Exchange;
use bridge_sim::common::Vendor;

use super::Spec;
use crate::operations::{is_integer, normalize_path, path_params};
use crate::schema::validate;
use crate::{ALLOW_LIST, Part, Violation, WELL_KNOWN_ERROR_STATUSES};

impl Spec {
    /// Checks one exchange; an empty vector means it conforms.
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        let mut out = Vec::new();
        let violation = |part: Part, operation: Option<&str>, pointer: String, message: String| Violation {
            vendor: exchange.vendor,
            method: exchange.method.clone(),
            path: exchange.path.clone(),
            status: exchange.status,
            operation: operation.map(str::to_owned),
            part,
            pointer,
            message,
        };
        if exchange.vendor != self.inner.vendor {
            out.push(violation(
                Part::UnknownOperation,
                None,
                String::new(),
                format!("exchange is for {:?} but this is the {:?} spec", exchange.vendor, self.inner.vendor),
            ));
            return out;
        }

        // Headers.
        let header =
            |name: &str| exchange.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
        if self.inner.vendor == Vendor::Intercom && header("intercom-version").is_none_or(str::is_empty) {
            out.push(violation(
                Part::RequestHeader,
                None,
                "intercom-version".into(),
                format!("missing `Intercom-Version` header (spec version {})", self.inner.version),
            ));
        }
        if exchange.request_body.is_some() {
            let ok = header("content-type")
                .is_some_and(|ct| ct.to_ascii_lowercase().split(';').next().map(str::trim) == Some("application/json"));
            if !ok {
                out.push(violation(
                    Part::RequestHeader,
                    None,
                    "content-type".into(),
                    format!(
                        "a request body was sent with content-type {:?}, expected application/json",
                        header("content-type")
                    ),
                ));
            }
        }

        // Operation.
        let path = normalize_path(self.inner.vendor, &exchange.path);
        if ALLOW_LIST
            .iter()
            .any(|a| a.vendor == self.inner.vendor && (path == a.prefix || path.starts_with(&format!("{}/", a.prefix))))
        {
            return out;
        }
        let method = exchange.method.to_ascii_uppercase();
        let (index, op) = match self.find_operation(&method, &path) {
            Ok(found) => found,
            Err(message) => {
                out.push(violation(Part::UnknownOperation, None, String::new(), message));
                return out;
            }
        };
        let template = Some(op.template.as_str());

        // Path parameters.
        for (name, value) in path_params(op, &path) {
            if op.integer_params.contains(&name) && !is_integer(&value) {
                out.push(violation(
                    Part::PathParameter,
                    template,
                    name.clone(),
                    format!("path parameter `{name}` is declared integer, got {value:?}"),
                ));
            }
        }

        // Request body.
        match (&op.request, &exchange.request_body) {
            (Some(schema), Some(body)) => {
                for (pointer, message) in validate(&self.validator(index, "request", schema), body) {
                    out.push(violation(Part::RequestBody, template, pointer, message));
                }
            }
            (Some(_), None) if op.request_required => {
                out.push(violation(Part::RequestBody, template, String::new(), "required request body missing".into()));
            }
            (None, Some(body)) if !body.is_null() => {
                out.push(violation(
                    Part::RequestBody,
                    template,
                    String::new(),
                    "a JSON body was sent but the operation documents no JSON request body".into(),
                ));
            }
            _ => {}
        }

        // Response.
        if !exchange.modelled {
            return out;
        }
        let status = exchange.status;
        let documented = op
            .responses
            .iter()
            .find(|(code, _)| code == &status.to_string())
            .or_else(|| {
                let range = format!("{}XX", status / 100);
                op.responses.iter().find(|(code, _)| code.eq_ignore_ascii_case(&range))
            })
            .or_else(|| op.responses.iter().find(|(code, _)| code == "default"));
        match documented {
            Some((code, Some(schema))) => {
                let slot = format!("response {code}");
                match &exchange.response_body {
                    Some(body) => {
                        for (pointer, message) in validate(&self.validator(index, &slot, schema), body) {
                            out.push(violation(Part::ResponseBody, template, pointer, message));
                        }
                    }
                    None => out.push(violation(
                        Part::ResponseBody,
                        template,
                        String::new(),
                        format!("status {code} documents a JSON body but the response had none"),
                    )),
                }
            }
            // Documented without a JSON schema (e.g. 204): nothing to validate.
            Some((_, None)) => {}
            None if WELL_KNOWN_ERROR_STATUSES.contains(&status) || (500..600).contains(&status) => {
                if let Some(body) = &exchange.response_body {
                    for (pointer, message) in validate(&self.inner.loose_error, body) {
                        out.push(violation(
                            Part::ResponseBody,
                            template,
                            pointer,
                            format!(
                                "undocumented error status {status}, body not a {:?} error shape: {message}",
                                self.inner.vendor
                            ),
                        ));
                    }
                }
            }
            None => {
                let known: Vec<&str> = op.responses.iter().map(|(c, _)| c.as_str()).collect();
                out.push(violation(
                    Part::UndocumentedStatus,
                    template,
                    String::new(),
                    format!("status {status} is not documented (documented: {})", known.join(", ")),
                ));
            }
        }
        out
    }
}
