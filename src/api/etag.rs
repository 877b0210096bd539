//! `ETag` on data reads and `If-None-Match` → `304 Not Modified`: a client that polls a page
//! again without a change gets an empty answer, and the server need not even build the page.
//!
//! A page's tag is derived from what decides its bytes (the dataset's fingerprint, which moves
//! with every change of its records, and the request's path and query), never from the bytes,
//! so it costs a hash of a few dozen bytes and is the same on every instance.

use axum::http::header::{ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// A strong entity tag over `parts`, quoted as the header wants it.
pub fn entity_tag(parts: &[&[u8]]) -> HeaderValue {
    let mut digest = Sha256::new();
    for part in parts {
        // Lengths first, so that parts cannot run into each other.
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part);
    }
    let tag = format!("\"{}\"", hex::encode(&digest.finalize()[..16]));
    HeaderValue::from_str(&tag).expect("hex in quotes is a valid header value")
}

/// Whether the request's `If-None-Match` names `tag` (or is `*`). GETs compare weakly (RFC
/// 9110 §13.1.2): a `W/` prefix on either side does not matter.
pub fn none_match_hits(request: &HeaderMap, tag: &HeaderValue) -> bool {
    let opaque = |value: &str| value.trim().trim_start_matches("W/").to_string();
    let Ok(tag) = tag.to_str().map(opaque) else {
        return false;
    };
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == tag)
}

/// `304 Not Modified` with the tag and no body.
pub fn not_modified(tag: HeaderValue) -> Response {
    (StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response()
}

/// `response` with its `ETag`.
pub fn tagged(mut response: Response, tag: HeaderValue) -> Response {
    response.headers_mut().insert(ETAG, tag);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn tags_differ_with_their_parts_and_not_by_where_parts_split() {
        let tag = entity_tag(&[b"ab", b"c"]);
        assert_eq!(tag, entity_tag(&[b"ab", b"c"]));
        assert_ne!(tag, entity_tag(&[b"a", b"bc"]));
        assert!(tag.to_str().unwrap().starts_with('"'));
    }

    #[test]
    fn if_none_match_compares_weakly_in_lists_and_takes_a_star() {
        let tag = entity_tag(&[b"x"]);
        let text = tag.to_str().unwrap();
        assert!(none_match_hits(&asking(&[text]), &tag));
        assert!(none_match_hits(&asking(&[&format!("W/{text}")]), &tag));
        assert!(none_match_hits(
            &asking(&[&format!("\"other\", {text}")]),
            &tag
        ));
        assert!(none_match_hits(&asking(&["\"other\"", text]), &tag));
        assert!(none_match_hits(&asking(&["*"]), &tag));
        assert!(!none_match_hits(&asking(&["\"other\""]), &tag));
        assert!(!none_match_hits(&HeaderMap::new(), &tag));
    }
}
