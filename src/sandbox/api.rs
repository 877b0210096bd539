//! The data API, `GET {region}/api/v1/…`: Accept check, bearer token, division grant, rate limit,
//! scope, then the OData listing, by-key read or `$count` of the endpoint.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::books::{Key, Record};
use super::documented;
use super::entities::{self, Endpoint, Kind, Source};
use super::limits::Verdict;
use super::odata::error::{ApiError, add_headers};
use super::odata::filter::{Expr, Literal, Op};
use super::odata::query::QueryOptions;
use super::odata::rows::{Expanded, RowStyle, Rows};
use super::odata::{self, Paging};
use super::region::Region;
use super::registry::current_division;
use super::state::Shared;
use super::stats::Call;
use super::tokens::Grant;

const BULK_SELECT: &str = "Please add a $select or a $top=1 statement to the query string.";

/// What the stats need to know about a call, filled in as the request is understood.
#[derive(Debug, Default)]
struct CallInfo {
    client_id: Option<Uuid>,
    division: Option<i32>,
    endpoint: String,
    limit_headers: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct D<T> {
    d: T,
}

fn json_response<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET {region}/api/v1/{*rest}`.
pub async fn data(
    State(state): State<Shared>,
    Path((prefix, rest)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(region) = Region::from_prefix(&prefix) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut info = CallInfo::default();
    let mut response = match serve(&state, region, &rest, raw.as_deref(), &headers, &mut info) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    add_headers(&mut response, &info.limit_headers);
    state.stats.lock().record_call(Call {
        region,
        client_id: info.client_id,
        division: info.division,
        endpoint: &info.endpoint,
        status: response.status().as_u16(),
        now: state.clock.now_ms(),
    });
    response
}

fn serve(
    state: &Shared,
    region: Region,
    rest: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    info: &mut CallInfo,
) -> Result<Response, ApiError> {
    let (division, path) = rest.split_once('/').unwrap_or((rest, ""));
    info.endpoint = endpoint_name(path);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("application/json") {
        // Exact answers Atom XML without this header; the sandbox speaks JSON only.
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Send Accept: application/json (Exact answers Atom XML otherwise; the sandbox serves JSON only).",
        ));
    }
    let grant = authenticate(state, region, headers)?;
    info.client_id = Some(grant.client_id);
    let app = state
        .registry
        .read()
        .app(region, &grant.client_id.to_string())
        .cloned();
    let Some(app) = app else {
        return Err(unauthorized());
    };
    let base = base_url(state, region, headers);
    if division.eq_ignore_ascii_case("current") && path.eq_ignore_ascii_case("me") {
        info.endpoint = "current/Me".into();
        return me(state, region, &grant, &QueryOptions::parse(raw)?, &base);
    }
    let division: i32 = division
        .parse()
        .map_err(|_| ApiError::not_found("Resource not found."))?;
    info.division = Some(division);
    // `{header}({key})/{Lines}`: the header's lines, as a listing of the lines endpoint.
    let navigation = navigation(path)?;
    let (entity_path, key, count) = match &navigation {
        Some(nav) => (nav.lines.path, None, false),
        None => split_path(path),
    };
    let endpoint = entities::lookup(entity_path).ok_or_else(|| {
        ApiError::not_found(format!(
            "Resource not found for the segment '{entity_path}'."
        ))
    })?;
    info.endpoint = endpoint.path.to_string();
    // Exact does not validate the division of system/Divisions (PQ #470).
    if endpoint.source != Source::Divisions && !grant.divisions.contains(&division) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Forbidden")
            .with_header("Reason", "NoDivisionAccess"));
    }
    let verdict = state.limits.lock().check(
        (region, app.client_id, division),
        (app.minutely_limit, app.daily_limit),
        state.options.minute_window,
        state.clock.now_ms(),
    );
    match verdict {
        Verdict::Allowed(h) => info.limit_headers = h,
        Verdict::Refused(h) => {
            return Err(ApiError {
                headers: h,
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests.")
            });
        }
    }
    if !entities::scope_granted(&app.scopes, endpoint.scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden - Application Scope Violated. Cannot read",
        ));
    }
    // Parsed after the limiter: a malformed query is still a call that counts.
    let mut q = QueryOptions::parse(raw)?;
    let entity_url = format!("{base}/api/v1/{division}/{}", endpoint.path);
    let resource_url = match &navigation {
        Some(_) => format!("{base}/api/v1/{division}/{path}"),
        None => format!("{base}/api/v1/{division}/{entity_path}"),
    };
    if let Some(nav) = navigation {
        let of_parent = Expr::Cmp {
            field: nav.parent_key_field.to_string(),
            trim: false,
            op: Op::Eq,
            value: nav.parent,
        };
        q.filter = Some(match q.filter.take() {
            Some(f) => Expr::And(Box::new(f), Box::new(of_parent)),
            None => of_parent,
        });
    }
    read(
        state,
        &grant,
        division,
        endpoint,
        &q,
        &entity_url,
        &resource_url,
        key,
        count,
    )
}

#[allow(clippy::too_many_arguments)]
fn read(
    state: &Shared,
    grant: &Grant,
    division: i32,
    endpoint: &Endpoint,
    q: &QueryOptions,
    entity_url: &str,
    resource_url: &str,
    key: Option<&str>,
    count: bool,
) -> Result<Response, ApiError> {
    match endpoint.kind {
        Kind::Bulk if !q.has_select => return Err(ApiError::bad_request(BULK_SELECT)),
        Kind::Sync if !q.has_select && state.options.sync_requires_select => {
            return Err(ApiError::bad_request(BULK_SELECT));
        }
        Kind::Plain
            if endpoint.needs_select_or_top
                && !q.has_select
                && q.top.is_none()
                && key.is_none() =>
        {
            return Err(ApiError::bad_request(BULK_SELECT));
        }
        _ => {}
    }
    let books = state.books.read();
    let rows = match endpoint.source {
        Source::Set(set) => Rows::Table(
            books
                .table(division, set)
                .ok_or_else(|| ApiError::not_found("Division not found."))?,
        ),
        Source::Deleted => Rows::Deleted(books.deleted(division), division),
        Source::Divisions => Rows::Owned(division_rows(state, grant, &books)),
        Source::ReportingBalance => Rows::Owned(
            books
                .reporting_balance(division)
                .ok_or_else(|| ApiError::not_found("Division not found."))?,
        ),
    };
    // `$expand` of the line collection: the header's `$select` keeps the collection itself,
    // its `Lines/Field` parts select the lines' fields.
    let expanding;
    let (q, expansion) = match expand_lines(endpoint, q)? {
        Some((header_query, lines_endpoint, line_select)) => {
            expanding = header_query;
            (&expanding, Some((lines_endpoint, line_select)))
        }
        None => (q, None),
    };
    let lines_url;
    let lines_type;
    let expanded = match &expansion {
        Some((lines_endpoint, line_select)) => {
            let Source::Set(set) = lines_endpoint.source else {
                return Err(ApiError::query_syntax());
            };
            let table = books
                .table(division, set)
                .ok_or_else(|| ApiError::not_found("Division not found."))?;
            let mut by_header: HashMap<String, Vec<&Record>> = HashMap::new();
            for line in table.iter_by_key(None) {
                if let Some(Value::String(header)) = line.fields.value(endpoint.key_field) {
                    by_header
                        .entry(header.to_lowercase())
                        .or_default()
                        .push(line);
                }
            }
            lines_url = entity_url.replace(endpoint.path, lines_endpoint.path);
            lines_type = format!("Exact.Web.Api.Models.{}", lines_endpoint.type_name);
            Some(Expanded {
                by_header,
                style: RowStyle {
                    entity_url: &lines_url,
                    type_name: &lines_type,
                    select: line_select.as_deref(),
                    sync: false,
                    timestamp_as_string: state.options.timestamp_as_string,
                    lines: None,
                    documented: documented::fields(lines_endpoint.path),
                    expanded: None,
                },
            })
        }
        None => None,
    };
    let type_name = format!("Exact.Web.Api.Models.{}", endpoint.type_name);
    let style = RowStyle {
        entity_url,
        type_name: &type_name,
        select: q.select.as_deref(),
        sync: endpoint.kind == Kind::Sync,
        timestamp_as_string: state.options.timestamp_as_string,
        lines: endpoint.lines,
        documented: documented::fields(endpoint.path),
        expanded: expanded.as_ref(),
    };
    if let Some(key) = key {
        if !matches!(endpoint.kind, Kind::Plain | Kind::Read) {
            return Err(ApiError::query_syntax());
        }
        let key = odata::parse_key_token(key)?;
        let record = match &rows {
            Rows::Table(t) => t.get(&key).map(std::borrow::Cow::Borrowed),
            other => other.by_key(None).find(|r| r.key == key),
        };
        let Some(record) = record else {
            return Err(ApiError::not_found("Entity not found."));
        };
        return Ok(json_response(&D {
            d: odata::rows::RowView { record, style },
        }));
    }
    if count {
        let matching = odata::list(&rows, Paging::ByKey(usize::MAX), q, style, resource_url)?
            .results
            .len();
        return Ok(([(header::CONTENT_TYPE, "text/plain")], matching.to_string()).into_response());
    }
    let paging = match endpoint.kind {
        Kind::Sync => Paging::ByTimestamp {
            page: 1000,
            entity_type_filter: endpoint.source == Source::Deleted,
        },
        kind => Paging::ByKey(kind.page_size(state.options.read_page_size)),
    };
    let page = odata::list(&rows, paging, q, style, resource_url)?;
    if endpoint.bare_list {
        return Ok(json_response(&D { d: page.results }));
    }
    Ok(json_response(&D { d: page }))
}

/// What `$expand` asks of `endpoint`: `None` without it; else the query the header rows answer
/// (its `$select` with `Lines/Field` parts folded into `Lines`), the lines endpoint, and the
/// lines' own `$select` (`None`: every field). Exact expands only line collections.
#[allow(clippy::type_complexity)]
fn expand_lines(
    endpoint: &Endpoint,
    q: &QueryOptions,
) -> Result<Option<(QueryOptions, &'static Endpoint, Option<Vec<String>>)>, ApiError> {
    let Some(expand) = &q.expand else {
        return Ok(None);
    };
    let lines_name = endpoint
        .lines
        .filter(|l| l.eq_ignore_ascii_case(expand) && matches!(endpoint.kind, Kind::Plain))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Could not find a property named '{expand}' on type 'Exact.Web.Api.Models.{}'.",
                endpoint.type_name
            ))
        })?;
    let lines_endpoint = lines_endpoint(endpoint, lines_name).ok_or_else(ApiError::query_syntax)?;
    let mut header_query = q.clone();
    let mut line_select: Vec<String> = Vec::new();
    if let Some(select) = &q.select {
        let mut header_select = Vec::new();
        for field in select {
            match field.split_once('/') {
                Some((collection, line_field)) if collection == lines_name => {
                    if !documented::is_documented(lines_endpoint.path, line_field) {
                        return Err(ApiError::bad_request(format!(
                            "Property '{line_field}' does not exist."
                        )));
                    }
                    line_select.push(line_field.to_string());
                    if !header_select.iter().any(|f| f == lines_name) {
                        header_select.push(lines_name.to_string());
                    }
                }
                Some(_) => return Err(ApiError::query_syntax()),
                None => header_select.push(field.clone()),
            }
        }
        header_query.select = Some(header_select);
    }
    let line_select = (!line_select.is_empty()).then_some(line_select);
    Ok(Some((header_query, lines_endpoint, line_select)))
}

/// The endpoint of a header's line collection: `salesinvoice/SalesInvoices` + `SalesInvoiceLines`
/// → `salesinvoice/SalesInvoiceLines`.
fn lines_endpoint(header: &Endpoint, lines_name: &str) -> Option<&'static Endpoint> {
    let module = header.path.split('/').next()?;
    entities::lookup(&format!("{module}/{lines_name}"))
}

/// A navigation property: a header's line collection, e.g.
/// `salesinvoice/SalesInvoices(guid'…')/SalesInvoiceLines` (the `__deferred` URI in its rows).
struct Navigation {
    /// The lines endpoint (`salesinvoice/SalesInvoiceLines`).
    lines: &'static Endpoint,
    /// The field of a line naming its header: the header's key field (`InvoiceID`, `EntryID`).
    parent_key_field: &'static str,
    /// The header's key.
    parent: Literal,
}

/// The navigation `path` asks for, if it names one; an unknown property of a known header is
/// Exact's 404.
fn navigation(path: &str) -> Result<Option<Navigation>, ApiError> {
    let Some((header, property)) = path.rsplit_once(")/") else {
        return Ok(None);
    };
    let Some((header_path, key)) = header.rsplit_once('(') else {
        return Ok(None);
    };
    let Some(header_endpoint) = entities::lookup(header_path) else {
        return Ok(None);
    };
    let not_found =
        || ApiError::not_found(format!("Resource not found for the segment '{property}'."));
    let lines_name = header_endpoint
        .lines
        .filter(|l| l.eq_ignore_ascii_case(property))
        .ok_or_else(not_found)?;
    let lines = lines_endpoint(header_endpoint, lines_name).ok_or_else(not_found)?;
    let parent = match odata::parse_key_token(key)? {
        Key::Guid(id) => Literal::Guid(id.to_string()),
        Key::Int(n) => Literal::Int(n),
    };
    Ok(Some(Navigation {
        lines,
        parent_key_field: header_endpoint.key_field,
        parent,
    }))
}

/// `{path}`, `{path}(key)` or `{path}/$count`.
fn split_path(path: &str) -> (&str, Option<&str>, bool) {
    if let Some(p) = path.strip_suffix("/$count") {
        return (p, None, true);
    }
    if let (Some(open), true) = (path.rfind('('), path.ends_with(')')) {
        return (&path[..open], Some(&path[open + 1..path.len() - 1]), false);
    }
    (path, None, false)
}

/// The endpoint as stats name it: the path without key or `$count`.
fn endpoint_name(path: &str) -> String {
    if let Ok(Some(nav)) = navigation(path) {
        return nav.lines.path.to_string();
    }
    let (p, _, _) = split_path(path);
    entities::lookup(p).map_or_else(|| p.to_string(), |e| e.path.to_string())
}

fn unauthorized() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized")
        .with_header("WWW-Authenticate", "Bearer")
}

/// The token of an `Authorization: Bearer …` header (either case of `Bearer`), trimmed.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

fn authenticate(state: &Shared, region: Region, headers: &HeaderMap) -> Result<Grant, ApiError> {
    let token = bearer_token(headers).ok_or_else(unauthorized)?;
    let now = state.clock.now_ms();
    state
        .tokens
        .lock()
        .authenticate(token, region, now)
        .cloned()
        .ok_or_else(unauthorized)
}

/// `http://{Host}/{region}`, so links work through whatever address the client used.
pub fn base_url(state: &Shared, region: Region, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| state.addr.to_string(), str::to_string);
    format!("http://{host}/{}", region.path_prefix())
}

