//! Every ref between data types resolves, NL and UK: an invoice's or credit note's
//! `customerRef.id` is a customer's id, a bill's `supplierRef.id` a supplier's, every line's
//! `accountRef.id` an account's, and a journal entry's `recordRef`/`contactRef` the record of the
//! data type it names. Refs to what Ledgerline does not serve (tax rates, items, tracking
//! categories, journals) are left alone.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::all_records;
use super::world::{NL_APP, UK_APP, World};
use ledgerline::model::{DATASETS, DataType};

/// The data type a ref points at: by the ref's name, or by its own `dataType` (Codat's key).
fn target(name: &str, reference: &serde_json::Map<String, Value>) -> Option<&'static str> {
    let by_key = |key: &str| DataType::from_key(key).map(|d| d.spec().path);
    match name {
        "customerRef" => Some("customers"),
        "supplierRef" => Some("suppliers"),
        "accountRef" => Some("accounts"),
        "recordRef" | "contactRef" => reference
            .get("dataType")
            .and_then(Value::as_str)
            .and_then(by_key),
        _ => None,
    }
}

/// Walks a record, calling `found(ref name, target path, id)` for every ref it can place.
fn refs(value: &Value, found: &mut impl FnMut(&str, &'static str, &str)) {
    match value {
        Value::Object(fields) => {
            for (name, inner) in fields {
                if let Value::Object(reference) = inner {
                    if let (Some(path), Some(id)) = (
                        target(name, reference),
                        reference.get("id").and_then(Value::as_str),
                    ) {
                        found(name, path, id);
                    }
                }
                refs(inner, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_ref_between_data_types_resolves_nl_and_uk() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    world.configure("exact-online-uk", UK_APP, true).await;
    for (name, key, division) in [
        ("Refs BV", "exact-online-nl", "101001"),
        ("Refs Ltd", "exact-online-uk", "201001"),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let mut records = BTreeMap::new();
        for spec in DATASETS.iter().filter(|s| s.id_param.is_some()) {
            records.insert(
                spec.path,
                all_records(&world, &company, spec.path, 2000).await,
            );
        }
        let ids: BTreeMap<&str, HashSet<String>> = records
            .iter()
            .map(|(path, all)| {
                let ids = all
                    .iter()
                    .filter_map(|r| r["id"].as_str())
                    .map(String::from);
                (*path, ids.collect())
            })
            .collect();
        let mut checked: BTreeMap<(String, &str), usize> = BTreeMap::new();
        let mut dangling = vec![];
        for (path, all) in &records {
            for record in all {
                refs(record, &mut |name, target, id| {
                    *checked
                        .entry((format!("{path}.{name}"), target))
                        .or_default() += 1;
                    if !ids[target].contains(id) {
                        dangling.push(format!("{path} {}: {name} → {target} {id}", record["id"]));
                    }
                });
            }
        }
        assert!(
            dangling.is_empty(),
            "{name}: {} refs do not resolve, e.g. {:?}",
            dangling.len(),
            &dangling[..dangling.len().min(5)]
        );
        // The refs the common model promises were all there to check.
        for (from, to) in [
            ("invoices.customerRef", "customers"),
            ("invoices.accountRef", "accounts"),
            ("creditNotes.customerRef", "customers"),
            ("bills.supplierRef", "suppliers"),
            ("bills.accountRef", "accounts"),
            ("journalEntries.accountRef", "accounts"),
            ("journalEntries.recordRef", "invoices"),
            ("journalEntries.recordRef", "bills"),
        ] {
            assert!(
                checked.get(&(from.to_string(), to)).copied().unwrap_or(0) > 0,
                "{name}: no {from} → {to} checked; checked {checked:?}"
            );
        }
    }
}
