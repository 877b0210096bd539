//! The pages an end customer sees: a company's link page, the start of a connection's link
//! flow, the OAuth callback and the result page it redirects to. Plain HTML without scripts,
//! no API key: the ids are unguessable UUIDs, and a result page is named by its signed state
//! (a `state` query parameter, which the request log redacts).
//!
//! The callback does its work once and answers 303 to the result page (POST/redirect/GET), so
//! a reload or the back button shows the same result and records nothing. The result page
//! sends the customer on to the tenant's return URL when one is set (Codat's redirect
//! parameters added), else says what happened and what to do next under the tenant's name.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use uuid::Uuid;

use crate::app::AppState;
use crate::connections::link::{
    CallbackAnswer, CallbackParams, LinkPage, LinkResult, not_found_page,
};
use crate::connections::return_url;
use crate::store::{ConnectionRow, ConnectionStatus};

/// Routes for the browser pages (kept out of the OpenAPI document: they are not an API).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/link/{companyId}", get(company_page))
        .route("/link/connections/{connectionId}", get(start_link))
        .route("/link/result", get(link_result))
        .route("/oauth/callback", get(oauth_callback))
        .route("/logos/exact-online.svg", get(super::integrations::logo))
        .layer(axum::middleware::map_response(
            crate::html_headers::for_link_pages,
        ))
}

/// Who the page speaks for: the tenant (the app that sent the customer) and the integration.
#[derive(Debug, Clone)]
struct Brand {
    tenant: String,
    /// e.g. `Exact (Netherlands)`.
    integration: Option<String>,
    /// e.g. `NL`.
    region: Option<String>,
}

impl Brand {
    /// What `{app}` in a page's text stands for.
    fn app(brand: Option<&Brand>) -> &str {
        brand.map_or("the app that sent you here", |b| b.tenant.as_str())
    }
}

impl AppState {
    async fn brand(&self, tenant_id: Uuid, integration_key: Option<&str>) -> Option<Brand> {
        let tenant = self.store.get_tenant(tenant_id).await.ok()?;
        let integration = integration_key.and_then(|key| self.catalog.integration(key));
        Some(Brand {
            tenant: tenant.name,
            integration: integration.as_ref().map(|i| i.region.name.clone()),
            region: integration.map(|i| i.region.region.to_uppercase()),
        })
    }

    /// Where the customer goes after a finished link flow: the company's return URL, else the
    /// tenant's, with the placeholders and Codat's redirect parameters filled in.
    async fn return_url(&self, connection: &ConnectionRow, page: &LinkPage) -> Option<String> {
        let company = self.store.company_by_id(connection.company_id).await.ok()?;
        let template = match company.link_return_url {
            Some(url) => url,
            None => self
                .store
                .tenant_link_return_url(connection.tenant_id)
                .await
                .ok()??,
        };
        return_url::expand(
            &template,
            company.id,
            connection.id,
            &page.redirect_outcome(),
        )
        .map(String::from)
    }
}

/// The optional query of a connection's link URL.
#[derive(Debug, Default, serde::Deserialize)]
struct StartQuery {
    /// Lets a `Linked` connection be linked again; issued by `POST …/relink`.
    relink: Option<String>,
}

async fn start_link(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&connection_id) else {
        return render(None, &not_found_page());
    };
    match state.linker.start(id, query.relink.as_deref()).await {
        // 302 Found, as OAuth authorization redirects conventionally are.
        Ok(url) => (StatusCode::FOUND, [(LOCATION, url.to_string())]).into_response(),
        Err(page) => {
            let brand = match state.store.connection_by_id(id).await {
                Ok(c) => state.brand(c.tenant_id, Some(&c.integration_key)).await,
                Err(_) => None,
            };
            render(brand.as_ref(), &page)
        }
    }
}

