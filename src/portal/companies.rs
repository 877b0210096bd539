//! Companies and their connections: a searchable, paged list, a form to create one, and per
//! company its connections with status, division, last pulls, link URL, and a pull button.
//! Reads and writes go through the API's own handlers (companies, connections, data queue).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::integrations::see_other;
use super::pages::{self, Section, copy_box, csrf_field, field_error, names_field, problem_banner};
use super::plots;
use super::session::Session;
use super::timeline;
use crate::api::companies::{self, CompanyRequestBody, CompanyUpdateBody, TagsQuery};
use crate::api::connections::{self, Connection, ConnectionRequest};
use crate::api::data;
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery};
use crate::api::paging::PageQuery;
use crate::api::time::iso_utc;
use crate::app::AppState;
use crate::store::{ConnectionStatus, DAY_MS, PullOperationRow};

/// Companies per page of the list.
const PAGE_SIZE: u32 = 20;

/// The most recent pulls drawn per company (every connection's together): a few rounds of
/// every data type.
const PULLS_SHOWN: i64 = 60;

/// The list's search box, page and notice.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    search: Option<String>,
    page: Option<u32>,
    notice: Option<String>,
}

/// The create-company form.
#[derive(Debug, Deserialize)]
pub struct CompanyForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

/// The connect form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectForm {
    csrf: String,
    platform_key: String,
}

