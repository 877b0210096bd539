//! Request extractors whose failures speak Codat's error shape and name the field at fault.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body that reports which field was wrong. A non-empty body must be labelled JSON
/// (else 415); an empty one may carry any `Content-Type`, as Codat's SDKs label body-less
/// requests `application/octet-stream`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_string());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The request body is larger than this endpoint accepts",
                )
            } else {
                ApiError::bad_request(format!(
                    "The request body could not be read: {}",
                    rejection.body_text()
                ))
            }
        })?;
        if !bytes.is_empty() && !content_type.as_deref().is_none_or(is_json) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "The request body must be JSON (Content-Type: application/json), not {}",
                    content_type.unwrap_or_default()
                ),
            ));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialises a JSON body, turning serde's errors into field-level 400s.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "A JSON request body is required (Content-Type: application/json)",
        ));
    }
    // Serde would read a struct from a JSON array too, and blame a field by position.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "Malformed JSON in the request body: it must be a JSON object",
        ));
    }
    // Fields the typed body does not have are ignored, whatever they hold: the control
    // character check skips them, as the spec's `additionalProperties` allows anything there.
    let mut ignored = HashSet::new();
    let mut note_ignored = |path: serde_ignored::Path<'_>| {
        ignored.insert(ignored_path(&path));
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let typed = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        &mut deserializer,
        &mut note_ignored,
    ));
    refuse_control_characters(bytes, &ignored)?;
    typed.map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(format!("Malformed JSON in the request body: {inner}"));
        }
        let path = error.path().to_string();
        let message = inner.to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let field = match missing_field(&message) {
            Some(name) if path == "." => name.to_string(),
            Some(name) => format!("{path}.{name}"),
            None => path,
        };
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ApiError::invalid_field(&field, message)
    })
}

/// An ignored field's path in [`find_control_character`]'s notation (`tags.region`, `a[2]`).
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// `application/json`, or a `+json` type, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.to_ascii_lowercase().ends_with("+json")
}

/// Whether text holds a control character other than tab and line breaks: a NUL byte
/// cannot be stored by PostgreSQL, and the others have no business in names and settings.
pub fn has_control_character(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

const CONTROL_CHARACTERS: &str = "must not contain control characters (such as NUL, \\u0000)";

/// Refuses a body with a control character in any string or key, naming the first field
/// that has one; `ignored` fields (unknown to the typed body) are not looked at. JSON escapes
/// control characters (`\u0000`), so the parsed values are what is checked.
fn refuse_control_characters(bytes: &[u8], ignored: &HashSet<String>) -> Result<(), ApiError> {
    // Malformed bodies are left to the typed parse, which says what is wrong.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match find_control_character(&value, "", ignored) {
        Some(field) => Err(ApiError::invalid_field(&field, CONTROL_CHARACTERS)),
        None => Ok(()),
    }
}

/// The path (`name`, `tags.region`, `items[2]`) of the first string with a control character.
fn find_control_character(
    value: &serde_json::Value,
    path: &str,
    ignored: &HashSet<String>,
) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if has_control_character(text) => Some(path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_control_character(item, &format!("{path}[{i}]"), ignored)),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if ignored.contains(&join(key)) {
                None
            } else if has_control_character(key) {
                Some(join(key.escape_default().to_string().as_str()))
            } else {
                find_control_character(item, &join(key), ignored)
            }
        }),
        _ => None,
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// Query-string parameters; a malformed one is a 400 that says which.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if has_control_character(&name) || has_control_character(&value) {
                return Err(ApiError::invalid_field(
                    &name.escape_default().to_string(),
                    CONTROL_CHARACTERS,
                ));
            }
        }
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Company {
        name: String,
        tags: std::collections::BTreeMap<String, String>,
    }

    fn refused_field(body: &str) -> Option<String> {
        parse_json::<Company>(body.as_bytes())
            .err()
            .map(|e| e.message().split(':').next().unwrap_or("").to_string())
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        assert_eq!(
            refused_field(r#"{"name":"a\u0000b","tags":{}}"#).as_deref(),
            Some("name")
        );
        assert_eq!(
            refused_field(r#"{"name":"ok","tags":{"region":"x\u001b"}}"#).as_deref(),
            Some("tags.region")
        );
        assert!(refused_field(r#"{"name":"two\nlines\tand a tab","tags":{}}"#).is_none());
        assert_eq!(
            refused_field(r#"{"name":"ok","tags":{"re\u0007gion":"x"}}"#).as_deref(),
            Some("tags.re\\u{7}gion"),
            "a tag's key is kept, so it is checked"
        );
    }

    #[test]
    fn fields_the_body_does_not_have_are_ignored_whatever_they_hold() {
        assert!(refused_field(r#"{"name":"ok","tags":{},"extra":"a\u0000b"}"#).is_none());
        assert!(
            refused_field(r#"{"name":"ok","tags":{},"e\u0001x":{"deep":["\u0002"]}}"#).is_none()
        );
        assert_eq!(
            refused_field(r#"{"extra":"\u0000","name":"a\u0000b","tags":{}}"#).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/octet-stream"));
    }
}
