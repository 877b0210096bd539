//! The HTML of the authorize flow: a sign-in form, then a consent form listing the divisions the user
//! may grant, with Approve and Deny; and an error page for requests that cannot redirect.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use html_escape::encode_double_quoted_attribute as attr;
use html_escape::encode_text as text;

use super::region::Region;

/// The authorize request's parameters, carried through both forms as hidden fields.
#[derive(Debug, Clone, Default)]
pub struct AuthRequest {
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `response_type`.
    pub response_type: String,
    /// `state`, echoed on the redirect.
    pub state: Option<String>,
}

impl AuthRequest {
    fn hidden(&self) -> String {
        let mut out = String::new();
        let mut field = |name: &str, value: &str| {
            out.push_str(&format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                attr(value)
            ));
            out.push('\n');
        };
        field("client_id", &self.client_id);
        field("redirect_uri", &self.redirect_uri);
        field("response_type", &self.response_type);
        if let Some(state) = &self.state {
            field("state", state);
        }
        out
    }
}

/// A division offered on the consent page.
#[derive(Debug, Clone)]
pub struct Offered {
    /// Division code.
    pub code: i32,
    /// Division name.
    pub description: String,
}

fn page(region: Region, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – Exact Online sandbox ({r})</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#222}}
fieldset{{border:1px solid #ccc;padding:1rem}}label{{display:block;margin:.4rem 0}}
.error{{color:#b00020}}button{{margin-right:.5rem;padding:.4rem 1rem}}</style></head>
<body><h1>Exact Online <small>sandbox · {r}</small></h1>
{body}
</body></html>"#,
        title = text(title),
        r = region.path_prefix().to_uppercase(),
    )
}

/// Step 1: sign in.
pub fn login_page(
    region: Region,
    app_name: &str,
    req: &AuthRequest,
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="error">{}</p>"#, text(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<p><strong>{app}</strong> wants to connect to your Exact Online administration.</p>
{error}
<form method="post" action="auth">
<input type="hidden" name="step" value="login">
{hidden}<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>"#,
        app = text(app_name),
        hidden = req.hidden(),
    );
    Html(page(region, "Sign in", &body)).into_response()
}

/// Step 2: choose divisions, then Approve or Deny.
pub fn consent_page(
    region: Region,
    app_name: &str,
    req: &AuthRequest,
    ticket: &str,
    full_name: &str,
    divisions: &[Offered],
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="error">{}</p>"#, text(e)))
        .unwrap_or_default();
    let boxes: String = divisions
        .iter()
        .map(|d| {
            format!(
                r#"<label><input type="checkbox" name="division" value="{code}" checked> {code} – {name}</label>
"#,
                code = d.code,
                name = text(&d.description),
            )
        })
        .collect();
    let body = format!(
        r#"<p>Signed in as <strong>{user}</strong>.</p>
<p><strong>{app}</strong> asks to read your accounting data. Choose the administrations it may reach.</p>
{error}
<form method="post" action="auth">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="ticket" value="{ticket}">
{hidden}<fieldset><legend>Administrations</legend>
{boxes}</fieldset>
<p><button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form>"#,
        user = text(full_name),
        app = text(app_name),
        ticket = attr(ticket),
        hidden = req.hidden(),
    );
    Html(page(region, "Grant access", &body)).into_response()
}

/// An error shown instead of redirecting (unknown client or a redirect URI that does not match).
pub fn error_page(region: Region, status: StatusCode, message: &str) -> Response {
    let body = format!(r#"<p class="error">{}</p>"#, text(message));
    (status, Html(page(region, "Error", &body))).into_response()
}
