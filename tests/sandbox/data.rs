//! The data API: envelopes, paging, query options, bulk and sync, divisions and scopes.

use std::collections::HashSet;

use ledgerline::sandbox::Region;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

async fn nl() -> (Sb, Tokens) {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    (sb, t)
}

#[tokio::test]
async fn paging_with_next_walks_a_whole_entity() {
    let (sb, t) = nl().await;
    let (rows, pages) = sb
        .all_pages(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID,AmountFC"),
        )
        .await;
    let summary = sb.summary(Region::Nl, NL_MAIN).await;
    let expected = summary["counts"]["SalesInvoices"].as_u64().unwrap() as usize;
    assert_eq!(rows.len(), expected);
    assert_eq!(pages, expected.div_ceil(60), "60 rows a page");
    let ids: HashSet<&str> = rows
        .iter()
        .map(|r| r["InvoiceID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), expected, "no row twice");
    let first = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID"),
        )
        .await;
    let next = first["d"]["__next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!(
            "{}/api/v1/{NL_MAIN}/salesinvoice/SalesInvoices?",
            sb.base(Region::Nl)
        )),
        "{next}"
    );
    assert!(
        next.contains("$select=InvoiceID") && next.contains("$skiptoken=guid'"),
        "{next}"
    );
}

#[tokio::test]
async fn top_above_the_page_size_carries_on_in_next() {
    let (sb, t) = nl().await;
    let page = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$top=100"),
        )
        .await;
    assert_eq!(page["d"]["results"].as_array().unwrap().len(), 60);
    let next = page["d"]["__next"].as_str().unwrap();
    assert!(next.contains("$top=40"), "{next}");
    let rest = sb.api_json(Region::Nl, &t.access, next).await;
    assert_eq!(rest["d"]["results"].as_array().unwrap().len(), 40);
    assert!(rest["d"].get("__next").is_none());
    let small = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$top=5"),
        )
        .await;
    assert_eq!(small["d"]["results"].as_array().unwrap().len(), 5);
    assert!(small["d"].get("__next").is_none());
}

#[tokio::test]
async fn rows_carry_metadata_exact_dates_and_padded_codes() {
    let (sb, t) = nl().await;
    let page = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$top=1"),
        )
        .await;
    let row = &page["d"]["results"][0];
    let id = row["InvoiceID"].as_str().unwrap();
    assert_eq!(
        row["__metadata"]["uri"],
        json!(format!(
            "{}/api/v1/{NL_MAIN}/salesinvoice/SalesInvoices(guid'{id}')",
            sb.base(Region::Nl)
        ))
    );
    assert_eq!(
        row["__metadata"]["type"],
        "Exact.Web.Api.Models.SalesInvoice"
    );
    assert!(row["InvoiceDate"].as_str().unwrap().starts_with("/Date("));
    assert!(
        row["SalesInvoiceLines"]["__deferred"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/SalesInvoiceLines")
    );
    let acc = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/crm/Accounts?$top=1&$select=Code"),
        )
        .await;
    assert_eq!(acc["d"]["results"][0]["Code"].as_str().unwrap().len(), 18);
}

#[tokio::test]
async fn select_returns_only_the_chosen_fields() {
    let (sb, t) = nl().await;
    let page = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/crm/Accounts?$select=ID,Name"),
        )
        .await;
    for row in page["d"]["results"].as_array().unwrap() {
        let keys: HashSet<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, HashSet::from(["__metadata", "ID", "Name"]));
    }
    let bad = sb
        .api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/crm/Accounts?$select=NoSuchField"),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// The name of one of the division's accounts that is plain ASCII letters, digits and spaces, so
