//! The error of a configuration file that cannot be used.
//!
//! It lives below [`crate::config`] and the job modules so that both can build it without
//! depending on each other: `config` for parse errors (with the line and column), each job
//! module for the checks of its own section ([`ConfigError::new`]).

use std::fmt;

/// A configuration file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the offending field (`escalation.rules[0].when`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// A problem with one field found after parsing (no line or column): `field` is its dotted
    /// path (`routing.rules[0].when`), `message` says what is wrong.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { line: None, column: None, field: field.into(), message: message.into() }
    }

    /// The same problem found at a place in the text (1-based line and column, when known).
    pub fn at(self, line: Option<usize>, column: Option<usize>) -> Self {
        Self { line, column, ..self }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if self.field.is_empty() || self.field == "." {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_location_and_the_field() {
        let e = ConfigError::new("routing.flag_tag", "must be one non-empty word");
        assert_eq!(e.to_string(), "routing.flag_tag: must be one non-empty word");
        let located = e.clone().at(Some(3), Some(7));
        assert_eq!(located.to_string(), "line 3, column 7: routing.flag_tag: must be one non-empty word");
        let whole_file = ConfigError::new(".", "bad").at(Some(1), None);
        assert_eq!(whole_file.to_string(), "line 1: bad");
    }
}
