//! The query language and orderBy against invoice-shaped records.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::{MAX_QUERY_LENGTH, OrderBy, Query, QueryError};

/// The invoice's real query paths, so the tests meet the same rules the API applies.
const PATHS: &[&str] = crate::model::Invoice::QUERY_PATHS;

fn known(path: &str) -> bool {
    PATHS.contains(&path)
}

fn parse(text: &str) -> Query {
    Query::parse(text, &known).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn error(text: &str) -> String {
    match Query::parse(text, &known) {
        Ok(query) => panic!("{text} parsed as {query:?}"),
        Err(e) => e.to_string(),
    }
}

fn invoices() -> Vec<Value> {
    vec![
        json!({"id": "1", "invoiceNumber": "INV-001", "status": "Paid", "totalAmount": 100.10,
               "amountDue": 0, "currency": "EUR", "currencyRate": 1,
               "issueDate": "2025-01-15T00:00:00", "dueDate": "2025-02-14T00:00:00",
               "customerRef": {"id": "61", "companyName": "Acme Ltd"},
               "metadata": {"isDeleted": false}, "note": "Thanks, Ünal!",
               "lineItems": [{"unitAmount": 700}]}),
        json!({"id": "2", "invoiceNumber": "INV-002", "status": "Submitted", "totalAmount": 250,
               "amountDue": 250, "currency": "GBP", "currencyRate": 1.1734,
               "issueDate": "2025-01-15T13:04:02", "dueDate": null,
               "customerRef": {"id": "62", "companyName": "Brick & Mortar"},
               "metadata": {"isDeleted": null}}),
        json!({"id": "3", "invoiceNumber": "inv-003", "status": "PartiallyPaid",
               "totalAmount": 49.99, "amountDue": 10.5, "currency": "EUR",
               "issueDate": "2024-12-31T23:30:00-02:00", "dueDate": "2025-01-31",
               "customerRef": {"id": "61"}, "metadata": {"isDeleted": true}}),
        json!({"id": "4", "status": "Void", "totalAmount": -5, "amountDue": 0,
               "issueDate": "2025-03-01T08:00:00Z", "customerRef": {"id": "70"}}),
    ]
}

/// The ids of the invoices the query keeps.
fn ids(text: &str) -> Vec<String> {
    let query = parse(text);
    invoices()
        .iter()
        .filter(|invoice| query.matches(invoice))
        .map(|invoice| invoice["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn blank_queries_keep_everything() {
    for text in ["", "   ", "\t\n"] {
        let query = parse(text);
        assert!(query.is_empty());
        assert!(invoices().iter().all(|i| query.matches(i)));
    }
}

#[test]
fn equality_on_text_and_enums_ignores_case() {
    assert_eq!(ids("status=paid"), ["1"]);
    assert_eq!(ids("status = PAID"), ["1"]);
    assert_eq!(ids("invoiceNumber=INV-003"), ["3"]);
    assert_eq!(ids("customerRef.companyName='acme ltd'"), ["1"]);
    assert_eq!(ids("note=\"thanks, ünal!\""), ["1"]);
}

#[test]
fn not_equal_is_the_negation_of_equal_so_nulls_pass_it() {
    assert_eq!(ids("status != paid"), ["2", "3", "4"]);
    // Codat's idiom for hiding deleted records keeps null and missing isDeleted.
    assert_eq!(ids("metadata.isDeleted!=true"), ["1", "2", "4"]);
    assert_eq!(ids("dueDate != 2025-01-31"), ["1", "2", "4"]);
}

#[test]
fn null_and_missing_fields_match_no_comparison() {
    assert_eq!(ids("dueDate > 2000-01-01"), ["1", "3"]);
    assert_eq!(ids("dueDate < 2100-01-01"), ["1", "3"]);
    assert_eq!(ids("metadata.isDeleted=false"), ["1"]);
    assert_eq!(ids("customerRef.companyName~a"), ["1", "2"]);
    assert_eq!(ids("invoiceNumber=null"), Vec::<String>::new());
}

#[test]
fn contains_is_case_insensitive_and_for_text_only() {
    assert_eq!(ids("invoiceNumber~inv"), ["1", "2", "3"]);
    assert_eq!(ids("customerRef.companyName ~ 'BRICK &'"), ["2"]);
    assert_eq!(ids("note~ÜNAL"), ["1"]);
    assert_eq!(
        ids("totalAmount~100"),
        Vec::<String>::new(),
        "numbers do not contain"
    );
}

#[test]
fn numbers_compare_as_exact_decimals() {
    assert_eq!(ids("totalAmount=100.1"), ["1"]);
    assert_eq!(ids("totalAmount=100.10"), ["1"]);
    assert_eq!(ids("totalAmount = 100.100000"), ["1"]);
    assert_eq!(ids("totalAmount=100.1000001"), Vec::<String>::new());
    assert_eq!(ids("amountDue > 0"), ["2", "3"]);
    assert_eq!(ids("amountDue>0"), ["2", "3"]);
    assert_eq!(ids("amountDue>=10.5"), ["2", "3"]);
    assert_eq!(ids("amountDue<=10.5"), ["1", "3", "4"]);
    assert_eq!(ids("amountDue<10.5"), ["1", "4"]);
    assert_eq!(ids("totalAmount<0"), ["4"]);
    assert_eq!(ids("totalAmount>-5.01"), ["1", "2", "3", "4"]);
    assert_eq!(ids("currencyRate=1.1734"), ["2"]);
    assert_eq!(ids("totalAmount=abc"), Vec::<String>::new());
}

#[test]
fn numbers_kept_as_text_compare_as_text_and_as_numbers() {
    assert_eq!(ids("customerRef.id = 61"), ["1", "3"]);
    assert_eq!(ids("customerRef.id > 61"), ["2", "4"]);
}

#[test]
fn booleans_match_true_and_false() {
    assert_eq!(ids("metadata.isDeleted = true"), ["3"]);
    assert_eq!(ids("metadata.isDeleted = TRUE"), ["3"]);
    assert_eq!(ids("metadata.isDeleted = yes"), Vec::<String>::new());
}

#[test]
fn date_only_values_mean_midnight() {
    assert_eq!(ids("issueDate=2025-01-15"), ["1"]);
    assert_eq!(ids("issueDate>2025-01-15"), ["2", "4"]);
    assert_eq!(ids("issueDate>=2025-01-15"), ["1", "2", "4"]);
    assert_eq!(ids("issueDate<2025-01-15"), ["3"]);
    assert_eq!(
        ids("dueDate=2025-01-31"),
        ["3"],
        "a stored date-only value too"
    );
}

#[test]
fn timestamps_compare_chronologically_with_zones_in_utc() {
    assert_eq!(ids("issueDate = 2025-01-15T13:04:02"), ["2"]);
    assert_eq!(ids("issueDate = 2025-01-15T13:04:02.000"), ["2"]);
    assert_eq!(ids("issueDate = 2025-01-15T14:04:02+01:00"), ["2"]);
    assert_eq!(ids("issueDate > 2025-01-15T13:04:01.9999999Z"), ["2", "4"]);
    // 2024-12-31T23:30:00-02:00 is 2025-01-01T01:30:00 UTC.
    assert_eq!(ids("issueDate = 2025-01-01T01:30:00Z"), ["3"]);
    assert_eq!(ids("issueDate < 2025-01-01T01:30:01"), ["3"]);
    assert_eq!(ids("issueDate = 2025-03-01T08:00:00"), ["4"]);
}

#[test]
fn and_binds_tighter_than_or() {
    // status=paid || (currency=gbp && amountDue>0)
    assert_eq!(
        ids("status=paid || currency=gbp && amountDue>0"),
        ["1", "2"]
    );
    // (status=void && x) || currency=eur
    assert_eq!(
        ids("status=void && amountDue>0 || currency=eur"),
        ["1", "3"]
    );
    assert_eq!(
        ids("currency=eur && amountDue>0 || status=void"),
        ["3", "4"]
    );
}

#[test]
fn braces_group() {
    assert_eq!(
        ids("{totalAmount > 100 || totalAmount < 50} && status != paid"),
        ["2", "3", "4"]
    );
    assert_eq!(
        ids("status=void && {amountDue>0 || currency=eur}"),
        Vec::<String>::new()
    );
    assert_eq!(ids("{{status=paid}}"), ["1"]);
    assert_eq!(ids("{status=paid}||{status=void}"), ["1", "4"]);
    assert_eq!(
        ids("{ customerRef.id = 61 && { status = paid || amountDue >= 10 } }"),
        ["1", "3"]
    );
}

#[test]
fn quoted_values_keep_spaces_and_escapes() {
    assert_eq!(ids("customerRef.companyName = \"Acme Ltd\""), ["1"]);
    assert_eq!(
        ids("customerRef.companyName = 'Brick & Mortar' && status=submitted"),
        ["2"]
    );
    let query = parse(r"note = 'O\'Brien'");
    assert!(query.matches(&json!({"note": "o'brien"})));
}

#[test]
fn unquoted_values_may_hold_operator_characters() {
    let query = parse("note=a=b&c");
    assert!(query.matches(&json!({"note": "A=B&C"})));
    let query = parse("id=81be41e9-b2b2-4b7a-a8f5-0b5e3b0c8f7a");
    assert!(query.matches(&json!({"id": "81BE41E9-B2B2-4B7A-A8F5-0B5E3B0C8F7A"})));
}

fn assert_malformed(text: &str, detail: &str) {
    let message = error(text);
    assert!(
        message.starts_with("Error parsing query - Malformed query. "),
        "{text}: {message}"
    );
    assert!(message.contains(detail), "{text}: {message}");
}

#[test]
fn malformed_queries_say_where_and_what_was_expected() {
    assert_malformed("status", "At character 7: expected an operator");
    assert_malformed("status paid", "At character 8: expected an operator");
    assert_malformed(
        "status ==paid",
        "At character 9: expected a value after '='",
    );
    assert_malformed("status=", "expected a value after '=' but the query ended");
    assert_malformed(
        "status= && amountDue>0",
        "expected a value after '=' but found '&&",
    );
    assert_malformed(
        "status=paid &&",
        "At character 15: expected a property name",
    );
    assert_malformed(
        "status=paid && || x=1",
        "expected a property name but found '||",
    );
    assert_malformed("status=paid & amountDue>0", "expected '&&' but found '&'");
    assert_malformed("status=paid | amountDue>0", "expected '||' but found '|'");
    assert_malformed(
        "status=paid amountDue>0",
        "expected && or || but found 'amountDue>0'",
    );
    assert_malformed(
        "customerRef.companyName=Acme Ltd",
        "quote values that contain spaces",
    );
    assert_malformed("{status=paid", "The '{' at character 1 is never closed");
    assert_malformed("status=paid}", "found '}' without a matching '{'");
    assert_malformed("{}", "expected a property name but found '}'");
    assert_malformed("{status=paid amountDue>0}", "expected && or || or '}'");
    assert_malformed("note='open", "The ' at character 6 is never closed");
    assert_malformed(
        "=paid",
        "At character 1: expected a property name but found '=paid'",
    );
    assert_malformed(
        "customerRef..id=1",
        "'customerRef..id' at character 1 has an empty part",
    );
    assert_malformed("status-x=1", "expected an operator");
}

#[test]
fn ordering_operators_take_numbers_and_dates_only() {
    assert_malformed(
        "status > paid",
        "'>' compares numbers and dates (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS) only; 'paid' at \
         character 10 is neither",
    );
    assert_malformed(
        "issueDate >= 2025-02-30",
        "'2025-02-30' at character 14 is neither",
    );
    assert_malformed("metadata.isDeleted < true", "is neither");
}

#[test]
fn the_length_limit_is_codats() {
    let long = format!("note='{}'", "x".repeat(MAX_QUERY_LENGTH - 7));
    assert_eq!(long.len(), MAX_QUERY_LENGTH);
    assert_malformed(&long, "it must be shorter than 2048");
    let fits = format!("note='{}'", "x".repeat(MAX_QUERY_LENGTH - 8));
    assert!(Query::parse(&fits, &known).is_ok());
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}status=paid{}", "{".repeat(40), "}".repeat(40));
    assert_malformed(&deep, "braces nest deeper than 32 levels");
    let fine = format!("{}status=paid{}", "{".repeat(32), "}".repeat(32));
    assert_eq!(ids(&fine), ["1"]);
}

#[test]
fn unknown_properties_and_paths_through_arrays_are_refused_in_codats_words() {
    assert_eq!(
        error("isCompleted=true"),
        "Error parsing query - Could not resolve property isCompleted on Dataset"
    );
    let err = Query::parse("lineItems.unitAmount=700", &known).unwrap_err();
    assert_eq!(
        err.on("Invoice").to_string(),
        "Error parsing query - Could not resolve property lineItems.unitAmount on Invoice"
    );
    // Property names are case-sensitive, as Codat's model is.
    assert_eq!(
        error("Status=paid"),
        "Error parsing query - Could not resolve property Status on Dataset"
    );
    // An object is not a property to compare.
    assert!(error("customerRef=61").contains("Could not resolve property customerRef"));
}

#[test]
fn naming_the_dataset_leaves_malformed_errors_alone() {
    let err = Query::parse("status", &known).unwrap_err();
    assert_eq!(err.clone().on("Invoice"), err);
    assert!(matches!(err, QueryError::Malformed(_)));
}

// orderBy

fn sorted(text: &str) -> Vec<String> {
    let order = OrderBy::parse(text, &known).unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut records = invoices();
    // Stable, as the list endpoint sorts: ties keep id order.
    records.sort_by(|a, b| order.compare(a, b));
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn order_by_numbers_is_numeric() {
    assert_eq!(sorted("totalAmount"), ["4", "3", "1", "2"]);
    assert_eq!(sorted("-totalAmount"), ["2", "1", "3", "4"]);
    assert_eq!(sorted(" -amountDue "), ["2", "3", "1", "4"]);
}

#[test]
fn order_by_dates_is_chronological_across_zones() {
    // 3 is 2025-01-01T01:30Z; 1 and 2 are on 2025-01-15; 4 in March.
    assert_eq!(sorted("issueDate"), ["3", "1", "2", "4"]);
    assert_eq!(sorted("-issueDate"), ["4", "2", "1", "3"]);
}

#[test]
fn order_by_puts_nulls_and_missing_last_both_ways() {
    // dueDate: 1 = 2025-02-14, 2 = null, 3 = 2025-01-31, 4 missing.
    assert_eq!(sorted("dueDate"), ["3", "1", "2", "4"]);
    assert_eq!(sorted("-dueDate"), ["1", "3", "2", "4"]);
}

#[test]
fn order_by_text_ignores_case_and_follows_sub_properties() {
    assert_eq!(sorted("invoiceNumber"), ["1", "2", "3", "4"]);
    assert_eq!(sorted("-invoiceNumber"), ["3", "2", "1", "4"]);
    assert_eq!(sorted("customerRef.companyName"), ["1", "2", "3", "4"]);
    assert_eq!(sorted("-customerRef.companyName"), ["2", "1", "3", "4"]);
}

#[test]
fn order_by_several_fields_breaks_ties_in_turn() {
    assert_eq!(sorted("currency,-totalAmount"), ["1", "3", "2", "4"]);
    assert_eq!(sorted("customerRef.id, -issueDate"), ["1", "3", "2", "4"]);
}

#[test]
fn order_by_compare_and_keys_agree() {
    let order = OrderBy::parse("-amountDue", &known).unwrap();
    let records = invoices();
    assert_eq!(order.compare(&records[1], &records[2]), Ordering::Less);
    assert_eq!(order.compare(&records[0], &records[3]), Ordering::Equal);
    assert!(order.sort_key(&records[1]) < order.sort_key(&records[2]));
}

#[test]
fn order_by_decimals_is_exact() {
    let order = OrderBy::parse("totalAmount", &known).unwrap();
    let a = json!({"totalAmount": 0.3});
    let b = json!({"totalAmount": 0.30});
    let c = json!({"totalAmount": 0.30000000000000004});
    assert_eq!(order.compare(&a, &b), Ordering::Equal);
    assert_eq!(order.compare(&a, &c), Ordering::Less);
}

#[test]
fn order_by_errors_name_the_field() {
    let blank = OrderBy::parse("  ", &known).unwrap();
    assert!(blank.is_empty());
    assert_eq!(
        OrderBy::parse("-lineItems.unitAmount", &known)
            .unwrap_err()
            .on("Invoice")
            .to_string(),
        "Error parsing query - Could not resolve property lineItems.unitAmount on Invoice"
    );
    for (text, detail) in [
        ("-", "Expected a property name in orderBy '-'"),
        ("issueDate desc", "found ' ' in orderBy 'issueDate desc'"),
        (
            "issueDate,",
            "Expected a property name in orderBy 'issueDate,'",
        ),
        ("--issueDate", "found '-'"),
        ("customerRef.", "has an empty part"),
    ] {
        let message = OrderBy::parse(text, &known).unwrap_err().to_string();
        assert!(
            message.starts_with("Error parsing query - Malformed query. "),
            "{message}"
        );
        assert!(message.contains(detail), "{text}: {message}");
    }
}
