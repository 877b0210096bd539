//! Exact's OAuth endpoints: `GET/POST {region}/api/oauth2/auth` (sign-in and consent pages, or the
//! `sandbox_user` shortcut) and `POST {region}/api/oauth2/token` (code exchange and refresh).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::Rng;
use serde_json::json;

use super::consent::{self, AuthRequest, Offered};
use super::region::Region;
use super::registry::grantable_divisions;
use super::seed::{App, User};
use super::state::{Login, Shared};
use super::tokens::{self, CodeRequest, Refusal, TokenPair};

/// Login tickets between the two forms live 10 minutes.
const LOGIN_TTL_MS: i64 = 600_000;

fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn auth_request(p: &[(String, String)]) -> AuthRequest {
    AuthRequest {
        client_id: get(p, "client_id").unwrap_or_default().to_string(),
        redirect_uri: get(p, "redirect_uri").unwrap_or_default().to_string(),
        response_type: get(p, "response_type").unwrap_or_default().to_string(),
        state: get(p, "state").map(str::to_string),
    }
}

/// Redirects to the app's redirect URI with extra query parameters (and `state`).
fn redirect_with(req: &AuthRequest, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(&req.redirect_uri) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(state) = &req.state {
            q.append_pair("state", state);
        }
    }
    // Exact answers the authorize step with a 302 Found.
    (
        StatusCode::FOUND,
        [(header::LOCATION, url.as_str().to_string())],
    )
        .into_response()
}

/// Validates client and redirect URI; errors are shown as a page (Exact never redirects to an
/// unregistered URI) that names the fix, since the reader is a developer setting things up.
fn checked_app(state: &Shared, region: Region, req: &AuthRequest) -> Result<App, String> {
    let registry = state.registry.read();
    let Some(app) = registry.app(region, &req.client_id) else {
        return Err(unknown_client(registry.apps(), region, &req.client_id));
    };
    if app.redirect_uri != req.redirect_uri {
        return Err(format!(
            "The redirect_uri {:?} does not match the one registered for the app {:?} \
             ({:?}). Either register the new one (POST /_sandbox/apps with this app's region, \
             client_id and secret and \"redirect_uri\": {:?}, as in Exact's App Center), or \
             make Ledgerline send the registered one: its redirect URL is \
             {{LEDGERLINE_PUBLIC_URL}}/oauth/callback.",
            req.redirect_uri, app.name, app.redirect_uri, req.redirect_uri
        ));
    }
    Ok(app.clone())
}