/// `current/Me`: a collection even for one user; exempt from rate limits (no headers).
fn me(
    state: &Shared,
    region: Region,
    grant: &Grant,
    q: &QueryOptions,
    base: &str,
) -> Result<Response, ApiError> {
    let user = state
        .registry
        .read()
        .user(&grant.username)
        .cloned()
        .ok_or_else(unauthorized)?;
    let codes = state.division_codes(region);
    let current = current_division(&user, region, &codes).unwrap_or_default();
    let now = state.clock.now_ms();
    let (lang, offset) = match region {
        Region::Nl => ("nl-NL", 3600),
        Region::Uk => ("en-GB", 0),
    };
    let server_time = chrono::DateTime::from_timestamp_millis(now + offset * 1000)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    let mut f = Map::new();
    f.insert("UserID".into(), Value::String(user.user_id.to_string()));
    f.insert("CurrentDivision".into(), Value::from(current));
    f.insert("AccountingDivision".into(), Value::from(current));
    f.insert(
        "DivisionCustomer".into(),
        Value::String(Uuid::nil().to_string()),
    );
    f.insert("FullName".into(), Value::String(user.full_name.clone()));
    f.insert("Email".into(), Value::String(user.email.clone()));
    f.insert("UserName".into(), Value::String(user.username.clone()));
    f.insert("LanguageCode".into(), Value::String(lang.into()));
    f.insert(
        "Legislation".into(),
        Value::String(if region == Region::Nl { "1" } else { "2" }.into()),
    );
    f.insert("ServerTime".into(), Value::String(server_time));
    f.insert("ServerUtcOffset".into(), Value::from(offset));
    let rows = Rows::Owned(vec![Record::from_map(Key::Guid(user.user_id), 0, &f)]);
    let url = format!("{base}/api/v1/current/Me");
    let style = RowStyle {
        entity_url: &url,
        type_name: "Exact.Web.Api.Models.System.Me",
        select: q.select.as_deref(),
        sync: false,
        timestamp_as_string: false,
        lines: None,
        documented: &[],
        expanded: None,
    };
    let page = odata::list(&rows, Paging::ByKey(60), q, style, &url)?;
    Ok(json_response(&D { d: page }))
}