/// The company's own return URL.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnUrlForm {
    csrf: String,
    #[serde(default)]
    link_return_url: String,
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Response {
    render_list(&state, &session, &query, None, StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CompanyForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    let body = CompanyRequestBody {
        name: form.name.clone(),
        description: None,
        tags: None,
        link_return_url: None,
    };
    match companies::create_company(State(state.clone()), session.tenant.clone(), ApiJson(body))
        .await
    {
        Ok(company) => see_other(&format!(
            "/portal/companies/{}?notice=company-created",
            company.0.id
        )),
        Err(error) => {
            let status = error.status();
            render_list(
                &state,
                &session,
                &ListQuery::default(),
                Some((error, form.name)),
                status,
            )
            .await
        }
    }
}

async fn render_list(
    state: &AppState,
    session: &Session,
    query: &ListQuery,
    failed: Option<(ApiError, String)>,
    status: StatusCode,
) -> Response {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let page = query.page.unwrap_or(1).max(1);
    let page_query = PageQuery {
        page: Some(page.to_string()),
        page_size: Some(PAGE_SIZE.to_string()),
        // Codat's query language; the quoted value escapes quotes and backslashes.
        query: search.map(|s| {
            format!(
                "name ~ \"{}\"",
                s.replace('\\', "\\\\").replace('"', "\\\"")
            )
        }),
        order_by: None,
    };
    let listed = companies::list_companies(
        State(state.clone()),
        session.tenant.clone(),
        ApiQuery(page_query),
        ApiQuery(TagsQuery::default()),
    )
    .await;
    let companies = match listed {
        Ok(page) => page.0,
        Err(error) => return error.into_response(),
    };
    let error = failed.as_ref().map(|(e, _)| e);
    let name = failed.as_ref().map(|(_, n)| n.as_str()).unwrap_or_default();
    let pages = (companies.total_results.max(1) as u32).div_ceil(PAGE_SIZE);
    let search_param = search
        .map(|s| {
            format!(
                "&search={}",
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .unwrap_or_default();
    let body = html! {
        h1 { "Companies" }
        (pages::notice_banner(query.notice.as_deref()))
        section.card aria-labelledby="new-company" {
            h2 id="new-company" { "Create a company" }
            (problem_banner(error))
            form method="post" action="/portal/companies" {
                (csrf_field(session))
                label for="company-name" { "Name" }
                input type="text" id="company-name" name="name" value=(name)
                    aria-invalid=(names_field(error, "name")) aria-describedby="company-name-error";
                (field_error(error, "name", "company-name-error"))
                div.actions { button type="submit" { "Create company" } }
            }
        }
        section.card aria-labelledby="company-list" {
            h2 id="company-list" { "Your companies (" (companies.total_results) ")" }
            form method="get" action="/portal/companies" role="search" {
                label for="search" { "Search by name" }
                div.copy {
                    input type="search" id="search" name="search" value=(search.unwrap_or_default());
                    button.secondary type="submit" { "Search" }
                }
            }
            table {
                thead { tr { th scope="col" { "Company" } th scope="col" { "Connections" } th scope="col" { "Created" } } }
                tbody {
                    @for company in &companies.results {
                        tr {
                            td { a href={ "/portal/companies/" (company.id) } { (company.name) } }
                            td {
                                @for connection in &company.data_connections {
                                    span.badge.(connection.status.as_str()) { (connection.platform_name) ": " (connection.status.as_str()) } " "
                                }
                                @if company.data_connections.is_empty() { span.hint { "none yet" } }
                            }
                            td { (company.created) }
                        }
                    }
                }
            }
            @if companies.results.is_empty() { p.hint { "No companies match." } }
            nav.pager aria-label="Pages" {
                @if page > 1 { a href={ "/portal/companies?page=" (page - 1) (search_param) } { "← Previous" } }
                span { "Page " (page) " of " (pages) }
                @if page < pages { a href={ "/portal/companies?page=" (page + 1) (search_param) } { "Next →" } }
            }
        }
    };
    (
        status,
        pages::layout("Companies", Some(session), Some(Section::Companies), body),
    )
        .into_response()
}

pub async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(company_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    render_detail(&state, &session, &company_id, query.notice.as_deref(), None).await
}

pub async fn connect(
    State(state): State<AppState>,
    session: Session,
    Path(company_id): Path<String>,
    Form(form): Form<ConnectForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    let body = ConnectionRequest {
        platform_key: form.platform_key,
    };
    match connections::create_connection(
        State(state.clone()),
        session.tenant.clone(),
        Path(company_id.clone()),
        Ok(ApiJson(body)),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/portal/companies/{company_id}?notice=connection-created"
        )),
        Err(error) => render_detail(&state, &session, &company_id, None, Some(error)).await,
    }
}

pub async fn save_return_url(
    State(state): State<AppState>,
    session: Session,
    Path(company_id): Path<String>,
    Form(form): Form<ReturnUrlForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    // An emptied field goes back to the tenant's URL (the API's `null`).
    let url = Some(form.link_return_url.trim().to_string()).filter(|u| !u.is_empty());
    let notice = if url.is_some() {
        "company-return-url-saved"
    } else {
        "company-return-url-removed"
    };
    let body = CompanyUpdateBody {
        link_return_url: Some(url),
        ..CompanyUpdateBody::default()
    };
    match companies::update_company(
        State(state.clone()),
        session.tenant.clone(),
        Path(company_id.clone()),
        Ok(ApiJson(body)),
    )
    .await
    {
        Ok(_) => see_other(&format!("/portal/companies/{company_id}?notice={notice}")),
        Err(error) => render_detail(&state, &session, &company_id, None, Some(error)).await,
    }
}

pub async fn queue_pull(
    State(state): State<AppState>,
    session: Session,
    Path(company_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    match data::queue_all(
        State(state.clone()),
        session.tenant.clone(),
        Path(company_id.clone()),
        ApiQuery(data::QueueAllQuery::default()),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/portal/companies/{company_id}?notice=pull-queued"
        )),
        Err(error) => render_detail(&state, &session, &company_id, None, Some(error)).await,
    }
}

async fn render_detail(
    state: &AppState,
    session: &Session,
    company_id: &str,
    notice: Option<&str>,
    failed: Option<ApiError>,
) -> Response {
    let company = match companies::get_company(
        State(state.clone()),
        session.tenant.clone(),
        Path(company_id.to_string()),
    )
    .await
    {
        Ok(company) => company.0,
        // Another tenant's company is as unknown as a made-up id.
        Err(error) if error.status() == StatusCode::NOT_FOUND => {
            return (
                StatusCode::NOT_FOUND,
                pages::message_page("Company not found", error.message()),
            )
                .into_response();
        }
        Err(error) => return error.into_response(),
    };
    let datasets = state.store.datasets(company.id).await.unwrap_or_default();
    // The recent pulls of every connection, for their timelines.
    let pulls = state
        .store
        .list_pull_operations(company.id, 0, PULLS_SHOWN)
        .await
        .map(|(rows, _)| rows)
        .unwrap_or_default();
    let now = state.clock.now_ms();
    let mut histories = Vec::new();
    for connection in &company.data_connections {
        let info = &connection.connection_info;
        let history = match (info.get("integrationKey"), info.get("upstreamCompanyId")) {
            (Some(app), Some(division)) => state
                .store
                .upstream_call_history(app, division, now - 30 * DAY_MS)
                .await
                .ok(),
            _ => None,
        };
        histories.push(history);
    }
    let status = failed.as_ref().map_or(StatusCode::OK, |e| e.status());
    let body = html! {
        p { a href="/portal/companies" { "← Companies" } }
        h1 { (company.name) }
        (pages::notice_banner(notice))
        (problem_banner(failed.as_ref()))
        section.card aria-labelledby="company-actions" {
            h2 id="company-actions" { "Connect and pull" }
            (copy_box("company-link", "The company's link page (for the end customer)", &company.redirect))
            form method="post" action={ "/portal/companies/" (company.id) "/return-url" } {
                (csrf_field(session))
                label for="company-return-url" { "Return URL after linking, for this company only" }
                input type="text" inputmode="url" id="company-return-url" name="linkReturnUrl"
                    value=(company.link_return_url.as_deref().unwrap_or_default())
                    placeholder="Empty: the tenant's return URL (Integrations page)" autocomplete="off"
                    aria-invalid=(names_field(failed.as_ref(), "linkReturnUrl"))
                    aria-describedby="company-return-url-error";
                (field_error(failed.as_ref(), "linkReturnUrl", "company-return-url-error"))
                div.actions { button.secondary type="submit" { "Save return URL" } }
            }
            div.actions {
                form method="post" action={ "/portal/companies/" (company.id) "/connections" } {
                    (csrf_field(session))
                    label for="platform" { "Accounting platform" }
                    select id="platform" name="platformKey" {
                        @for integration in state.catalog.integrations() {
                            option value=(integration.region.key) { (integration.region.name) }
                        }
                    }
                    div.actions { button type="submit" { "Add connection" } }
                }
                form method="post" action={ "/portal/companies/" (company.id) "/pull" } {
                    (csrf_field(session))
                    button.secondary type="submit" { "Queue a pull of every data type" }
                }
            }
        }
        @for (connection, history) in company.data_connections.iter().zip(&histories) {
            (connection_card(connection, &datasets, &pulls, history.as_deref(), now))
        }
    };
    (
        status,
        pages::layout(&company.name, Some(session), Some(Section::Companies), body),
    )
        .into_response()
}

fn connection_card(
    connection: &Connection,
    datasets: &[crate::store::DatasetRow],
    pulls: &[PullOperationRow],
    history: Option<&[(i64, i64)]>,
    now: i64,
) -> Markup {
    let per_day_limit = connection
        .connection_info
        .get("upstreamCallsPerDay")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let status = connection.status.as_str();
    let info = &connection.connection_info;
    let active_errors: Vec<_> = connection
        .data_connection_errors
        .iter()
        .filter(|e| e.status == "Active")
        .collect();
    let last_pulls: Vec<_> = datasets
        .iter()
        .filter(|d| d.connection_id == connection.id)
        .collect();
    let pulls: Vec<PullOperationRow> = pulls
        .iter()
        .filter(|p| p.connection_id == connection.id)
        .cloned()
        .collect();
    let id = format!("link-{}", connection.id);
    html! {
        section.card.connection data-status=(status) aria-labelledby={ "conn-" (connection.id) } {
            h2 id={ "conn-" (connection.id) } { (connection.platform_name) " " span.badge.(status) { (status) } }
            table {
                tbody {
                    tr { th scope="row" { "Division" } td {
                        @match (info.get("upstreamCompanyId"), info.get("upstreamCompanyName")) {
                            (Some(code), Some(name)) => { (code) " · " (name) },
                            _ => span.hint { "known once linked" },
                        }
                    } }
                    @if let (Some(left), Some(per_day)) = (info.get("upstreamCallsRemainingToday"), info.get("upstreamCallsPerDay")) {
                        tr { th scope="row" { "Exact calls left today" } td { (left) " of " (per_day) } }
                    }
                    tr { th scope="row" { "Created" } td { (connection.created) } }
                }
            }
            @match connection.status {
                ConnectionStatus::PendingAuth => p.hint { "Waiting for the end customer to sign in to Exact and give consent: send them the link URL." },
                ConnectionStatus::Deauthorized => p.hint { "Exact no longer accepts this connection's tokens: the end customer must follow the link URL again to reconnect." },
                _ => {},
            }
            @for error in &active_errors {
                div.problem role="note" { strong { (error.status_text) } ": " (error.error_message) }
            }
            @if matches!(connection.status, ConnectionStatus::PendingAuth | ConnectionStatus::Deauthorized) {
                (copy_box(&id, "Link URL for the end customer", &connection.link_url))
            }
            @if let Some(history) = history {
                h3 { "Exact's limits for this division" }
                (plots::bar_chart(&format!("minutes-{}", connection.id), "Calls a minute, last hour",
                    &plots::per_minute(history, now), plots::PER_MINUTE_LIMIT, "an hour ago", "now"))
                (plots::bar_chart(&format!("days-{}", connection.id), "Calls a day (UTC), last 30 days",
                    &plots::per_day(history, now), per_day_limit, "30 days ago", "today"))
            }
            @if !pulls.is_empty() {
                h3 { "Recent pulls" }
                (timeline::pull_timeline(&format!("pulls-{}", connection.id), &pulls, now))
            }
            @if !last_pulls.is_empty() {
                h3 { "Last successful pull per data type" }
                table {
                    thead { tr { th scope="col" { "Data type" } th scope="col" { "Last successful pull (UTC)" } } }
                    tbody {
                        @for dataset in &last_pulls {
                            tr { td { (dataset.data_type) } td { (dataset.last_successful_sync.map(iso_utc).unwrap_or_else(|| "never".into())) } }
                        }
                    }
                }
            }
        }
    }
}
