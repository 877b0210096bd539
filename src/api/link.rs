//! The pages an end customer sees: a company's link page, the start of a connection's link
//! flow, and the OAuth callback. Plain HTML, no API key: the ids are unguessable UUIDs.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use crate::app::AppState;
use crate::connections::link::{CallbackParams, LinkPage};

/// Routes for the browser pages (kept out of the OpenAPI document: they are not an API).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/link/{companyId}", get(company_page))
        .route("/link/connections/{connectionId}", get(start_link))
        .route("/oauth/callback", get(oauth_callback))
        .route("/logos/exact-online.svg", get(super::integrations::logo))
        .layer(axum::middleware::map_response(
            crate::html_headers::for_link_pages,
        ))
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
        return render(&LinkPage {
            status: 404,
            title: "Link not found".into(),
            message:
                "This connection link is not valid. Ask the app that sent you here for a new one."
                    .into(),
        });
    };
    match state.linker.start(id, query.relink.as_deref()).await {
        // 302 Found, as OAuth authorization redirects conventionally are.
        Ok(url) => (StatusCode::FOUND, [(LOCATION, url.to_string())]).into_response(),
        Err(page) => render(&page),
    }
}

async fn oauth_callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let outcome = state.linker.finish(params).await;
    if let Some(connection) = outcome.linked {
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
    render(&outcome.page)
}

async fn company_page(State(state): State<AppState>, Path(company_id): Path<String>) -> Response {
    let not_found = LinkPage {
        status: 404,
        title: "Link not found".into(),
        message: "This link is not valid. Ask the app that sent you here for a new one.".into(),
    };
    let Ok(id) = Uuid::parse_str(&company_id) else {
        return render(&not_found);
    };
    let Ok(company) = state.store.company_by_id(id).await else {
        return render(&not_found);
    };
    let connections = state
        .store
        .list_connections(company.tenant_id, company.id, 0, 100)
        .await
        .map(|(rows, _)| rows)
        .unwrap_or_default();
    let mut items = String::new();
    for connection in &connections {
        let view = state.connection_view(connection).await;
        // Only connections waiting for (re)consent get a link: a Linked one's is useless
        // here, and a closed one's leads nowhere.
        let item = match view.status {
            crate::store::ConnectionStatus::Linked => "Connected".to_string(),
            crate::store::ConnectionStatus::Unlinked => "Closed".to_string(),
            _ => format!("<a href=\"{}\">Connect</a>", escape(&view.link_url)),
        };
        items.push_str(&format!(
            "<li>{} — {item}</li>",
            escape(&view.platform_name)
        ));
    }
    if items.is_empty() {
        items = "<li>No accounting connection has been prepared for you yet. Please ask the app that sent you here.</li>".into();
    }
    let body = format!(
        "<p>Connect <strong>{}</strong> to your accounting software:</p><ul>{items}</ul>",
        escape(&company.name)
    );
    html(StatusCode::OK, "Connect your accounting software", &body)
}

fn render(page: &LinkPage) -> Response {
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
    html(
        status,
        &page.title,
        &format!("<p>{}</p>", escape(&page.message)),
    )
}

fn escape(text: &str) -> String {
    html_escape::encode_text(text).to_string()
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}\
         h1{{font-size:1.4rem}}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (status, Html(page)).into_response()
}