/// Exact's `/Date(ms)/` of a local wall-clock time.
fn wire_datetime(t: chrono::NaiveDateTime) -> Value {
    Value::String(format!("/Date({})/", t.and_utc().timestamp_millis()))
}

/// `system/Divisions`: only the granted divisions.
fn division_rows(state: &Shared, grant: &Grant, books: &super::books::Books) -> Vec<Record> {
    let user = state.registry.read().user(&grant.username).cloned();
    let codes: Vec<i32> = books
        .divisions()
        .filter(|d| d.region == grant.region)
        .map(|d| d.code)
        .collect();
    let current = user.and_then(|u| current_division(&u, grant.region, &codes));
    books
        .divisions()
        .filter(|d| d.region == grant.region && grant.divisions.contains(&d.code))
        .map(|d| {
            let mut f = Map::new();
            f.insert("Code".into(), Value::from(d.code));
            f.insert("Description".into(), Value::String(d.description.clone()));
            f.insert("Currency".into(), Value::String(d.currency.clone()));
            f.insert("Country".into(), Value::String(d.country.clone()));
            f.insert(
                "Legislation".into(),
                Value::String(if d.region == Region::Nl { "1" } else { "2" }.into()),
            );
            f.insert("VATNumber".into(), Value::String(d.vat_number.clone()));
            f.insert("Hid".into(), Value::from(d.hid));
            f.insert("Current".into(), Value::Bool(current == Some(d.code)));
            f.insert("IsMainDivision".into(), Value::Bool(d.is_main));
            f.insert("Status".into(), Value::from(1));
            f.insert("BlockingStatus".into(), Value::from(0));
            f.insert(
                "DivisionMoveDate".into(),
                d.move_date.map_or(Value::Null, wire_datetime),
            );
            f.insert(
                "ChamberOfCommerceNumber".into(),
                Value::String(d.chamber_of_commerce.clone()),
            );
            f.insert(
                "AddressLine1".into(),
                Value::String(d.address_line1.clone()),
            );
            f.insert("AddressLine2".into(), Value::Null);
            f.insert("AddressLine3".into(), Value::Null);
            f.insert("City".into(), Value::String(d.city.clone()));
            f.insert("Postcode".into(), Value::String(d.postcode.clone()));
            f.insert("State".into(), Value::Null);
            f.insert("Phone".into(), Value::String(d.phone.clone()));
            f.insert("Email".into(), Value::String(d.email.clone()));
            f.insert("Website".into(), Value::String(d.website.clone()));
            f.insert("Created".into(), wire_datetime(d.created));
            f.insert("Modified".into(), wire_datetime(d.created));
            Record::from_map(Key::Int(d.code as i64), 0, &f)
        })
        .collect()
}