/// The refusal of a client id this region does not know, listing the ones it does.
fn unknown_client(apps: &[App], region: Region, client_id: &str) -> String {
    let known: Vec<String> = apps
        .iter()
        .filter(|a| a.region == region)
        .map(|a| format!("{} ({})", a.client_id, a.name))
        .collect();
    let other = apps.iter().find(|a| {
        a.region != region
            && a.client_id
                .to_string()
                .eq_ignore_ascii_case(client_id.trim())
    });
    let hint = match other {
        Some(app) => format!(
            " It is registered in the {} region: enter it in that integration's settings instead.",
            app.region.path_prefix().to_uppercase()
        ),
        None => String::new(),
    };
    format!(
        "Unknown client_id {client_id:?} for Exact Online {}.{hint} Apps registered here: {}. \
         Enter one of them (GET /_sandbox/apps lists their secrets) in Ledgerline's settings for \
         this region, or register yours with POST /_sandbox/apps.",
        region.path_prefix().to_uppercase(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// `GET {region}/api/oauth2/auth`: the sign-in page, or immediate approval with `sandbox_user`.
pub async fn authorize(
    State(state): State<Shared>,
    Path(prefix): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(region) = Region::from_prefix(&prefix) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let p = pairs(raw.unwrap_or_default().as_bytes());
    let req = auth_request(&p);
    let app = match checked_app(&state, region, &req) {
        Ok(app) => app,
        Err(why) => return consent::error_page(region, StatusCode::BAD_REQUEST, &why),
    };
    if req.response_type != "code" {
        return redirect_with(&req, &[("error", "unsupported_response_type")]);
    }
    let Some(username) = get(&p, "sandbox_user") else {
        return consent::login_page(region, &app.name, &req, None);
    };
    let Some(user) = state.registry.read().user(username).cloned() else {
        return consent::error_page(
            region,
            StatusCode::BAD_REQUEST,
            "sandbox_user names no seeded user.",
        );
    };
    if let Some(refused) = refuse_unapproved(&state, &app, &user, &req) {
        return refused;
    }
    let grantable = grantable_divisions(&user, region, &state.division_codes(region));
    let divisions = match get(&p, "sandbox_divisions") {
        None => grantable.clone(),
        Some(list) => {
            let parsed: Result<Vec<i32>, _> = list.split(',').map(|d| d.trim().parse()).collect();
            match parsed {
                Ok(d) if !d.is_empty() && d.iter().all(|c| grantable.contains(c)) => d,
                _ => {
                    return consent::error_page(
                        region,
                        StatusCode::BAD_REQUEST,
                        "sandbox_divisions must list division codes the user may grant.",
                    );
                }
            }
        }
    };
    approve(&state, region, &app, &user, divisions, &req)
}

/// An app not approved for production may only be authorized by its owner.
fn refuse_unapproved(
    state: &Shared,
    app: &App,
    user: &User,
    req: &AuthRequest,
) -> Option<Response> {
    (!app.approved && app.owner != user.username).then(|| {
        redirect_with(
            req,
            &[
                ("error", "unauthorized_client"),
                ("error_description", &state.options.unapproved_app_message),
            ],
        )
    })
}

fn approve(
    state: &Shared,
    region: Region,
    app: &App,
    user: &User,
    divisions: Vec<i32>,
    req: &AuthRequest,
) -> Response {
    let request = CodeRequest {
        region,
        client_id: app.client_id,
        redirect_uri: req.redirect_uri.clone(),
        username: user.username.clone(),
        divisions,
    };
    let code = state
        .tokens
        .lock()
        .issue_code(request, state.clock.now_ms());
    redirect_with(req, &[("code", &code)])
}

/// `POST {region}/api/oauth2/auth`: the sign-in form (`step=login`) or the consent form (`step=consent`).
pub async fn authorize_form(
    State(state): State<Shared>,
    Path(prefix): Path<String>,
    body: Bytes,
) -> Response {
    let Some(region) = Region::from_prefix(&prefix) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let p = pairs(&body);
    let req = auth_request(&p);
    let app = match checked_app(&state, region, &req) {
        Ok(app) => app,
        Err(why) => return consent::error_page(region, StatusCode::BAD_REQUEST, &why),
    };
    let now = state.clock.now_ms();
    if get(&p, "step") == Some("consent") {
        let ticket = get(&p, "ticket").unwrap_or_default();
        let login = state
            .logins
            .lock()
            .get(ticket)
            .cloned()
            .filter(|l| l.region == region && l.expires_ms > now);
        let Some(user) = login.and_then(|l| state.registry.read().user(&l.username).cloned())
        else {
            return consent::login_page(
                region,
                &app.name,
                &req,
                Some("Your session expired. Sign in again."),
            );
        };
        if get(&p, "action") != Some("approve") {
            state.logins.lock().remove(ticket);
            return redirect_with(&req, &[("error", "access_denied")]);
        }
        let grantable = grantable_divisions(&user, region, &state.division_codes(region));
        let chosen: Vec<i32> = p
            .iter()
            .filter(|(k, _)| k == "division")
            .filter_map(|(_, v)| v.parse().ok())
            .collect();
        if chosen.is_empty() || !chosen.iter().all(|c| grantable.contains(c)) {
            let offered = offered(&state, &grantable);
            let msg = Some("Choose at least one administration you have access to.");
            return consent::consent_page(
                region,
                &app.name,
                &req,
                ticket,
                &user.full_name,
                &offered,
                msg,
            );
        }
        state.logins.lock().remove(ticket);
        return approve(&state, region, &app, &user, chosen, &req);
    }
    let username = get(&p, "username").unwrap_or_default();
    let password = get(&p, "password").unwrap_or_default();
    let Some(user) = state.registry.read().sign_in(username, password).cloned() else {
        return consent::login_page(
            region,
            &app.name,
            &req,
            Some("Invalid username or password."),
        );
    };
    if let Some(refused) = refuse_unapproved(&state, &app, &user, &req) {
        return refused;
    }
    let ticket: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let login = Login {
        username: user.username.clone(),
        region,
        expires_ms: now + LOGIN_TTL_MS,
    };
    {
        let mut logins = state.logins.lock();
        logins.retain(|_, l| l.expires_ms > now);
        logins.insert(ticket.clone(), login);
    }
    let grantable = grantable_divisions(&user, region, &state.division_codes(region));
    let offered = offered(&state, &grantable);
    consent::consent_page(
        region,
        &app.name,
        &req,
        &ticket,
        &user.full_name,
        &offered,
        None,
    )
}

fn offered(state: &Shared, codes: &[i32]) -> Vec<Offered> {
    let books = state.books.read();
    codes
        .iter()
        .map(|&code| Offered {
            code,
            description: books
                .division(code)
                .map(|d| d.description.clone())
                .unwrap_or_default(),
        })
        .collect()
}

fn token_error(status: StatusCode, error: &str, description: Option<&str>) -> Response {
    let body = match description {
        Some(d) => json!({"error": error, "error_description": d}),
        None => json!({"error": error}),
    };
    (status, axum::Json(body)).into_response()
}

/// Client credentials from the form body, or HTTP Basic (UNCONFIRMED on Exact; accepted here).
fn client_credentials(p: &[(String, String)], headers: &HeaderMap) -> (String, String) {
    if let (Some(id), Some(secret)) = (get(p, "client_id"), get(p, "client_secret")) {
        return (id.to_string(), secret.to_string());
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    match basic.as_deref().and_then(|s| s.split_once(':')) {
        Some((id, secret)) => (id.to_string(), secret.to_string()),
        None => (
            get(p, "client_id").unwrap_or_default().to_string(),
            String::new(),
        ),
    }
}

/// `POST {region}/api/oauth2/token`.
pub async fn token(
    State(state): State<Shared>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(region) = Region::from_prefix(&prefix) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let p = pairs(&body);
    let (client_id, secret) = client_credentials(&p, &headers);
    let app = state.registry.read().app(region, &client_id).cloned();
    // Wrong client credentials → 400 invalid_request (PQ #553); an NL app is unknown on UK.
    let Some(app) = app.filter(|a| a.client_secret == secret) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", None);
    };
    let now = state.clock.now_ms();
    let outcome: Result<TokenPair, Refusal> = match get(&p, "grant_type") {
        Some("authorization_code") => {
            let code = get(&p, "code").unwrap_or_default();
            let redirect = get(&p, "redirect_uri").unwrap_or_default();
            state
                .tokens
                .lock()
                .redeem_code(code, region, app.client_id, redirect, now)
                .map(|(pair, _)| pair)
        }
        Some("refresh_token") => {
            let token = get(&p, "refresh_token").unwrap_or_default();
            let result = state
                .tokens
                .lock()
                .refresh(
                    token,
                    region,
                    app.client_id,
                    now,
                    state.options.refresh_grace,
                )
                .map(|(pair, _)| pair);
            state
                .stats
                .lock()
                .record_refresh(region, app.client_id, result.as_ref().map(|_| ()));
            result
        }
        _ => return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", None),
    };
    match outcome {
        Ok(pair) => {
            state.save_tokens();
            let body = json!({
                "access_token": pair.access_token,
                "token_type": "bearer",
                "expires_in": "600",
                "refresh_token": pair.refresh_token,
            });
            ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
        }
        Err(Refusal::InvalidGrant(why)) => {
            token_error(StatusCode::BAD_REQUEST, "invalid_grant", Some(&why))
        }
        Err(Refusal::TooEarly) => token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            Some("Access Token not expired"),
        ),
        Err(Refusal::OldToken) => token_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            Some("Old refresh token used."),
        ),
        Err(Refusal::Expired { at_ms }) => token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some(&tokens::expired_message(at_ms, now)),
        ),
    }
}
