//! The portal's page frame and the small pieces every page shares (fields with their error,
//! copy boxes, banners), as maud markup: compiled in, escaped by default.

use maud::{DOCTYPE, Markup, html};

use super::session::Session;
use crate::api::error::ApiError;

/// Which section of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Integrations,
    Companies,
}

/// A full page: `<title>`, the stylesheet, the navigation and sign-out for a signed-in admin.
pub fn layout(
    title: &str,
    session: Option<&Session>,
    section: Option<Section>,
    body: Markup,
) -> Markup {
    let current = |s: Section| (section == Some(s)).then_some("page");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Ledgerline portal" }
                link rel="stylesheet" href="/portal/assets/portal.css";
                script src="/portal/assets/portal.js" defer {}
            }
            body {
                header.top {
                    span.brand { "Ledgerline" }
                    @if let Some(session) = session {
                        nav aria-label="Portal" {
                            a href="/portal/integrations" aria-current=[current(Section::Integrations)] { "Integrations" }
                            a href="/portal/companies" aria-current=[current(Section::Companies)] { "Companies" }
                        }
                        span.tenant { (session.tenant.0.name) }
                        form method="post" action="/portal/sign-out" {
                            (csrf_field(session))
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page with only a heading and a sentence (refusals, not-found).
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(
        title,
        None,
        None,
        html! { div.card { h1 { (title) } p { (message) } p { a href="/portal" { "Back to the portal" } } } },
    )
}

/// The hidden field every form carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A read-only text with a button that copies it.
pub fn copy_box(id: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        div.copy {
            input type="text" id=(id) value=(value) readonly;
            button.secondary type="button" data-copy=(id) { "Copy" }
        }
    }
}

/// The API's message for `field`, if the error names it, shown under the field.
pub fn field_error(error: Option<&ApiError>, field: &str, id: &str) -> Markup {
    let message = error.and_then(|e| {
        e.field_errors()
            .into_iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.to_string())
    });
    html! {
        @if let Some(message) = message {
            p.field-error id=(id) role="alert" { (message) }
        }
    }
}

/// Whether the API's error names `field` (for `aria-invalid`).
pub fn names_field(error: Option<&ApiError>, field: &str) -> bool {
    error.is_some_and(|e| e.field_errors().iter().any(|(name, _)| *name == field))
}

/// An error that names no field, as a banner above the form.
pub fn problem_banner(error: Option<&ApiError>) -> Markup {
    html! {
        @if let Some(error) = error.filter(|e| e.field_errors().is_empty()) {
            div.problem role="alert" { (error.message()) }
        }
    }
}

/// A one-line confirmation after a redirect (`?notice=`), from a fixed list so no text
/// from the URL is ever shown.
pub fn notice_banner(notice: Option<&str>) -> Markup {
    let text = match notice {
        Some("saved") => "Saved.",
        Some("return-url-saved") => "Saved: end customers go back to this URL after linking.",
        Some("return-url-removed") => {
            "Removed: end customers see Ledgerline's result page after linking."
        }
        Some("enabled") => "Integration enabled.",
        Some("disabled") => "Integration disabled: existing connections and data are kept.",
        Some("company-created") => "Company created.",
        Some("connection-created") => "Connection created: send the end customer its link URL.",
        Some("pull-queued") => "Pull queued for every data type.",
        Some("company-return-url-saved") => {
            "Saved: this company's end customers go back to this URL after linking."
        }
        Some("company-return-url-removed") => {
            "Removed: this company's end customers follow the tenant's return URL (Integrations page)."
        }
        _ => return html! {},
    };
    html! { div.notice role="status" { (text) } }
}