/// that it can go into a filter literal and a URL as it is.
async fn one_name(sb: &Sb, token: &str) -> String {
    let page = sb
        .api_json(
            Region::Nl,
            token,
            &format!("{NL_MAIN}/crm/Accounts?$select=Name"),
        )
        .await;
    page["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .find(|n| n.len() > 4 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        .expect("a plain account name")
        .to_string()
}

#[tokio::test]
async fn filter_supports_exacts_operators_and_refuses_the_rest() {
    let (sb, t) = nl().await;
    let path = format!(
        "{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID,Status&$filter=Status eq 50&$inlinecount=allpages"
    );
    let (rows, _) = sb.all_pages(Region::Nl, &t.access, &path).await;
    assert!(!rows.is_empty() && rows.iter().all(|r| r["Status"] == 50));
    let first = sb.api_json(Region::Nl, &t.access, &path).await;
    assert_eq!(
        first["d"]["__count"],
        json!(rows.len().to_string()),
        "__count is a string"
    );
    let one = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/crm/Accounts?$top=1&$select=ID,Code"),
        )
        .await;
    let (id, code) = (
        one["d"]["results"][0]["ID"].as_str().unwrap(),
        one["d"]["results"][0]["Code"].as_str().unwrap(),
    );
    let by_guid = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/crm/Accounts?$filter=ID eq guid'{id}'"),
        )
        .await;
    assert_eq!(by_guid["d"]["results"].as_array().unwrap().len(), 1);
    let trimmed = format!(
        "{NL_MAIN}/crm/Accounts?$filter=trim(Code) eq '{}' or (Name eq 'x' and Blocked eq true)",
        code.trim()
    );
    let by_code = sb.api_json(Region::Nl, &t.access, &trimmed).await;
    assert_eq!(by_code["d"]["results"][0]["ID"], json!(id));
    let dated = format!(
        "{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID&$filter=InvoiceDate ge datetime'2000-01-01T00:00:00'&$top=1"
    );
    assert_eq!(
        sb.api_json(Region::Nl, &t.access, &dated).await["d"]["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The text functions Exact's docs use, and dates as clients write them (issue #14 item 2).
    let name = one_name(&sb, &t.access).await;
    let prefix: String = name.chars().take(3).collect();
    for (filter, expect_it) in [
        (format!("startswith(Name,'{prefix}') eq true"), true),
        (format!("substringof('{}',Name)", &name[1..]), true),
        (format!("endswith(Name,'{}') eq false", &name[1..]), false),
        (
            format!(
                "startswith(Name,'{prefix}') and Modified ge datetime'2000-01-01T00:00:00.000Z'"
            ),
            true,
        ),
    ] {
        let found = sb
            .api_json(
                Region::Nl,
                &t.access,
                &format!("{NL_MAIN}/crm/Accounts?$select=Name&$filter={filter}"),
            )
            .await;
        let names: Vec<&str> = found["d"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names.contains(&name.as_str()),
            expect_it,
            "{filter}: {names:?}"
        );
    }
    for bad in [
        "substringof(Name,'a')",
        "tolower(Name) eq 'a'",
        "Name eq Code",
        "Name eq 'open",
    ] {
        let resp = sb
            .api(
                Region::Nl,
                &t.access,
                &format!("{NL_MAIN}/crm/Accounts?$filter={bad}"),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            error_text(resp).await,
            "Bad Request - Error in query syntax."
        );
    }
}

#[tokio::test]
async fn a_single_entity_by_key_is_not_a_collection() {
    let (sb, t) = nl().await;
    let one = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices?$top=1"),
        )
        .await;
    let id = one["d"]["results"][0]["InvoiceID"].as_str().unwrap();
    let single = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices(guid'{id}')"),
        )
        .await;
    assert_eq!(single["d"]["InvoiceID"], json!(id));
    assert!(single["d"].get("results").is_none());
    let missing =
        format!("{NL_MAIN}/salesinvoice/SalesInvoices(guid'00000000-0000-0000-0000-000000000001')");
    assert_eq!(
        sb.api(Region::Nl, &t.access, &missing).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bulk_needs_select_and_serves_1000_a_page_case_insensitively() {
    let (sb, t) = nl().await;
    let resp = sb
        .api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/bulk/Financial/TransactionLines"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_text(resp).await,
        "Please add a $select or a $top=1 statement to the query string."
    );
    let (rows, pages) = sb
        .all_pages(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/bulk/financial/transactionlines?$select=ID,AmountDC"),
        )
        .await;
    let expected = sb.summary(Region::Nl, NL_MAIN).await["counts"]["TransactionLines"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(rows.len(), expected);
    assert_eq!(pages, expected.div_ceil(1000));
    let gje = sb
        .api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/generaljournalentry/GeneralJournalEntries"),
        )
        .await;
    assert_eq!(
        gje.status(),
        StatusCode::BAD_REQUEST,
        "GeneralJournalEntries needs $select or $top"
    );
    sb.api_json(
        Region::Nl,
        &t.access,
        &format!("{NL_MAIN}/generaljournalentry/GeneralJournalEntries?$top=1"),
    )
    .await;
}

