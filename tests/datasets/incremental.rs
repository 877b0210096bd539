//! Incremental pulls end to end, NL and UK: after the first (full) pull, a pull of everything
//! asks Exact only what changed since each data type's cursor. Nothing changed costs one call per
//! sync endpoint and one read of the deleted log, and rewrites nothing; after accounts and
//! invoices are created, changed, paid and deleted in the sandbox's books, the served data equals
//! the books again, deleted records flagged `metadata.isDeleted`.

use std::collections::BTreeMap;

use ledgerline::model::DataType;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use super::world::{NL_APP, UK_APP, World};
use super::{all_records, decimal};

/// A company name, its platform key, the sandbox app, region and division.
pub(super) type Region = (
    &'static str,
    &'static str,
    (&'static str, &'static str),
    &'static str,
    &'static str,
);

pub(super) const REGIONS: [Region; 2] = [
    ("Incremental BV", "exact-online-nl", NL_APP, "nl", "101001"),
    ("Incremental Ltd", "exact-online-uk", UK_APP, "uk", "201001"),
];

/// Calls made so far per Exact endpoint of one division.
pub(super) async fn calls(
    world: &World,
    region: &str,
    client_id: &str,
    division: &str,
) -> BTreeMap<String, u64> {
    let stats = world.stats().await;
    let by_endpoint =
        &stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_by_endpoint"];
    by_endpoint
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// The calls between two readings of [`calls`].
pub(super) fn spent(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// One pull run of every data type (so that sources shared by data types are read once), as a
/// schedule would queue it; every pull must complete.
pub(super) async fn pull_everything(
    world: &World,
    company: &str,
) -> Vec<ledgerline::store::PullOperationRow> {
    let id = Uuid::parse_str(company).unwrap();
    let state = &world.server.state;
    let tenant = state.store.company_by_id(id).await.unwrap().tenant_id;
    let all: Vec<DataType> = DataType::all().collect();
    let queued = state.sync.queue_many(tenant, id, &all, None).await.unwrap();
    assert_eq!(queued.len(), all.len(), "nothing else was running");
    let mut done = Vec::new();
    for pull in queued {
        let pull = state.sync.wait(id, pull.id).await.unwrap();
        assert_eq!(pull.status, "Complete", "{pull:?}");
        done.push(pull);
    }
    done
}

/// A call to the sandbox's books admin API; the answer's JSON (null when empty).
pub(super) async fn books(world: &World, method: Method, path: &str, body: Option<Value>) -> Value {
    let url = world
        .sandbox
        .admin_url()
        .join(&format!("books/{path}"))
        .unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The Timestamps of the books rows a `books` path lists.
async fn stamps(world: &World, path: &str) -> Vec<i64> {
    books(world, Method::GET, path, None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Timestamp"].as_i64().unwrap())
        .collect()
}

/// Served records that are not deleted.
pub(super) fn live(records: &[Value]) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| r["metadata"]["isDeleted"] != true)
        .collect()
}

pub(super) fn by_id(records: &[Value]) -> BTreeMap<String, &Value> {
    records
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect()
}

/// Served invoices (or credit notes) equal the books: per currency, the count, the total and
/// what is due (`field` = `amountDue` or `remainingCredit`).
pub(super) fn assert_totals_match(records: &[Value], expected: &Value, field: &str, what: &str) {
    // The books sum credit notes negative; Codat's credit notes are positive.
    let sign = if field == "remainingCredit" {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    };
    let mut totals: BTreeMap<String, (u64, Decimal, Decimal)> = BTreeMap::new();
    for record in live(records) {
        let t = totals
            .entry(record["currency"].as_str().unwrap().to_string())
            .or_default();
        t.0 += 1;
        t.1 += decimal(&record["totalAmount"]);
        t.2 += decimal(&record[field]);
    }
    let expected: BTreeMap<String, (u64, Decimal, Decimal)> = expected
        .as_object()
        .unwrap()
        .iter()
        .map(|(cur, e)| {
            (
                cur.clone(),
                (
                    e["count"].as_u64().unwrap(),
                    sign * decimal(&e["amount_fc"]),
                    sign * decimal(&e["unpaid_fc"]),
                ),
            )
        })
        .collect();
    assert_eq!(totals, expected, "{what}: served vs books");
}

/// Served journal entries equal the books: per currency, entries, lines and debits.
fn assert_journal_matches(records: &[Value], expected: &Value, what: &str) {
    let mut totals: BTreeMap<String, (u64, u64, Decimal)> = BTreeMap::new();
    for entry in live(records) {
        let lines = entry["journalLines"].as_array().unwrap();
        let currency = lines[0]["currency"].as_str().unwrap().to_string();
        let t = totals.entry(currency).or_default();
        t.0 += 1;
        t.1 += lines.len() as u64;
        t.2 += lines
            .iter()
            .map(|l| decimal(&l["netAmount"]))
            .filter(|a| *a > Decimal::ZERO)
            .sum::<Decimal>();
    }
    let expected: BTreeMap<String, (u64, u64, Decimal)> = expected
        .as_object()
        .unwrap()
        .iter()
        .map(|(cur, e)| {
            (
                cur.clone(),
                (
                    e["count"].as_u64().unwrap(),
                    e["lines"].as_u64().unwrap(),
                    decimal(&e["debit_fc"]),
                ),
            )
        })
        .collect();
    assert_eq!(totals, expected, "{what}: served vs books");
}

#[tokio::test]
async fn a_second_pull_with_nothing_changed_reads_each_sync_endpoint_once_and_rewrites_nothing() {
    let world = World::start().await;
    for (name, key, app, region, division) in REGIONS {
        let company = world.linked_and_pulled(name, key, division).await;
        let paths = [
            "customers",
            "suppliers",
            "invoices",
            "creditNotes",
            "bills",
            "journalEntries",
            "accounts",
        ];
        let mut before = BTreeMap::new();
        for path in paths {
            before.insert(path, all_records(&world, &company, path, 5000).await);
        }

        let first = calls(&world, region, app.0, division).await;
        let pulls = pull_everything(&world, &company).await;
        let second = spent(&first, &calls(&world, region, app.0, division).await);
        eprintln!("{region}: first pull {first:?}; second, nothing changed: {second:?}");

        for endpoint in [
            "sync/CRM/Accounts",
            "sync/CRM/Contacts",
            "sync/SalesInvoice/SalesInvoices",
            "sync/Financial/GLAccounts",
            // Read once for bills, journal entries and the accounts' balances.
            "sync/Financial/TransactionLines",
            "sync/Cashflow/PaymentTerms",
            "sync/Deleted",
            "system/Divisions",
        ] {
            assert_eq!(
                second.get(endpoint),
                Some(&1),
                "{region} {endpoint}: {second:?}"
            );
        }
        for endpoint in [
            "read/financial/ReceivablesList",
            "read/financial/PayablesList",
            "bulk/SalesInvoice/SalesInvoices",
            "bulk/SalesInvoice/SalesInvoiceLines",
            "bulk/Financial/TransactionLines",
            "financial/ReportingBalance",
            "bulk/CRM/Accounts",
            "bulk/CRM/Contacts",
        ] {
            assert_eq!(
                second.get(endpoint),
                None,
                "{region}: nothing to re-read: {second:?}"
            );
        }
        // Issue #10's floor: one call per endpoint read, the deleted log's included.
        assert!(second.values().all(|n| *n == 1), "{region}: {second:?}");
        // Every other endpoint is a full read, as in the first pull, never more.
        for (endpoint, n) in &second {
            if let Some(full) = first.get(endpoint) {
                assert!(n <= full, "{region} {endpoint}: {second:?}");
            }
        }
        // The incremental data types delivered nothing: nothing changed.
        for pull in &pulls {
            let incremental = [
                "chartOfAccounts",
                "customers",
                "suppliers",
                "invoices",
                "creditNotes",
                "bills",
                "journalEntries",
            ];
            if incremental.contains(&pull.data_type.as_str()) {
                assert_eq!(pull.records, Some(0), "{region}: {pull:?}");
            }
        }
        // Identical records are not rewritten: each keeps its modifiedDate.
        for path in paths {
            let after = all_records(&world, &company, path, 5000).await;
            assert_eq!(after, before[path], "{region} {path}");
        }
    }
}

#[tokio::test]
async fn after_create_update_pay_and_delete_an_incremental_pull_equals_the_books() {
    let world = World::start().await;
    for (name, key, app, region, division) in REGIONS {
        let company = world.linked_and_pulled(name, key, division).await;
        let at = |path: &str| format!("{region}/{division}/{path}");

        // A new customer arrives incrementally.
        let created = books(
            &world,
            Method::POST,
            &at("Accounts"),
            Some(json!({"Name": "Incremental Customer"})),
        )
        .await;
        let new_customer = created["key"].as_str().unwrap().to_string();
        let new_customer_id = new_customer
            .trim_start_matches("guid'")
            .trim_end_matches('\'')
            .to_string();
        pull_everything(&world, &company).await;
        let customers = all_records(&world, &company, "customers", 5000).await;
        let served = by_id(&customers);
        assert_eq!(
            served[&new_customer_id]["customerName"],
            "Incremental Customer"
        );
        assert_ne!(served[&new_customer_id]["metadata"]["isDeleted"], true);

        // Create, update, pay and delete in the books.
        let invoices = all_records(&world, &company, "invoices", 5000).await;
        let renamed = customers
            .iter()
            .find(|c| c["id"] != new_customer_id.as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        books(
            &world,
            Method::PATCH,
            &at(&format!("Accounts/guid'{renamed}'")),
            Some(json!({"Name": "Renamed Customer"})),
        )
        .await;
        books(
            &world,
            Method::DELETE,
            &at(&format!("Accounts/{new_customer}")),
            None,
        )
        .await;
        let created = books(
            &world,
            Method::POST,
            &at("SalesInvoices"),
            Some(json!({
                "InvoiceTo": renamed, "Status": 50, "Description": "Incremental",
                "SalesInvoiceLines": [
                    {"Description": "first", "Quantity": 2, "UnitPrice": 50},
                    {"Description": "second", "Quantity": 1, "UnitPrice": 30},
                ],
            })),
        )
        .await;
        let new_invoice = created["key"].as_str().unwrap().to_string();
        let new_invoice_id = new_invoice
            .trim_start_matches("guid'")
            .trim_end_matches('\'')
            .to_string();
        let part_paid = invoices
            .iter()
            .find(|i| i["status"] == "PartiallyPaid" && decimal(&i["amountDue"]) > Decimal::ONE)
            .expect("the books hold partly paid invoices");
        let part_paid_id = part_paid["id"].as_str().unwrap().to_string();
        let due_before = decimal(&part_paid["amountDue"]);
        books(
            &world,
            Method::POST,
            &at(&format!("SalesInvoices/guid'{part_paid_id}'/payments")),
            Some(json!({"amount": 1.0})),
        )
        .await;
        let deleted_invoice = invoices
            .iter()
            .find(|i| i["id"] != part_paid["id"])
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        books(
            &world,
            Method::DELETE,
            &at(&format!("SalesInvoices/guid'{deleted_invoice}'")),
            None,
        )
        .await;

        let bills = all_records(&world, &company, "bills", 5000).await;
        let unpaid_bill = bills
            .iter()
            .find(|b| b["status"] != "Paid" && decimal(&b["amountDue"]) > Decimal::ONE)
            .expect("the books hold unpaid bills");
        let bill_id = unpaid_bill["id"].as_str().unwrap().to_string();
        let bill_due_before = decimal(&unpaid_bill["amountDue"]);
        books(
            &world,
            Method::POST,
            &at(&format!("PurchaseEntries/guid'{bill_id}'/payments")),
            Some(json!({"amount": 1.0})),
        )
        .await;

        let before = calls(&world, region, app.0, division).await;
        pull_everything(&world, &company).await;
        let spent = spent(&before, &calls(&world, region, app.0, division).await);
        eprintln!("{region}: incremental pull after changes: {spent:?}");
        assert_eq!(
            spent["sync/Deleted"], 1,
            "{region}: the deleted log read once"
        );
        assert_eq!(
            spent["bulk/SalesInvoice/SalesInvoiceLines"], 1,
            "{region}: {spent:?}"
        );

        let summary = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let customers = all_records(&world, &company, "customers", 5000).await;
        let served = by_id(&customers);
        assert_eq!(
            live(&customers).len() as u64,
            summary["relations"]["customers"].as_u64().unwrap(),
            "{region} customers"
        );
        assert_eq!(served[&new_customer_id]["metadata"]["isDeleted"], true);
        assert_eq!(served[&renamed]["customerName"], "Renamed Customer");

        let invoices = all_records(&world, &company, "invoices", 5000).await;
        assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
        let served = by_id(&invoices);
        assert_eq!(served[&deleted_invoice]["metadata"]["isDeleted"], true);
        assert_eq!(
            decimal(&served[&part_paid_id]["amountDue"]),
            due_before - Decimal::ONE,
            "{region}: a payment alone moved the amount due"
        );
        let new = served[&new_invoice_id];
        assert_eq!(new["lineItems"].as_array().unwrap().len(), 2, "{new}");
        assert_eq!(new["customerRef"]["id"], renamed.as_str());
        let notes = all_records(&world, &company, "creditNotes", 5000).await;
        assert_totals_match(&notes, &summary["credit_notes"], "remainingCredit", region);
        let bills = all_records(&world, &company, "bills", 5000).await;
        assert_totals_match(&bills, &summary["bills"], "amountDue", region);
        assert_eq!(
            decimal(&by_id(&bills)[&bill_id]["amountDue"]),
            bill_due_before - Decimal::ONE,
            "{region}: the bill's payment arrived"
        );
        let journal = all_records(&world, &company, "journalEntries", 5000).await;
        assert_journal_matches(&journal, &summary["journal_entries"], region);
        // The payments posted to the bank and the ledger: the balances follow the books.
        let accounts = all_records(&world, &company, "accounts", 5000).await;
        let balances = summary["gl_balances"].as_object().unwrap();
        for account in live(&accounts) {
            let id = account["id"].as_str().unwrap();
            assert_eq!(
                decimal(&account["currentBalance"]),
                balances.get(id).map(decimal).unwrap_or_default(),
                "{region} {}: balance",
                account["name"]
            );
        }

        // One line of the new invoice changes (its totals do not): Exact's sync rows show that
        // line only, and the invoice is still served whole.
        let lines = books(
            &world,
            Method::GET,
            &at(&format!(
                "SalesInvoiceLines?$filter=InvoiceID eq {new_invoice}"
            )),
            None,
        )
        .await;
        let mut lines = lines.as_array().unwrap().clone();
        lines.sort_by_key(|l| l["LineNumber"].as_i64());
        assert_eq!(lines.len(), 2);
        let sync_rows_path = at(&format!(
            "SyncSalesInvoices?$filter=InvoiceID eq {new_invoice}"
        ));
        let stamped_before = stamps(&world, &sync_rows_path)
            .await
            .into_iter()
            .max()
            .unwrap();
        let body: Vec<Value> = lines
            .iter()
            .map(|l| {
                let second = l["Description"] == "second";
                json!({
                    "ID": l["ID"],
                    "Description": if second { "second, reworded" } else { "first" },
                    "Quantity": l["Quantity"],
                    "UnitPrice": l["UnitPrice"],
                })
            })
            .collect();
        books(
            &world,
            Method::PATCH,
            &at(&format!("SalesInvoices/{new_invoice}")),
            Some(json!({"SalesInvoiceLines": body})),
        )
        .await;
        let moved = stamps(&world, &sync_rows_path)
            .await
            .into_iter()
            .filter(|ts| *ts > stamped_before)
            .count();
        assert_eq!(moved, 1, "{region}: only one line's sync row moved");
        pull_everything(&world, &company).await;
        let invoices = all_records(&world, &company, "invoices", 5000).await;
        let new = by_id(&invoices)[&new_invoice_id].clone();
        let descriptions: Vec<&str> = new["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["description"].as_str().unwrap())
            .collect();
        assert_eq!(
            descriptions,
            ["first", "second, reworded"],
            "{region}: {new}"
        );
        assert_eq!(decimal(&new["subTotal"]), Decimal::from(130));
        let summary = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
    }
}

#[tokio::test]
async fn a_pull_that_fails_after_reading_changes_resumes_from_the_stored_cursor_without_skipping() {
    let world = World::start().await;
    let (name, key, app, region, division) = REGIONS[0];
    let company = world.linked_and_pulled(name, key, division).await;
    let at = |path: &str| format!("{region}/{division}/{path}");
    let cursor_of = |data_type: &'static str| {
        let company = Uuid::parse_str(&company).unwrap();
        let store = world.server.state.store.clone();
        async move {
            store
                .datasets(company)
                .await
                .unwrap()
                .into_iter()
                .find(|d| d.data_type == data_type)
                .and_then(|d| d.cursor)
                .unwrap()
        }
    };
    let cursor_before = cursor_of("invoices").await;
    // A change the next pull must bring, and an outage in the middle of that pull: the
    // deleted log (read after the sync endpoints) fails, so the run stops before any cursor
    // moves.
    let renamed = all_records(&world, &company, "customers", 5000).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    books(
        &world,
        Method::PATCH,
        &at(&format!("Accounts/guid'{renamed}'")),
        Some(json!({"Name": "Renamed While Down"})),
    )
    .await;
    world
        .fault(json!({"kind": "status", "status": 503, "path": "sync/Deleted", "count": 5}))
        .await;
    let id = Uuid::parse_str(&company).unwrap();
    let state = &world.server.state;
    let tenant = state.store.company_by_id(id).await.unwrap().tenant_id;
    let queued = state
        .sync
        .queue_many(tenant, id, &[DataType::Customers, DataType::Invoices], None)
        .await
        .unwrap();
    for pull in &queued {
        let pull = state.sync.wait(id, pull.id).await.unwrap();
        assert_ne!(pull.status, "Complete", "{pull:?}");
    }
    assert_eq!(
        cursor_of("invoices").await,
        cursor_before,
        "the cursor stayed"
    );
    assert_eq!(
        calls(&world, region, app.0, division).await["sync/Deleted"],
        5,
        "five refused attempts (the first pull was full)"
    );

    // The next pull starts where the stored cursor says and brings the change.
    pull_everything(&world, &company).await;
    let customers = all_records(&world, &company, "customers", 5000).await;
    assert_eq!(
        by_id(&customers)[&renamed]["customerName"],
        "Renamed While Down"
    );
    assert_ne!(cursor_of("customers").await, cursor_before);
}

#[tokio::test]
async fn a_division_move_or_a_cursor_older_than_the_deleted_log_pulls_in_full_again() {
    let world = World::start().await;
    let (name, key, app, region, division) = REGIONS[1];
    let company = world.linked_and_pulled(name, key, division).await;
    let first = calls(&world, region, app.0, division).await;
    let full_reads = move |spent: &BTreeMap<String, u64>| {
        [
            "sync/CRM/Accounts",
            "sync/SalesInvoice/SalesInvoices",
            "sync/Financial/TransactionLines",
            "read/financial/ReceivablesList",
            "read/financial/PayablesList",
        ]
        .iter()
        .all(|e| spent.get(*e) == first.get(*e))
    };

    // An account that arrives, then is deleted while the division moves: the full read after
    // the move does not consult the deleted log, so only its absence can say it is gone.
    let created = books(
        &world,
        Method::POST,
        &format!("{region}/{division}/Accounts"),
        Some(json!({"Name": "Short-lived Ltd"})),
    )
    .await;
    let short_lived = created["key"].as_str().unwrap().to_string();
    let short_lived_id = short_lived
        .trim_start_matches("guid'")
        .trim_end_matches('\'')
        .to_string();
    pull_everything(&world, &company).await;
    books(
        &world,
        Method::DELETE,
        &format!("{region}/{division}/Accounts/{short_lived}"),
        None,
    )
    .await;

    // Exact moved the division: every Timestamp was regenerated, positions mean nothing.
    books(
        &world,
        Method::POST,
        &format!("{region}/{division}/move"),
        None,
    )
    .await;
    let before = calls(&world, region, app.0, division).await;
    let pulls = pull_everything(&world, &company).await;
    let moved = spent(&before, &calls(&world, region, app.0, division).await);
    assert!(full_reads(&moved), "read in full after the move: {moved:?}");
    assert_eq!(moved.get("sync/Deleted"), None, "{moved:?}");
    let invoices = pulls.iter().find(|p| p.data_type == "invoices").unwrap();
    assert!(invoices.records.unwrap() > 0, "{invoices:?}");
    let customers = all_records(&world, &company, "customers", 5000).await;
    assert_eq!(
        by_id(&customers)[&short_lived_id]["metadata"]["isDeleted"],
        true,
        "absent from the full read after the move: deleted"
    );

    // The next pull is incremental again: the cursors hold the new move date.
    let before = calls(&world, region, app.0, division).await;
    pull_everything(&world, &company).await;
    let after_move = spent(&before, &calls(&world, region, app.0, division).await);
    assert_eq!(
        after_move.get("sync/Financial/TransactionLines"),
        Some(&1),
        "{after_move:?}"
    );
    assert_eq!(after_move.get("sync/Deleted"), Some(&1), "{after_move:?}");

    // Two months without a successful pull: the deleted log may have forgotten deletions.
    world
        .server
        .state
        .clock
        .advance(std::time::Duration::from_secs(56 * 24 * 3600));
    let before = calls(&world, region, app.0, division).await;
    pull_everything(&world, &company).await;
    let stale = spent(&before, &calls(&world, region, app.0, division).await);
    assert!(full_reads(&stale), "read in full after 56 days: {stale:?}");
    assert_eq!(stale.get("sync/Deleted"), None, "{stale:?}");

    let summary = world
        .sandbox_json(&format!("books/{region}/{division}/summary"))
        .await;
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
}

/// Exact logs a deleted invoice's or bill's entry as its transaction lines (EntityType 1), which
/// name no entry: the store knows which stored journal entry and bill those lines belonged to,
/// so the pull re-reads just those entries by key and flags them deleted, never the whole
/// ledger.
#[tokio::test]
async fn deleted_invoices_and_bills_flag_their_entries_without_reading_the_ledger_again() {
    let world = World::start().await;
    for (name, key, app, region, division) in REGIONS {
        let company = world.linked_and_pulled(name, key, division).await;
        let at = |path: &str| format!("{region}/{division}/{path}");
        let invoices = all_records(&world, &company, "invoices", 5000).await;
        let invoices = by_id(&invoices);
        let bills = all_records(&world, &company, "bills", 5000).await;
        let deleted_bill = bills[0]["id"].as_str().unwrap().to_string();
        let journal = all_records(&world, &company, "journalEntries", 5000).await;
        // A posted invoice: its sales entry is a journal entry pointing at it.
        let invoice_entry = journal
            .iter()
            .find(|j| {
                j["recordRef"]["dataType"] == "invoices"
                    && j["recordRef"]["id"]
                        .as_str()
                        .is_some_and(|id| invoices.contains_key(id))
            })
            .expect("a posted invoice");
        let deleted_invoice = invoice_entry["recordRef"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let invoice_entry = invoice_entry["id"].as_str().unwrap().to_string();
        let kept_entries = live(&journal).len();
        books(
            &world,
            Method::DELETE,
            &at(&format!("SalesInvoices/guid'{deleted_invoice}'")),
            None,
        )
        .await;
        books(
            &world,
            Method::DELETE,
            &at(&format!("PurchaseEntries/guid'{deleted_bill}'")),
            None,
        )
        .await;

        // Bills and journal entries, the data types the ledger feeds (the chart of accounts
        // recomputes balances when lines change, a read of its own).
        let id = Uuid::parse_str(&company).unwrap();
        let state = &world.server.state;
        let tenant = state.store.company_by_id(id).await.unwrap().tenant_id;
        let before = calls(&world, region, app.0, division).await;
        let queued = state
            .sync
            .queue_many(
                tenant,
                id,
                &[DataType::Bills, DataType::JournalEntries],
                None,
            )
            .await
            .unwrap();
        for pull in queued {
            let pull = state.sync.wait(id, pull.id).await.unwrap();
            assert_eq!(pull.status, "Complete", "{pull:?}");
        }
        let spent = spent(&before, &calls(&world, region, app.0, division).await);
        eprintln!("{region}: after a deleted invoice and bill: {spent:?}");
        for (endpoint, n) in [
            ("sync/Financial/TransactionLines", 1),
            ("bulk/Financial/TransactionLines", 1),
            ("sync/Deleted", 1),
        ] {
            assert_eq!(spent.get(endpoint), Some(&n), "{region}: {spent:?}");
        }

        let journal = all_records(&world, &company, "journalEntries", 5000).await;
        let served = by_id(&journal);
        for entry in [&invoice_entry, &deleted_bill] {
            assert_eq!(
                served[entry]["metadata"]["isDeleted"], true,
                "{region}: {}",
                served[entry]
            );
        }
        // Their payments' entries went with them: at least two fewer, the books say how many.
        assert!(live(&journal).len() <= kept_entries - 2, "{region}");
        let bills = all_records(&world, &company, "bills", 5000).await;
        assert_eq!(
            by_id(&bills)[&deleted_bill]["metadata"]["isDeleted"],
            true,
            "{region}"
        );
        let summary = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        assert_totals_match(&bills, &summary["bills"], "amountDue", region);
        assert_journal_matches(&journal, &summary["journal_entries"], region);
        // The rest follows in a pull of everything: the served invoices equal the books.
        pull_everything(&world, &company).await;
        let invoices = all_records(&world, &company, "invoices", 5000).await;
        assert_eq!(
            by_id(&invoices)[&deleted_invoice]["metadata"]["isDeleted"],
            true
        );
        assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
    }
}
