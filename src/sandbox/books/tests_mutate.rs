//! Unit tests of the books mutations: rowversions, derived rows, payments and the deleted log.

use serde_json::{Map, Value, json};

use super::*;

fn one_nl() -> Books {
    let spec = DivisionSpec {
        code: 7,
        region: Region::Nl,
        description: "Mutations".into(),
        customers: 8,
        suppliers: 4,
        sales_invoices: 40,
        purchase_entries: 20,
        journal_entries: 4,
        extra_gl_accounts: 0,
        transaction_lines: None,
    };
    Books::generate(&BooksConfig {
        seed: 11,
        divisions: vec![spec],
    })
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn first(b: &Books, set: EntitySet) -> Record {
    b.table(7, set)
        .and_then(|t| t.iter_by_key(None).next())
        .cloned()
        .expect("a row")
}

fn customer(b: &Books) -> String {
    let t = b.table(7, EntitySet::Accounts).expect("accounts");
    let c = t
        .iter_by_key(None)
        .find(|a| a.fields["Status"] == "C" && a.fields["Country"] == "NL")
        .expect("a customer");
    c.fields["ID"].as_str().unwrap_or_default().to_owned()
}

fn rows_of_entry(b: &Books, entry: &str) -> Vec<Record> {
    let t = b.table(7, EntitySet::TransactionLines).expect("tl");
    t.iter_by_key(None)
        .filter(|r| r.fields["EntryID"] == entry)
        .cloned()
        .collect()
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap_or(f64::NAN) * 100.0).round() as i64
}

fn invoice_body(customer: &str, status: i32) -> Map<String, Value> {
    obj(json!({
        "InvoiceTo": customer,
        "InvoiceDate": "/Date(1780000000000)/",
        "Status": status,
        "Description": "Sandbox test",
        "SalesInvoiceLines": [
            {"Description": "Consultancy", "Quantity": 3, "UnitPrice": 100.0, "VATCode": "VH"},
            {"Description": "Books", "Quantity": 2, "UnitPrice": 10.5, "VATCode": "VL "},
        ],
    }))
}

#[test]
fn creating_a_processed_invoice_books_it() {
    let mut b = one_nl();
    let before = b.last_timestamp(7).expect("division");
    let key = b
        .create(7, EntitySet::SalesInvoices, invoice_body(&customer(&b), 50))
        .expect("created");
    let head = b
        .table(7, EntitySet::SalesInvoices)
        .and_then(|t| t.get(&key))
        .expect("header")
        .clone();
    // 300 + 63 VAT (21 %) + 21 + 1.89 VAT (9 %)
    assert_eq!(cents(&head.fields["AmountFC"]), 38589);
    assert_eq!(cents(&head.fields["AmountFCExclVat"]), 32100);
    assert!(head.timestamp > before);
    let entry = b
        .table(7, EntitySet::SalesEntries)
        .expect("t")
        .iter_by_timestamp(before)
        .next()
        .expect("entry")
        .clone();
    let tls = rows_of_entry(&b, entry.fields["EntryID"].as_str().unwrap_or_default());
    assert_eq!(tls.len(), 5, "receivable, two revenue lines, two VAT lines");
    assert_eq!(
        tls.iter()
            .map(|t| cents(&t.fields["AmountFC"]))
            .sum::<i64>(),
        0
    );
    let number = head.fields["InvoiceNumber"].clone();
    let recv = b
        .table(7, EntitySet::ReceivablesList)
        .expect("t")
        .iter_by_timestamp(before)
        .find(|r| r.fields["InvoiceNumber"] == number)
        .expect("receivable");
    assert_eq!(cents(&recv.fields["Amount"]), 38589);
    // A draft has no booking at all.
    let n_entries = b.table(7, EntitySet::SalesEntries).map_or(0, Table::len);
    b.create(7, EntitySet::SalesInvoices, invoice_body(&customer(&b), 10))
        .expect("draft");
    assert_eq!(
        b.table(7, EntitySet::SalesEntries).map_or(0, Table::len),
        n_entries
    );
}

