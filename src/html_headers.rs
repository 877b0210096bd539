//! Security headers for the HTML pages an end customer sees (the link pages and the sandbox's
//! consent page): no scripts, no framing (clickjacking), and no `Referer` carrying a link id
//! or an OAuth `state` to another site. Swagger UI at `/docs` is left alone: it needs its own
//! scripts and styles.

use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;

/// Our pages have inline styles, an image from the same origin, and no forms or scripts.
const LINK_PAGES_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                              base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The sandbox's consent form posts to itself and is redirected to the app's callback,
/// which may be on any origin (form-action also governs the redirect).
const CONSENT_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
                                base-uri 'none'; form-action 'self' http: https:; \
                                frame-ancestors 'none'";

/// The portal's pages: its own stylesheet and script only, forms that post to itself.
const PORTAL_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                          img-src 'self'; base-uri 'none'; form-action 'self'; \
                          frame-ancestors 'none'";

/// For `axum::middleware::map_response` on the portal's pages.
pub async fn for_portal(response: Response) -> Response {
    with_headers(response, PORTAL_CSP)
}

/// For `axum::middleware::map_response` on Ledgerline's link pages.
pub async fn for_link_pages(response: Response) -> Response {
    with_headers(response, LINK_PAGES_CSP)
}

/// For `axum::middleware::map_response` on the sandbox's consent page.
pub async fn for_consent_page(response: Response) -> Response {
    with_headers(response, CONSENT_PAGE_CSP)
}

fn with_headers(mut response: Response, csp: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
