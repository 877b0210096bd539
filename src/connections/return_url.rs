//! Where the end customer goes after the link flow: the tenant's (or the company's) return URL,
//! with Codat's redirect parameters.
//!
//! This is a Ledgerline extension. Codat's company `redirect` is the company's Link URL (where
//! the customer *starts*), so the setting has its own name, `linkReturnUrl`. Its shape follows
//! Codat's Portal redirect setting: placeholders in braces are replaced (`{companyId}`,
//! `{connectionId}`, `{statusCode}`, `{errorMessage}`, `{statusText}`), and `statusCode` (plus
//! `errorMessage` and `statusText` on failure) are added as query parameters unless the
//! template places them itself.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;
use uuid::Uuid;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "companyId",
    "connectionId",
    "statusCode",
    "errorMessage",
    "statusText",
];

/// What a template must look like, as the OpenAPI document states it (ECMAScript syntax, which
/// the `regex` crate reads the same way here): `http(s)://`, a host name of letters, digits and
/// single inner hyphens (not ending in a number, which URL parsers take for an IPv4 address),
/// `localhost` or an IPv4 address, an optional port up to 65535, then anything but spaces, control
/// characters and braces other than the placeholders'.
pub const PATTERN: &str = r"^https?://(localhost|([a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9])*\.)*[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9])*|((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?#]([^\s{}\u0000-\u001F\u007F-\u009F\uFEFF]|\{(companyId|connectionId|statusCode|errorMessage|statusText)\})*)?$";

static SHAPE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(PATTERN).expect("the pattern compiles"));

/// Longer than any sensible URL, short enough to keep out of trouble in logs and headers.
const MAX_LEN: usize = 2000;

/// Leaves the characters RFC 3986 calls unreserved as they are; encodes the rest (a space as
/// `%20`, as Codat's redirects do, not `+`).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How a link flow ended, in the words Codat's redirect parameters use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectOutcome {
    /// Codat's standardised code: 200 success, 403 the customer declined, 500 anything else.
    pub status_code: u16,
    /// Codat's standardised message for the code (empty on success).
    pub error_message: &'static str,
    /// What exactly happened, as in the connection's `dataConnectionErrors[].statusText`
    /// (e.g. `AccessDenied`, `StateExpired`); empty on success.
    pub status_text: String,
}

impl RedirectOutcome {
    pub fn success() -> Self {
        RedirectOutcome {
            status_code: 200,
            error_message: "",
            status_text: String::new(),
        }
    }

    /// A failure recorded as `status_text`; a declined consent is Codat's 403.
    pub fn failure(status_text: &str) -> Self {
        let declined = status_text == "AccessDenied";
        RedirectOutcome {
            status_code: if declined { 403 } else { 500 },
            error_message: if declined {
                "User cancelled."
            } else {
                "Unknown error occurred."
            },
            status_text: status_text.to_string(),
        }
    }
}

/// Checks a template as a tenant or company sets it: an absolute http(s) URL once its
/// placeholders are filled, with only known placeholders. The error says what is wrong, for a
/// 400 naming the field.
pub fn validate(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("must not be blank; send null to remove it".into());
    }
    if template.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if template
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain spaces or control characters".into());
    }
    for name in placeholders(template)? {
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "has an unknown placeholder {{{name}}}; the placeholders are {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let sample = fill(
        template,
        Uuid::nil(),
        Uuid::nil(),
        &RedirectOutcome::success(),
    );
    let url = Url::parse(&sample).map_err(|e| {
        format!("must be an absolute URL such as https://app.example.com/exact/done?company={{companyId}} ({e})")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must start with https:// or http://, not {}:",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !SHAPE.is_match(template) {
        return Err(
            "must have a plain host name (letters, digits and single hyphens, not \
                    ending in a number), localhost or an IPv4 address, and a port up to 65535"
                .into(),
        );
    }
    Ok(())
}