#[test]
fn timestamps_rise_on_every_mutation_and_only_changed_rows_move() {
    let mut b = one_nl();
    let key = b
        .create(7, EntitySet::SalesInvoices, invoice_body(&customer(&b), 50))
        .expect("created");
    let mut last = b.last_timestamp(7).expect("ts");
    let account = first(&b, EntitySet::Accounts);
    b.update(
        7,
        EntitySet::Accounts,
        &account.key,
        obj(json!({"Phone": "+31 20 000 0000"})),
    )
    .expect("update");
    let after = b
        .table(7, EntitySet::Accounts)
        .and_then(|t| t.get(&account.key))
        .expect("row")
        .clone();
    assert!(after.timestamp > last && after.timestamp > account.timestamp);
    assert_eq!(after.fields["Created"], account.fields["Created"]);
    assert_ne!(after.fields["Modified"], account.fields["Modified"]);
    assert_eq!(
        b.table(7, EntitySet::Accounts)
            .map(|t| t.iter_by_timestamp(last).count()),
        Some(1)
    );
    last = b.last_timestamp(7).expect("ts");
    b.update(
        7,
        EntitySet::SalesInvoices,
        &key,
        obj(json!({"Description": "Renamed"})),
    )
    .expect("update");
    let changed = b
        .table(7, EntitySet::SalesInvoices)
        .map(|t| t.iter_by_timestamp(last).count());
    assert_eq!(changed, Some(1));
    assert!(b.last_timestamp(7) > Some(last));
    last = b.last_timestamp(7).expect("ts");
    b.record_payment(7, EntitySet::SalesInvoices, &key, 100.0, None)
        .expect("partial payment");
    let recv = b
        .table(7, EntitySet::ReceivablesList)
        .expect("t")
        .iter_by_timestamp(last)
        .next()
        .expect("receivable moved")
        .clone();
    assert_eq!(cents(&recv.fields["Amount"]), 38589 - 10000);
    // A second part-payment on the same day changes no field of the payment term, and still
    // moves it: sync clients learn of payments from it.
    last = b.last_timestamp(7).expect("ts");
    b.record_payment(7, EntitySet::SalesInvoices, &key, 0.5, None)
        .expect("another part-payment");
    let moved = b
        .table(7, EntitySet::PaymentTerms)
        .expect("t")
        .iter_by_timestamp(last)
        .count();
    assert_eq!(moved, 1, "the payment term moved");
    assert!(
        b.record_payment(7, EntitySet::SalesInvoices, &key, 1000.0, None)
            .is_err(),
        "overpayment refused"
    );
    last = b.last_timestamp(7).expect("ts");
    b.record_payment(7, EntitySet::SalesInvoices, &key, 285.39, None)
        .expect("rest");
    assert!(
        b.table(7, EntitySet::ReceivablesList)
            .expect("t")
            .get(&recv.key)
            .is_none(),
        "fully paid: no longer outstanding"
    );
    let term = b
        .table(7, EntitySet::PaymentTerms)
        .expect("t")
        .iter_by_timestamp(last)
        .next()
        .expect("term updated")
        .clone();
    assert_eq!(term.fields["IsFullyPaid"], true);
    // Changing nothing bumps nothing.
    last = b.last_timestamp(7).expect("ts");
    b.update(
        7,
        EntitySet::Accounts,
        &account.key,
        obj(json!({"Phone": "+31 20 000 0000"})),
    )
    .expect("noop");
    assert_eq!(b.last_timestamp(7), Some(last));
}

#[test]
fn replacing_lines_keeps_the_books_consistent() {
    let mut b = one_nl();
    let key = b
        .create(7, EntitySet::SalesInvoices, invoice_body(&customer(&b), 50))
        .expect("created");
    let lines = obj(
        json!({"SalesInvoiceLines": [{"Description": "One", "Quantity": 1, "UnitPrice": 50.0}]}),
    );
    b.update(7, EntitySet::SalesInvoices, &key, lines)
        .expect("update");
    let head = b
        .table(7, EntitySet::SalesInvoices)
        .and_then(|t| t.get(&key))
        .expect("header")
        .clone();
    assert_eq!(
        cents(&head.fields["AmountFC"]),
        6050,
        "customer's default VAT code (21 %)"
    );
    let id = head.fields["InvoiceID"].clone();
    let n_lines = b.table(7, EntitySet::SyncSalesInvoices).map(|t| {
        t.iter_by_key(None)
            .filter(|r| r.fields["InvoiceID"] == id)
            .count()
    });
    assert_eq!(n_lines, Some(1));
    let removed = b.deleted(7).iter().filter(|d| d.entity_type == 13).count();
    assert_eq!(
        removed, 2,
        "the two replaced lines leave sync/SalesInvoices"
    );
}

