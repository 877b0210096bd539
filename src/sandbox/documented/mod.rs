//! Exact Online's documented properties per endpoint, so that the sandbox accepts and answers
//! every field a client written against the real Exact may `$select` (issue #14 item 1).
//!
//! The list is `fields.tsv`, extracted by `extract.py` from the public `picqer/exact-php-client`
//! models, which copy Exact's REST API reference one class per entity. The books generate the
//! fields Ledgerline and the tests need; a documented field they do not generate is answered as
//! `null` (or, for a navigation collection, as a `__deferred` link), as Exact answers a field
//! with no value. A field in neither keeps Exact's 400 "Property 'X' does not exist."

use std::collections::HashMap;
use std::sync::LazyLock;

/// One documented property of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentedField {
    /// Exact's name, e.g. `InvoiceDate`.
    pub name: &'static str,
    /// A navigation collection (`SalesInvoiceLine[]` in the reference): answered as a deferred
    /// link rather than a value.
    pub collection: bool,
}

static FIELDS_TSV: &str = include_str!("fields.tsv");

static BY_ENDPOINT: LazyLock<HashMap<&'static str, Vec<DocumentedField>>> = LazyLock::new(|| {
    let mut by_endpoint: HashMap<&'static str, Vec<DocumentedField>> = HashMap::new();
    for line in FIELDS_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut cells = line.split('\t');
        let (Some(endpoint), Some(name), Some(php_type)) =
            (cells.next(), cells.next(), cells.next())
        else {
            continue;
        };
        by_endpoint
            .entry(endpoint)
            .or_default()
            .push(DocumentedField {
                name,
                collection: php_type.ends_with("[]"),
            });
    }
    by_endpoint
});

/// The documented properties of an endpoint (its path after `/api/v1/{division}/`, in Exact's
/// spelling), in the reference's order; empty for an endpoint the list does not cover.
pub fn fields(endpoint: &str) -> &'static [DocumentedField] {
    BY_ENDPOINT.get(endpoint).map_or(&[], Vec::as_slice)
}

/// Whether `name` is a documented property of `endpoint`.
pub fn is_documented(endpoint: &str, name: &str) -> bool {
    fields(endpoint).iter().any(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::entities::ENDPOINTS;

    #[test]
    fn every_served_endpoint_has_its_documented_fields() {
        for endpoint in ENDPOINTS {
            assert!(
                !fields(endpoint.path).is_empty(),
                "{} has no documented fields in fields.tsv",
                endpoint.path
            );
        }
        assert!(fields("crm/Accounts").len() > 100);
        assert!(is_documented("salesinvoice/SalesInvoices", "IncotermCode"));
        assert!(!is_documented("salesinvoice/SalesInvoices", "NoSuchField"));
        let lines = fields("salesinvoice/SalesInvoices")
            .iter()
            .find(|f| f.name == "SalesInvoiceLines");
        assert_eq!(lines.map(|f| f.collection), Some(true));
    }
}