#[tokio::test]
async fn vat_codes_answer_the_bare_list_form() {
    let (sb, t) = nl().await;
    let body = sb
        .api_json(Region::Nl, &t.access, &format!("{NL_MAIN}/vat/VATCodes"))
        .await;
    let list = body["d"].as_array().expect("{\"d\":[…]}");
    assert!(!list.is_empty());
    assert!(list.iter().all(|v| v["Code"].as_str().unwrap().len() == 3));
}

#[tokio::test]
async fn sync_pages_by_timestamp_and_logs_deletions() {
    let (sb, t) = nl().await;
    let path =
        format!("{NL_MAIN}/sync/CRM/Accounts?$select=ID,Name,Timestamp&$filter=Timestamp gt 1L");
    let (rows, _) = sb.all_pages(Region::Nl, &t.access, &path).await;
    let expected = sb.summary(Region::Nl, NL_MAIN).await["counts"]["Accounts"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(rows.len(), expected);
    let ts = |r: &Value| {
        r["Timestamp"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or(r["Timestamp"].as_i64())
            .unwrap()
    };
    assert!(
        rows.windows(2).all(|w| ts(&w[0]) < ts(&w[1])),
        "Timestamp order"
    );
    let high = rows.iter().map(ts).max().unwrap();
    let since = |n: i64| {
        format!("{NL_MAIN}/sync/CRM/Accounts?$select=ID,Name,Timestamp&$filter=Timestamp gt {n}L")
    };
    assert!(
        sb.api_json(Region::Nl, &t.access, &since(high)).await["d"]["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let target = rows[0]["ID"].as_str().unwrap().to_string();
    let patch = sb
        .http
        .patch(sb.admin(&format!("books/nl/{NL_MAIN}/Accounts/{target}")))
        .json(&json!({"Name": "Renamed B.V."}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patch.status(),
        StatusCode::NO_CONTENT,
        "{}",
        patch.text().await.unwrap()
    );
    let changed = sb.api_json(Region::Nl, &t.access, &since(high)).await;
    let changed = changed["d"]["results"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0]["ID"].as_str(), changed[0]["Name"].as_str()),
        (Some(target.as_str()), Some("Renamed B.V."))
    );
    // A new account (no transactions yet) can be deleted; the deletion shows in sync/Deleted.
    let created: Value = sb
        .admin_post(
            &format!("books/nl/{NL_MAIN}/Accounts"),
            json!({"Name": "Short-lived"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap();
    let new_id = key
        .trim_start_matches("guid'")
        .trim_end_matches('\'')
        .to_string();
    let del = sb
        .http
        .delete(sb.admin(&format!("books/nl/{NL_MAIN}/Accounts/{key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        del.status(),
        StatusCode::NO_CONTENT,
        "{}",
        del.text().await.unwrap()
    );
    let deleted = sb
        .api_json(Region::Nl, &t.access, &format!("{NL_MAIN}/sync/Deleted?$select=EntityKey,EntityType,Timestamp&$filter=Timestamp gt {high}L and EntityType eq 2"))
        .await;
    let deleted = deleted["d"]["results"].as_array().unwrap();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["EntityKey"], json!(new_id));
    let other_types =
        format!("{NL_MAIN}/sync/Deleted?$filter=Timestamp gt {high}L and EntityType eq 13");
    assert!(
        sb.api_json(Region::Nl, &t.access, &other_types).await["d"]["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let bad = sb
        .api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/sync/CRM/Accounts?$filter=Name eq 'x'"),
        )
        .await;
    assert_eq!(
        bad.status(),
        StatusCode::BAD_REQUEST,
        "sync filters on Timestamp only"
    );
}

#[tokio::test]
async fn sync_sales_invoices_are_flattened_per_line() {
    let (sb, t) = nl().await;
    let (rows, _) = sb
        .all_pages(
            Region::Nl,
            &t.access,
            &format!(
                "{NL_MAIN}/sync/SalesInvoice/SalesInvoices?$select=ID,InvoiceID,Timestamp&$filter=Timestamp gt 0L"
            ),
        )
        .await;
    let summary = sb.summary(Region::Nl, NL_MAIN).await;
    assert_eq!(
        rows.len() as u64,
        summary["counts"]["SyncSalesInvoices"].as_u64().unwrap()
    );
    assert!(
        rows.iter()
            .all(|r| r["InvoiceID"].is_string() && r["ID"].is_string())
    );
}

#[tokio::test]
async fn accept_application_json_is_required() {
    let (sb, t) = nl().await;
    let url = format!("{}/api/v1/{NL_MAIN}/crm/Accounts", sb.base(Region::Nl));
    let resp = sb
        .http
        .get(&url)
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    let xml = sb
        .http
        .get(&url)
        .bearer_auth(&t.access)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn current_me_is_a_collection_and_divisions_lists_only_the_grant() {
    let (sb, _) = nl().await;
    let t = sb
        .connect(Region::Nl, "demo", Some(&NL_SECOND.to_string()))
        .await;
    let me = sb
        .api(
            Region::Nl,
            &t.access,
            "current/Me?$select=CurrentDivision,FullName",
        )
        .await;
    assert!(
        me.headers().get("x-ratelimit-limit").is_none(),
        "current/Me is exempt"
    );
    let me: Value = me.json().await.unwrap();
    let row = &me["d"]["results"][0];
    assert_eq!(
        row["CurrentDivision"],
        json!(NL_MAIN),
        "the division last open, outside the grant"
    );
    assert_eq!(row["FullName"], "Demo Bookkeeper");
    let divs = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/system/Divisions"),
        )
        .await;
    let codes: Vec<i64> = divs["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![NL_SECOND as i64]);
    let denied = sb
        .api(Region::Nl, &t.access, &format!("{NL_MAIN}/crm/Accounts"))
        .await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(denied.headers()["reason"], "NoDivisionAccess");
}

#[tokio::test]
async fn an_app_without_the_scope_is_refused() {
    let sb = start().await;
    let app = json!({"region": "nl", "name": "CRM only", "redirect_uri": REDIRECT, "owner": "demo",
                     "approved": true, "scopes": ["crm.accounts.read"]});
    let created: Value = sb.admin_post("apps", app).await.json().await.unwrap();
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let redirect = sb.authorize(Region::Nl, id, "demo", None).await;
    let code = location_param(&redirect, "code").unwrap();
    let t = tokens(sb.exchange(Region::Nl, (id, secret), &code).await).await;
    sb.api_json(Region::Nl, &t.access, &format!("{NL_MAIN}/crm/Accounts"))
        .await;
    let resp = sb
        .api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/salesinvoice/SalesInvoices"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_text(resp).await,
        "Forbidden - Application Scope Violated. Cannot read"
    );
}

#[tokio::test]
async fn reporting_balance_pages_by_sixty_and_sums_to_each_accounts_balance() {
    let (sb, t) = nl().await;
    let (rows, pages) = sb
        .all_pages(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/financial/ReportingBalance?$select=ID,GLAccount,Amount,AmountDebit,AmountCredit,ReportingYear,ReportingPeriod,Type,Status"),
        )
        .await;
    let summary = sb.summary(Region::Nl, NL_MAIN).await;
    let expected = summary["reporting_balance_rows"].as_u64().unwrap() as usize;
    assert_eq!(rows.len(), expected);
    assert_eq!(pages, expected.div_ceil(60), "60 rows a page");
    let cents = |v: &Value| (v.as_f64().unwrap() * 100.0).round() as i64;
    let mut per_account: std::collections::BTreeMap<String, i64> = Default::default();
    for row in &rows {
        assert_eq!(
            row.as_object().unwrap().len(),
            10,
            "the nine selected fields and __metadata: {row}"
        );
        assert!(row["ID"].is_i64(), "Int64 key: {row}");
        assert_eq!(
            cents(&row["Amount"]),
            cents(&row["AmountDebit"]) - cents(&row["AmountCredit"])
        );
        *per_account
            .entry(row["GLAccount"].as_str().unwrap().to_string())
            .or_default() += cents(&row["Amount"]);
    }
    let balances: std::collections::BTreeMap<String, i64> = summary["gl_balances"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(gl, amount)| (gl.clone(), cents(amount)))
        .collect();
    assert_eq!(
        per_account, balances,
        "the books' transaction lines, summed"
    );
    // One group by its key, as Exact serves a record.
    let id = rows[7]["ID"].as_i64().unwrap();
    let one = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/financial/ReportingBalance({id}L)"),
        )
        .await;
    assert_eq!(one["d"]["GLAccount"], rows[7]["GLAccount"]);
    assert!(one["d"]["GLAccountCode"].is_string() && one["d"]["BalanceType"].is_string());
}

/// What the connector's chart of accounts relies on: Σ `AmountDC` of a GL account's lines in
/// `sync/Financial/TransactionLines` (1,000 a page) equals Σ `Amount` of its
/// `financial/ReportingBalance` rows (60 a page), for every GL account, NL and UK, summed by the
/// connector's own code from the rows served.
#[tokio::test]
async fn every_gl_accounts_transaction_lines_sum_to_its_reporting_balance() {
    use ledgerline::provider::exact::accounts::balances::{self, LineAmountRow};
    use ledgerline::provider::exact::accounts::{GlAccountRow, ReportingBalanceRow};
    use ledgerline::provider::exact::row;
    use rust_decimal::Decimal;

    let sb = start().await;
    for (region, division) in [(Region::Nl, NL_MAIN), (Region::Uk, UK_MAIN)] {
        let t = sb.connect(region, "demo", None).await;
        let read = |path: String| {
            let (sb, token) = (&sb, t.access.clone());
            async move { sb.all_pages(region, &token, &path).await }
        };
        let (gl, _) = read(format!(
            "{division}/sync/Financial/GLAccounts?$select={}&$filter=Timestamp gt 0L",
            row::select::<GlAccountRow>()
        ))
        .await;
        let (lines, line_pages) = read(format!(
            "{division}/sync/Financial/TransactionLines?$select={}&$filter=Timestamp gt 0L",
            row::select::<LineAmountRow>()
        ))
        .await;
        let (reporting, _) = read(format!(
            "{division}/financial/ReportingBalance?$select={}",
            row::select::<ReportingBalanceRow>()
        ))
        .await;
        assert_eq!(line_pages, lines.len().div_ceil(1000), "1,000 lines a page");
        fn typed<T: serde::de::DeserializeOwned>(rows: Vec<Value>) -> Vec<T> {
            rows.into_iter().map(|r| row::parse(r).unwrap()).collect()
        }
        let lines: Vec<LineAmountRow> = typed(lines);
        let reporting: Vec<ReportingBalanceRow> = typed(reporting);
        let gl: Vec<GlAccountRow> = typed(gl);
        let from_lines = balances::from_lines(&lines);
        let from_reporting = balances::from_reporting(&reporting);
        let mut with_lines = 0;
        for account in &gl {
            let id = account.id.clone().unwrap().to_ascii_lowercase();
            let (a, b) = (
                from_lines.get(&id).copied().unwrap_or_default(),
                from_reporting.get(&id).copied().unwrap_or_default(),
            );
            assert_eq!(
                a, b,
                "{region:?} {:?}: lines vs ReportingBalance",
                account.code
            );
            with_lines += usize::from(a != Decimal::ZERO);
        }
        assert!(
            with_lines > 10,
            "{region:?}: {with_lines} accounts with a balance"
        );
        // No line posts to an account outside the chart.
        assert!(from_lines.keys().all(|k| {
            gl.iter()
                .any(|g| g.id.as_deref().map(str::to_ascii_lowercase).as_deref() == Some(k))
        }));
    }
}

#[tokio::test]
async fn a_division_row_carries_the_company_details() {
    let (sb, t) = nl().await;
    let divs = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/system/Divisions?$select=Code,Description,Currency,VATNumber,ChamberOfCommerceNumber,AddressLine1,City,Postcode,Country,Phone"),
        )
        .await;
    let main = divs["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["Code"] == json!(NL_MAIN))
        .unwrap();
    let summary = sb.summary(Region::Nl, NL_MAIN).await;
    assert_eq!(
        main["ChamberOfCommerceNumber"],
        summary["registration_number"]
    );
    assert_eq!(main["VATNumber"], summary["vat_number"]);
    assert_eq!(main["Country"], "NL");
    for field in ["AddressLine1", "City", "Postcode", "Phone"] {
        assert!(
            main[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {main}"
        );
    }
}

#[tokio::test]
async fn orderby_pages_every_row_once_in_order_with_a_composite_skiptoken() {
    let (sb, t) = nl().await;
    let all = format!("{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID");
    let (unordered, _) = sb.all_pages(Region::Nl, &t.access, &all).await;
    // Many invoices share a date: the key breaks ties, so paging neither skips nor repeats.
    let ordered = format!(
        "{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID,InvoiceDate,AmountFC&$orderby=InvoiceDate desc,AmountFC"
    );
    let first = sb.api_json(Region::Nl, &t.access, &ordered).await;
    let next = first["d"]["__next"].as_str().expect("a second page");
    assert!(
        next.contains("$skiptoken=datetime'") && next.contains(",guid'"),
        "{next}"
    );
    let (rows, pages) = sb.all_pages(Region::Nl, &t.access, &ordered).await;
    assert_eq!(rows.len(), unordered.len());
    assert_eq!(pages, rows.len().div_ceil(60));
    let ids: HashSet<&str> = rows
        .iter()
        .map(|r| r["InvoiceID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), rows.len(), "no row twice");
    let date = |r: &Value| {
        r["InvoiceDate"]
            .as_str()
            .and_then(|d| d.strip_prefix("/Date("))
            .and_then(|d| d.strip_suffix(")/"))
            .and_then(|d| d.parse::<i64>().ok())
            .unwrap()
    };
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(date(a) >= date(b), "dates descend");
        if date(a) == date(b) {
            assert!(
                a["AmountFC"].as_f64() <= b["AmountFC"].as_f64(),
                "amounts ascend within a date"
            );
        }
    }
    // `$top` above a page carries on under the order.
    let topped = format!("{ordered}&$top=70");
    let (top_rows, _) = sb.all_pages(Region::Nl, &t.access, &topped).await;
    assert_eq!(top_rows, rows[..70].to_vec());
    // A skiptoken that does not fit the order, and an order on a sync endpoint, are refused.
    for bad in [
        format!("{ordered}&$skiptoken=guid'00000000-0000-0000-0000-000000000000'"),
        format!("{NL_MAIN}/sync/CRM/Accounts?$select=ID&$orderby=Name"),
        format!("{NL_MAIN}/crm/Accounts?$orderby=Name sideways"),
    ] {
        let resp = sb.api(Region::Nl, &t.access, &bad).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_headers_deferred_lines_uri_lists_its_lines() {
    let (sb, t) = nl().await;
    for (headers, key_field, lines_field) in [
        (
            "salesinvoice/SalesInvoices",
            "InvoiceID",
            "SalesInvoiceLines",
        ),
        ("salesentry/SalesEntries", "EntryID", "SalesEntryLines"),
        (
            "purchaseentry/PurchaseEntries",
            "EntryID",
            "PurchaseEntryLines",
        ),
        (
            "generaljournalentry/GeneralJournalEntries",
            "EntryID",
            "GeneralJournalEntryLines",
        ),
    ] {
        let page = sb
            .api_json(
                Region::Nl,
                &t.access,
                &format!("{NL_MAIN}/{headers}?$select={key_field},{lines_field}&$top=1"),
            )
            .await;
        let row = &page["d"]["results"][0];
        let id = row[key_field].as_str().expect("a header");
        let uri = row[lines_field]["__deferred"]["uri"]
            .as_str()
            .expect("a deferred lines URI");
        let through_header = sb.api_json(Region::Nl, &t.access, uri).await;
        let module = headers.split('/').next().unwrap();
        let filtered = sb
            .api_json(
                Region::Nl,
                &t.access,
                &format!("{NL_MAIN}/{module}/{lines_field}?$filter={key_field} eq guid'{id}'"),
            )
            .await;
        let lines = through_header["d"]["results"].as_array().unwrap();
        assert!(!lines.is_empty(), "{uri}");
        assert_eq!(lines, filtered["d"]["results"].as_array().unwrap(), "{uri}");
        assert!(lines.iter().all(|l| l[key_field] == json!(id)));
    }
    // Another property of a header is not a navigation the sandbox knows: Exact's 404.
    let resp = sb
        .api(
            Region::Nl,
            &t.access,
            &format!(
                "{NL_MAIN}/salesinvoice/SalesInvoices(guid'00000000-0000-0000-0000-000000000001')/Nothing"
            ),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn expand_answers_the_lines_inline_with_their_selected_fields() {
    let (sb, t) = nl().await;
    let page = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!(
                "{NL_MAIN}/salesinvoice/SalesInvoices?$select=InvoiceID,SalesInvoiceLines/AmountFC,SalesInvoiceLines/LineNumber&$expand=SalesInvoiceLines&$top=3"
            ),
        )
        .await;
    let rows = page["d"]["results"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let id = row["InvoiceID"].as_str().unwrap();
        let inline = row["SalesInvoiceLines"]["results"]
            .as_array()
            .expect("the lines inline");
        let lines = sb
            .api_json(
                Region::Nl,
                &t.access,
                &format!(
                    "{NL_MAIN}/salesinvoice/SalesInvoiceLines?$select=AmountFC,LineNumber&$filter=InvoiceID eq guid'{id}'"
                ),
            )
            .await;
        assert!(!inline.is_empty());
        assert_eq!(inline, lines["d"]["results"].as_array().unwrap());
        let mut keys: Vec<&String> = inline[0].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["AmountFC", "LineNumber", "__metadata"]);
    }
    // Only the line collection expands, and only a documented line field is selected.
    for bad in [
        "$expand=Nothing",
        "$select=InvoiceID,SalesInvoiceLines/NoSuchField&$expand=SalesInvoiceLines",
    ] {
        let resp = sb
            .api(
                Region::Nl,
                &t.access,
                &format!("{NL_MAIN}/salesinvoice/SalesInvoices?{bad}"),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}
