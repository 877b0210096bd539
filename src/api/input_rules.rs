//! The input rules every handler enforces, written into the OpenAPI document so that the
//! document and the server agree (a client generated from the spec, or schemathesis, sends only
//! what the server takes):
//!
//! - no control character (other than tab and line breaks) in any string parameter, any string
//!   of a request body, or any key of a request body's free-form map (`tags`): see
//!   [`super::extract::has_control_character`];
//! - a text field marked `#[schema(min_length = 1)]` is one the server trims and refuses when
//!   blank (names): it gets [`NOT_BLANK`];
//! - other field rules (a client id that is a GUID) are written on the field itself with
//!   `#[schema(pattern = …)]`.

use serde_json::Value;

/// A string with no control character other than tab, line feed and carriage return (Rust's
/// `char::is_control` less those three): C0, DEL and C1.
pub const NO_CONTROL_CHARACTERS: &str =
    r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// A name: no control character, and something other than whitespace.
pub const NOT_BLANK: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Adds [`NO_CONTROL_CHARACTERS`] (or [`NOT_BLANK`]) to every string parameter and every string
/// (and map key) of the request bodies' schemas that has no pattern of its own.
pub fn document(spec: &mut Value) {
    let mut bodies = vec![];
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(operations) = item.as_object_mut() else {
                continue;
            };
            for operation in operations.values_mut() {
                // `get_mut`, not indexing: indexing a missing key would write a `null` there.
                let parameters = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut);
                for parameter in parameters.into_iter().flatten() {
                    if let Some(schema) = parameter.get_mut("schema") {
                        restrict_strings(schema);
                    }
                }
                let content = operation
                    .get_mut("requestBody")
                    .and_then(|body| body.get_mut("content"))
                    .and_then(Value::as_object_mut);
                for media in content.into_iter().flat_map(|c| c.values_mut()) {
                    let Some(schema) = media.get_mut("schema") else {
                        continue;
                    };
                    match schema.get("$ref").and_then(Value::as_str) {
                        Some(reference) => bodies.push(reference.to_string()),
                        None => restrict_strings(schema),
                    }
                }
            }
        }
    }
    for reference in bodies {
        let name = reference.trim_start_matches("#/components/schemas/");
        let schemas = spec
            .get_mut("components")
            .and_then(|c| c.get_mut("schemas"));
        if let Some(schema) = schemas.and_then(|s| s.get_mut(name)) {
            restrict_strings(schema);
        }
    }
}

/// Walks one schema: strings without a pattern get [`NO_CONTROL_CHARACTERS`] ([`NOT_BLANK`]
/// when `minLength` is 1), recursively through properties, items, map values and map keys.
fn restrict_strings(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let is_string = match &object.get("type") {
        Some(Value::String(kind)) => kind == "string",
        Some(Value::Array(kinds)) => kinds.iter().any(|k| k == "string"),
        _ => false,
    };
    if is_string && !object.contains_key("pattern") && !object.contains_key("enum") {
        let pattern = if object.get("minLength") == Some(&Value::from(1)) {
            NOT_BLANK
        } else {
            NO_CONTROL_CHARACTERS
        };
        object.insert("pattern".into(), pattern.into());
    }
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        properties.values_mut().for_each(restrict_strings);
    }
    for key in ["items", "additionalProperties", "propertyNames"] {
        if let Some(inner) = object.get_mut(key) {
            restrict_strings(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(alternatives) = object.get_mut(key).and_then(Value::as_array_mut) {
            alternatives.iter_mut().for_each(restrict_strings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::has_control_character;

    /// The patterns say what `has_control_character` and a trim say, on every character class
    /// that matters.
    #[test]
    fn the_patterns_agree_with_the_server_checks() {
        let no_control = regex::Regex::new(NO_CONTROL_CHARACTERS).unwrap();
        let not_blank = regex::Regex::new(NOT_BLANK).unwrap();
        for text in [
            "",
            "Acme",
            "a\u{0}b",
            "tab\there",
            "line\nbreak",
            "\r",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "é",
            " ",
            "  x  ",
            "\t",
            "\u{1b}[31m",
            "\u{2003}",
        ] {
            assert_eq!(
                no_control.is_match(text),
                !has_control_character(text),
                "{text:?}"
            );
            assert_eq!(
                not_blank.is_match(text),
                !has_control_character(text) && !text.trim().is_empty(),
                "{text:?} as a name"
            );
        }
    }
}