#[test]
fn deleting_logs_deleted_rows() {
    let mut b = one_nl();
    let key = b
        .create(7, EntitySet::SalesInvoices, invoice_body(&customer(&b), 50))
        .expect("created");
    let Key::Guid(id) = key else {
        panic!("guid key")
    };
    let before = b.last_timestamp(7).expect("ts");
    let n_tl = b
        .table(7, EntitySet::TransactionLines)
        .map_or(0, Table::len);
    b.delete(7, EntitySet::SalesInvoices, &key)
        .expect("deleted");
    assert!(
        b.table(7, EntitySet::SalesInvoices)
            .and_then(|t| t.get(&key))
            .is_none()
    );
    assert_eq!(
        b.table(7, EntitySet::TransactionLines)
            .map_or(0, Table::len),
        n_tl - 5
    );
    let log = b.deleted(7);
    assert!(log.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    assert!(log.iter().all(|d| d.timestamp > before));
    let count = |t: i32| log.iter().filter(|d| d.entity_type == t).count();
    assert_eq!(
        (count(1), count(10), count(13)),
        (5, 1, 3),
        "5 transaction lines, 1 payment term, header + 2 sync rows"
    );
    assert!(
        log.iter()
            .any(|d| d.entity_type == 13 && d.entity_key == id)
    );
    assert_eq!(
        b.delete(7, EntitySet::SalesInvoices, &key),
        Err(BooksError::NoSuchRecord)
    );
    let account = first(&b, EntitySet::Accounts);
    assert!(
        matches!(
            b.delete(7, EntitySet::Accounts, &account.key),
            Err(BooksError::Invalid(_))
        ) || b.deleted(7).iter().any(|d| d.entity_type == 2)
    );
}

#[test]
fn refuses_what_exact_would_refuse() {
    let mut b = one_nl();
    let tl = first(&b, EntitySet::TransactionLines);
    assert_eq!(
        b.update(7, EntitySet::TransactionLines, &tl.key, Map::new()),
        Err(BooksError::NotMutable(EntitySet::TransactionLines))
    );
    assert_eq!(
        b.create(9, EntitySet::Accounts, Map::new()),
        Err(BooksError::NoSuchDivision)
    );
    let gl = first(&b, EntitySet::GLAccounts);
    let gl_id = gl.fields["ID"].clone();
    let unbalanced =
        obj(json!({"GeneralJournalEntryLines": [{"GLAccount": gl_id, "AmountFC": 10.0}]}));
    assert!(matches!(
        b.create(7, EntitySet::GeneralJournalEntries, unbalanced),
        Err(BooksError::Invalid(_))
    ));
    let other = first(&b, EntitySet::VATCodes).fields["GLToPay"].clone();
    let balanced = obj(
        json!({"Description": "Correction", "GeneralJournalEntryLines": [
        {"GLAccount": gl_id, "AmountFC": 10.0}, {"GLAccount": other, "AmountFC": -10.0}]}),
    );
    let key = b
        .create(7, EntitySet::GeneralJournalEntries, balanced)
        .expect("balanced entry");
    let Key::Guid(id) = key else {
        panic!("guid key")
    };
    assert_eq!(rows_of_entry(&b, &id.to_string()).len(), 2);
    let code = gl.fields["Code"].clone();
    assert!(matches!(
        b.create(
            7,
            EntitySet::GLAccounts,
            obj(json!({"Code": code, "Description": "Dup"}))
        ),
        Err(BooksError::Invalid(_))
    ));
    let new_gl = b
        .create(
            7,
            EntitySet::GLAccounts,
            obj(json!({"Code": "9999", "Description": "Sandbox", "Type": 121})),
        )
        .expect("gl");
    b.delete(7, EntitySet::GLAccounts, &new_gl)
        .expect("unused GL account can go");
    assert!(b.deleted(7).iter().any(|d| d.entity_type == 7));
    let acc = b
        .create(
            7,
            EntitySet::Accounts,
            obj(json!({"Name": "Nieuwe Klant B.V.", "Code": "777"})),
        )
        .expect("account");
    let row = b
        .table(7, EntitySet::Accounts)
        .and_then(|t| t.get(&acc))
        .expect("row");
    assert_eq!(row.fields["Code"], format!("{:>18}", "777"));
    b.delete(7, EntitySet::Accounts, &acc)
        .expect("unused account can go");
    assert!(b.deleted(7).iter().any(|d| d.entity_type == 2));
}

/// The people of a relation, as `crm/Contacts` rows.
fn contacts_of(b: &Books, account: &str) -> Vec<Record> {
    b.table(7, EntitySet::Contacts)
        .expect("contacts")
        .iter_by_key(None)
        .filter(|c| c.fields["Account"] == account)
        .cloned()
        .collect()
}

#[test]
fn generated_relations_have_zero_to_three_contacts_one_of_them_main() {
    let b = one_nl();
    let accounts = b.table(7, EntitySet::Accounts).expect("accounts");
    let mut sizes = std::collections::BTreeSet::new();
    for account in accounts.iter_by_key(None) {
        let id = account.fields["ID"].as_str().unwrap_or_default().to_owned();
        let people = contacts_of(&b, &id);
        sizes.insert(people.len());
        let mains: Vec<&Record> = people
            .iter()
            .filter(|p| p.fields["IsMainContact"] == true)
            .collect();
        match account.fields["MainContact"].as_str() {
            Some(main) => {
                assert_eq!(mains.len(), 1, "one main contact");
                assert_eq!(mains[0].fields["ID"], main);
            }
            None => assert!(people.is_empty(), "a relation with people names its main"),
        }
        for p in &people {
            assert_eq!(
                p.fields["AccountMainContact"],
                account.fields["MainContact"]
            );
            assert_eq!(p.fields["AccountName"], account.fields["Name"]);
            let full = p.fields["FullName"].as_str().unwrap_or_default();
            assert!(
                full.ends_with(p.fields["LastName"].as_str().unwrap_or("?")),
                "{full}"
            );
            assert_eq!(p.fields["Email"], p.fields["BusinessEmail"]);
        }
    }
    assert!(sizes.contains(&0) && sizes.contains(&3), "{sizes:?}");
    let summary = b.summary(7).expect("summary");
    assert_eq!(
        summary.contacts.contacts as usize,
        summary.counts["Contacts"]
    );
    assert!(summary.contacts.relations_with_main_contact > 0);
}

#[test]
fn a_contact_changed_bumps_its_timestamp_and_a_deleted_one_is_logged_as_entity_type_5() {
    let mut b = one_nl();
    let accounts: Vec<String> = b
        .table(7, EntitySet::Accounts)
        .expect("accounts")
        .iter_by_key(None)
        .map(|a| a.fields["ID"].as_str().unwrap_or_default().to_owned())
        .collect();
    let account = accounts
        .iter()
        .find(|a| contacts_of(&b, a).len() >= 2)
        .expect("a relation with several people")
        .clone();
    let people = contacts_of(&b, &account);
    let main = people
        .iter()
        .find(|p| p.fields["IsMainContact"] == true)
        .unwrap();
    let key = main.key.clone();
    b.update(
        7,
        EntitySet::Contacts,
        &key,
        obj(json!({"MiddleName": "van", "LastName": "Dam"})),
    )
    .unwrap();
    let changed = b
        .table(7, EntitySet::Contacts)
        .unwrap()
        .get(&key)
        .unwrap()
        .clone();
    assert!(changed.timestamp > main.timestamp);
    let first = changed.fields["FirstName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(changed.fields["FullName"], format!("{first} van Dam"));
    assert!(
        b.update(
            7,
            EntitySet::Contacts,
            &key,
            obj(json!({"IsMainContact": 1}))
        )
        .is_ok(),
        "derived fields are not written"
    );
    assert!(
        b.update(7, EntitySet::Contacts, &key, obj(json!({"Email": 5})))
            .is_err()
    );

    // The main contact deleted: logged as 5, the relation left without one.
    let Key::Guid(main_id) = key else {
        panic!("a GUID key")
    };
    b.delete(7, EntitySet::Contacts, &key).unwrap();
    let log = b.deleted(7).last().unwrap();
    assert_eq!((log.entity_key, log.entity_type), (main_id, 5));
    let relation = b
        .table(7, EntitySet::Accounts)
        .unwrap()
        .iter_by_key(None)
        .find(|a| a.fields["ID"] == account.as_str())
        .unwrap()
        .clone();
    assert_eq!(relation.fields["MainContact"], Value::Null);
    assert!(
        contacts_of(&b, &account)
            .iter()
            .all(|p| p.fields["IsMainContact"] == false)
    );

    // A new contact of a relation without a main one becomes it.
    let created = b
        .create(
            7,
            EntitySet::Contacts,
            obj(json!({"Account": account, "FirstName": "Eva"})),
        )
        .unwrap();
    let Key::Guid(new_id) = created else {
        panic!("a GUID key")
    };
    let relation = b
        .table(7, EntitySet::Accounts)
        .unwrap()
        .iter_by_key(None)
        .find(|a| a.fields["ID"] == account.as_str())
        .unwrap()
        .clone();
    assert_eq!(relation.fields["MainContact"], new_id.to_string());
    assert!(
        b.create(
            7,
            EntitySet::Contacts,
            obj(json!({"FirstName": "Nobody's"}))
        )
        .is_err()
    );
}