async fn oauth_callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let (link_state, linked) = match state.linker.finish(params).await {
        CallbackAnswer::Page(page) => return render(None, &page),
        CallbackAnswer::Result { state, linked } => (state, linked),
    };
    if let Some(connection) = linked {
        // The first pull starts by itself, as Codat's does: every data type the tenant's sync
        // settings fetch on first link (all, by default), in pull order.
        let queued = match crate::sync::schedule::fetched_on_link(
            &state.store,
            connection.tenant_id,
        )
        .await
        {
            Ok(wanted) if wanted.is_empty() => Ok(vec![]),
            Ok(wanted) => {
                state
                    .sync
                    .queue_many(
                        connection.tenant_id,
                        connection.company_id,
                        &wanted,
                        Some(connection.id),
                    )
                    .await
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = queued {
            tracing::warn!(connection.id = %connection.id, error = %e, "first pull not queued");
        }
    }
    // 303 See Other: whatever the browser does next (reload, back, forward) is a GET of the
    // result, never the callback again.
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, state.link_result_url(&link_state))],
    )
        .into_response()
}

/// The result page's query.
#[derive(Debug, Default, serde::Deserialize)]
struct ResultQuery {
    state: Option<String>,
}

async fn link_result(State(state): State<AppState>, Query(query): Query<ResultQuery>) -> Response {
    match state
        .linker
        .result(query.state.as_deref().unwrap_or_default())
        .await
    {
        LinkResult::Unknown => render(None, &not_found_page()),
        LinkResult::Pending => {
            let page = LinkPage::new(
                200,
                "Almost done",
                "We are still finishing the connection.",
                "This page reloads by itself in a moment; if it does not, reload it.",
            );
            let mut response = render(None, &page);
            response
                .headers_mut()
                .insert("refresh", axum::http::HeaderValue::from_static("2"));
            response
        }
        LinkResult::Unfinished => render(
            None,
            &LinkPage::new(
                500,
                "Something went wrong",
                "The connection could not be finished, so nothing was connected.",
                "Please start again from the link you were given.",
            ),
        ),
        LinkResult::Done { page, connection } => {
            if let Some(url) = state.return_url(&connection, &page).await {
                return (StatusCode::SEE_OTHER, [(LOCATION, url)]).into_response();
            }
            let brand = state
                .brand(connection.tenant_id, Some(&connection.integration_key))
                .await;
            let mut response = render(brand.as_ref(), &page);
            // The result is final: a reload may come from the cache, it is the same page.
            response.headers_mut().insert(
                CACHE_CONTROL,
                axum::http::HeaderValue::from_static("private, max-age=300"),
            );
            response
        }
    }
}

async fn company_page(State(state): State<AppState>, Path(company_id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&company_id) else {
        return render(None, &not_found_page());
    };
    let Ok(company) = state.store.company_by_id(id).await else {
        return render(None, &not_found_page());
    };
    let brand = state.brand(company.tenant_id, None).await;
    let app = Brand::app(brand.as_ref()).to_string();
    let connections = state
        .store
        .list_connections(company.tenant_id, company.id, 0, 100)
        .await
        .map(|(rows, _)| rows)
        .unwrap_or_default();
    let mut items = Vec::new();
    for connection in &connections {
        let view = state.connection_view(connection).await;
        let region = state
            .catalog
            .integration(&connection.integration_key)
            .map(|i| i.region.region.to_uppercase());
        items.push((view, region));
    }
    let body = html! {
        h1 id="title" { "Connect your accounting software" }
        p { (app) " asks to read the books of " strong { (company.name) } "." }
        @if items.is_empty() {
            p { "No accounting connection has been prepared for you yet." }
            h2 { "What to do next" }
            p { "Please ask " (app) " to prepare one, then open this page again." }
        }
        ul.connections {
            @for (view, region) in &items {
                li {
                    (wordmark(region.as_deref(), &view.platform_name))
                    @match view.status {
                        // Only connections waiting for (re)consent get a link: a Linked one's
                        // is useless here, and a closed one's leads nowhere.
                        ConnectionStatus::Linked => span.state.ok { "Connected" },
                        ConnectionStatus::Unlinked => span.state { "Closed" },
                        _ => a.button href=(view.link_url) { "Connect " (view.platform_name) },
                    }
                }
            }
        }
    };
    page(
        StatusCode::OK,
        "Connect your accounting software",
        brand.as_ref(),
        None,
        body,
    )
}

