//! The search query language of `POST /contacts/search` and `POST /conversations/search`.

use serde_json::{Value, json};

/// A search query: one filter, or an AND/OR group (at most two levels, 15 filters a group).
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `{field, operator, value}`.
    Filter {
        /// Field name (`email`, `updated_at`, `custom_attributes.x`, `conversation_rating.score`…).
        field: String,
        /// `=`, `!=`, `IN`, `NIN`, `>`, `<`, `>=`, `<=`, `~`, `!~`, `^`, `$`.
        operator: String,
        /// Value of the field's type (timestamps as Unix seconds).
        value: Value,
    },
    /// All must match.
    And(Vec<Query>),
    /// Any may match.
    Or(Vec<Query>),
}

impl Query {
    /// A filter with any operator.
    pub fn filter(field: impl Into<String>, operator: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Filter { field: field.into(), operator: operator.into(), value: value.into() }
    }
    /// `field = value`.
    pub fn eq(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::filter(field, "=", value)
    }
    /// `field > value`.
    pub fn gt(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::filter(field, ">", value)
    }
    /// `field < value`.
    pub fn lt(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::filter(field, "<", value)
    }
    /// The JSON form sent as `query`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Filter { field, operator, value } => json!({"field": field, "operator": operator, "value": value}),
            Self::And(qs) => {
                json!({"operator": "AND", "value": qs.iter().map(Self::to_json).collect::<Vec<_>>()})
            }
            Self::Or(qs) => {
                json!({"operator": "OR", "value": qs.iter().map(Self::to_json).collect::<Vec<_>>()})
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_groups() {
        let q = Query::And(vec![Query::gt("updated_at", 1_700_000_000), Query::eq("state", "closed")]);
        assert_eq!(
            q.to_json(),
            json!({"operator": "AND", "value": [
                {"field": "updated_at", "operator": ">", "value": 1_700_000_000},
                {"field": "state", "operator": "=", "value": "closed"}
            ]})
        );
    }
}
