//! What the checks report: one [`Violation`] per way an exchange departs from the spec.

use bridge_sim::common::Vendor;

/// Which part of an exchange a [`Violation`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Method + path is not an operation of the spec (nor allow-listed).
    UnknownOperation,
    /// A path parameter does not match its declared type.
    PathParameter,
    /// A required request header is missing or wrong.
    RequestHeader,
    /// The request body does not match the request schema (or is missing / not documented).
    RequestBody,
    /// The response body does not match the schema of its status.
    ResponseBody,
    /// A modelled response used a status the operation does not document.
    UndocumentedStatus,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::UnknownOperation => "unknown operation",
            Part::PathParameter => "path parameter",
            Part::RequestHeader => "request header",
            Part::RequestBody => "request body",
            Part::ResponseBody => "response body",
            Part::UndocumentedStatus => "undocumented status",
        })
    }
}

/// One way an exchange departs from the official spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Vendor.
    pub vendor: Vendor,
    /// HTTP method of the exchange.
    pub method: String,
    /// Path of the exchange, as recorded.
    pub path: String,
    /// Status of the exchange.
    pub status: u16,
    /// The spec path template it matched, if any.
    pub operation: Option<String>,
    /// Which part is wrong.
    pub part: Part,
    /// JSON pointer into the body (or the header / parameter name); empty for the whole thing.
    pub pointer: String,
    /// What is wrong (the schema error).
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {} {} -> {} [{}]", self.vendor, self.method, self.path, self.status, self.part)?;
        if let Some(op) = &self.operation {
            write!(f, " (spec: {op})")?;
        }
        let pointer = if self.pointer.is_empty() { "<root>" } else { &self.pointer };
        write!(f, " at {pointer}: {}", self.message)
    }
}
