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

/// The order of search results: the request body's `sort` (`{field, order}`). Documented for
/// contacts in the 2.16 OpenAPI file (`contact_search_request.sort`) and for every search in
/// Intercom's "Pagination & Sorting (Search)" guide; conversation search accepts it too although
/// the file's `search_request` omits it (intercom/Intercom-OpenAPI#114).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// Field to sort on (`updated_at`, `created_at`, …).
    pub field: String,
    /// `ascending` when true, else `descending` (Intercom's default).
    pub ascending: bool,
}

impl Sort {
    /// Oldest (smallest) first.
    pub fn ascending(field: impl Into<String>) -> Self {
        Self { field: field.into(), ascending: true }
    }
    /// Newest (largest) first.
    pub fn descending(field: impl Into<String>) -> Self {
        Self { field: field.into(), ascending: false }
    }
    /// The JSON form sent as `sort`.
    pub fn to_json(&self) -> Value {
        json!({"field": self.field, "order": if self.ascending { "ascending" } else { "descending" }})
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

    #[test]
    fn renders_sort() {
        assert_eq!(Sort::ascending("updated_at").to_json(), json!({"field": "updated_at", "order": "ascending"}));
        assert_eq!(Sort::descending("id").to_json(), json!({"field": "id", "order": "descending"}));
    }
}