/// A link flow page: what happened and what to do next.
fn render(brand: Option<&Brand>, link_page: &LinkPage) -> Response {
    let status = StatusCode::from_u16(link_page.status).unwrap_or(StatusCode::OK);
    let app = Brand::app(brand);
    let fill = |text: &str| text.replace("{app}", app);
    let tone = if link_page.linked() {
        "ok"
    } else if link_page.status < 400 {
        "wait"
    } else {
        "bad"
    };
    let body = html! {
        div.outcome.(tone) aria-hidden="true" {
            @match tone { "ok" => "✓", "wait" => "…", _ => "!" }
        }
        h1 id="title" { (fill(&link_page.title)) }
        p.what { (fill(&link_page.message)) }
        @if !link_page.next.is_empty() {
            h2 { "What to do next" }
            p.next { (fill(&link_page.next)) }
        }
    };
    page(
        status,
        &fill(&link_page.title),
        brand,
        link_page.status_text.as_deref(),
        body,
    )
}

/// The frame of every link page: the integration's wordmark and the tenant's name on top.
fn page(
    status: StatusCode,
    title: &str,
    brand: Option<&Brand>,
    outcome: Option<&str>,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title {
                    (title)
                    @if let Some(brand) = brand { " · " (brand.tenant) }
                }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main aria-labelledby="title" data-outcome=[outcome] {
                    header.brand {
                        @match brand {
                            Some(brand) => {
                                @if let Some(name) = &brand.integration {
                                    (wordmark(brand.region.as_deref(), name))
                                }
                                p.for { "for " strong.tenant { (brand.tenant) } }
                            },
                            None => p.for { strong { "Connect your accounting software" } },
                        }
                    }
                    (body)
                }
                footer { "Connections are handled by Ledgerline. Your password is never shared with the app." }
            }
        }
    };
    (status, markup).into_response()
}

/// The integration's logo: a plain wordmark drawn here (the real marks are Exact's).
fn wordmark(region: Option<&str>, name: &str) -> Markup {
    html! {
        svg.wordmark role="img" aria-label=(name) viewBox="0 0 236 40" width="236" height="40"
            xmlns="http://www.w3.org/2000/svg" {
            rect width="40" height="40" rx="8" fill="#e2001a" {}
            text x="20" y="27" font-size="17" font-weight="700" fill="#fff" text-anchor="middle"
                font-family="Arial, Helvetica, sans-serif" { "EO" }
            text x="50" y="27" font-size="21" font-weight="700" fill="#1d2433"
                font-family="Arial, Helvetica, sans-serif" { "Exact Online" }
            @if let Some(region) = region {
                rect x="190" y="9" width="40" height="22" rx="11" fill="none" stroke="#e2001a" stroke-width="1.5" {}
                text x="210" y="25" font-size="13" font-weight="700" fill="#e2001a" text-anchor="middle"
                    font-family="Arial, Helvetica, sans-serif" { (region) }
            }
        }
    }
}

/// Inline, as the pages' content security policy allows styles only so.
const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;background:#f6f7fa;margin:0;line-height:1.5}\
main{max-width:34rem;margin:3rem auto 1rem;background:#fff;border:1px solid #d9dee8;border-radius:10px;padding:1.6rem 2rem}\
header.brand{display:flex;flex-wrap:wrap;align-items:center;gap:.8rem;border-bottom:1px solid #d9dee8;padding-bottom:1rem;margin-bottom:1.2rem}\
header.brand .for{margin:0;color:#5a6478}\
header.brand .tenant{color:#1d2433}\
h1{font-size:1.45rem;margin:.4rem 0 .6rem}\
h2{font-size:1rem;margin:1.2rem 0 .2rem}\
.outcome{width:2.6rem;height:2.6rem;border-radius:50%;display:flex;align-items:center;justify-content:center;font-size:1.4rem;font-weight:700;color:#fff}\
.outcome.ok{background:#17794a}.outcome.bad{background:#b3261e}.outcome.wait{background:#9a5b00}\
ul.connections{list-style:none;padding:0}\
ul.connections li{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.6rem;padding:.7rem 0;border-top:1px solid #d9dee8}\
a.button{background:#1f5fbf;color:#fff;text-decoration:none;padding:.5rem 1rem;border-radius:6px;font-weight:600}\
.state{font-weight:600;color:#5a6478}.state.ok{color:#17794a}\
a:focus-visible{outline:3px solid #f0b429;outline-offset:2px}\
footer{max-width:34rem;margin:0 auto 3rem;padding:0 2rem;color:#5a6478;font-size:.85rem}";