/// The URL to send the end customer to. `None` if the template does not make a URL (a
/// template stored before validation existed, say).
pub fn expand(
    template: &str,
    company_id: Uuid,
    connection_id: Uuid,
    outcome: &RedirectOutcome,
) -> Option<Url> {
    let mut url = Url::parse(&fill(template, company_id, connection_id, outcome)).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut added = Vec::new();
    let mut add = |name: &str, value: &str| {
        if !template.contains(&format!("{{{name}}}")) {
            added.push(format!("{name}={}", utf8_percent_encode(value, VALUE)));
        }
    };
    add("statusCode", &outcome.status_code.to_string());
    if outcome.status_code != 200 {
        add("errorMessage", outcome.error_message);
        add("statusText", &outcome.status_text);
    }
    if !added.is_empty() {
        let query = match url.query().filter(|q| !q.is_empty()) {
            Some(existing) => format!("{existing}&{}", added.join("&")),
            None => added.join("&"),
        };
        url.set_query(Some(&query));
    }
    Some(url)
}

/// The names between braces, or an error for an unclosed brace.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "has a { without its closing }".to_string())?;
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    Ok(names)
}

fn fill(
    template: &str,
    company_id: Uuid,
    connection_id: Uuid,
    outcome: &RedirectOutcome,
) -> String {
    let encode = |v: &str| utf8_percent_encode(v, VALUE).to_string();
    template
        .replace("{companyId}", &company_id.to_string())
        .replace("{connectionId}", &connection_id.to_string())
        .replace("{statusCode}", &outcome.status_code.to_string())
        .replace("{errorMessage}", &encode(outcome.error_message))
        .replace("{statusText}", &encode(&outcome.status_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatever_the_pattern_takes_makes_a_url() {
        // A few strings that match the documented pattern at its edges: each one a URL.
        for template in [
            "http://a",
            "https://255.255.255.255:0/{companyId}{statusText}",
            "http://a-b-c.d1/?#",
            "http://z9:9999#{errorMessage}",
            "http://127.0.0.1:65535/portal/companies/{companyId}",
            "http://h:59999",
        ] {
            assert!(SHAPE.is_match(template), "{template}");
            assert_eq!(validate(template), Ok(()), "{template}");
        }
    }

    const COMPANY: Uuid = Uuid::from_u128(0x11);
    const CONNECTION: Uuid = Uuid::from_u128(0x22);

    #[test]
    fn placeholders_are_filled_and_the_outcome_is_added_as_query_parameters() {
        let url = expand(
            "https://app.example.com/exact/{companyId}/done?conn={connectionId}#top",
            COMPANY,
            CONNECTION,
            &RedirectOutcome::success(),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            format!(
                "https://app.example.com/exact/{COMPANY}/done?conn={CONNECTION}&statusCode=200#top"
            )
        );
        let url = expand(
            "https://app.example.com/back",
            COMPANY,
            CONNECTION,
            &RedirectOutcome::failure("AccessDenied"),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://app.example.com/back?statusCode=403&errorMessage=User%20cancelled.&statusText=AccessDenied"
        );
    }

    #[test]
    fn a_template_that_places_codats_parameters_itself_gets_no_duplicates() {
        let url = expand(
            "http://localhost:3000/{statusCode}?flow=Codat&errormessage={errorMessage}",
            COMPANY,
            CONNECTION,
            &RedirectOutcome::failure("StateExpired"),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://localhost:3000/500?flow=Codat&errormessage=Unknown%20error%20occurred.&statusText=StateExpired"
        );
    }

    #[test]
    fn only_absolute_http_urls_with_known_placeholders_pass() {
        assert!(validate("https://app.example.com/done?c={companyId}").is_ok());
        assert!(validate("http://127.0.0.1:8080/x").is_ok());
        assert!(validate("http://localhost:3000").is_ok());
        assert!(validate("https://a-b.example.co.uk/x?y=1#z").is_ok());
        for (bad, says) in [
            ("/relative/path", "absolute URL"),
            ("ftp://example.com/x", "https://"),
            ("javascript:alert(1)", "https://"),
            (
                "https://example.com/{company}",
                "unknown placeholder {company}",
            ),
            ("https://example.com/{companyId", "closing }"),
            ("https://example.com/a b", "spaces"),
            ("   ", "blank"),
            ("http://0.0.0.0.0/", "IPv4"),
            ("http://xn--.example/", "domain"),
            ("http://example.com:99999/", "port"),
        ] {
            let error = validate(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
