//! The sandbox admin API under `/_sandbox`: apps, users, clock, faults, stats, and books mutations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::books::{BooksError, EntitySet, Key};
use super::clock::rfc3339;
use super::entities::set_by_name;
use super::faults::FaultSpec;
use super::odata::parse_key_token;
use super::region::Region;
use super::seed::{App, User};
use super::state::Shared;

/// The admin routes (nested under `/_sandbox`).
pub fn router() -> axum::Router<Shared> {
    axum::Router::new()
        .route("/apps", get(list_apps).post(register_app))
        .route("/users", get(list_users).post(register_user))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/stats", get(stats))
        .route("/divisions", get(divisions))
        .route("/books/{region}/{division}/summary", get(summary))
        .route("/books/{region}/{division}/move", post(move_division))
        .route(
            "/books/{region}/{division}/forget-deletions",
            post(forget_deletions),
        )
        .route(
            "/books/{region}/{division}/{set}",
            get(list_records).post(create_record),
        )
        .route(
            "/books/{region}/{division}/{set}/{key}",
            axum::routing::put(update_record)
                .patch(update_record)
                .delete(delete_record),
        )
        .route(
            "/books/{region}/{division}/{set}/{key}/payments",
            post(record_payment),
        )
}

/// An admin API error: a status and `{"error": message}`.
#[derive(Debug)]
struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> AdminError {
    AdminError(status, message.to_string())
}

impl From<BooksError> for AdminError {
    fn from(e: BooksError) -> Self {
        let status = match e {
            BooksError::NoSuchDivision | BooksError::NoSuchRecord => StatusCode::NOT_FOUND,
            BooksError::NotMutable(_) | BooksError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        error(status, e)
    }
}

type AdminResult = Result<Response, AdminError>;

/// `GET /_sandbox/apps`: every app with its credentials (it is a sandbox).
async fn list_apps(State(state): State<Shared>) -> Json<Vec<App>> {
    Json(state.registry.read().apps().to_vec())
}

/// `POST /_sandbox/apps`: registers an app, or replaces the one with the same region and client id.
async fn register_app(State(state): State<Shared>, Json(app): Json<App>) -> AdminResult {
    let mut registry = state.registry.write();
    if registry.user(&app.owner).is_none() {
        let why = format!("owner {:?} is not a registered user", app.owner);
        return Err(error(StatusCode::BAD_REQUEST, why));
    }
    registry.upsert_app(app.clone());
    Ok((StatusCode::CREATED, Json(app)).into_response())
}

/// `GET /_sandbox/users`.
async fn list_users(State(state): State<Shared>) -> Json<Vec<User>> {
    Json(state.registry.read().users().to_vec())
}

/// `POST /_sandbox/users`: adds a user or replaces the one with the same name.
async fn register_user(State(state): State<Shared>, Json(user): Json<User>) -> Response {
    state.registry.write().upsert_user(user.clone());
    (StatusCode::CREATED, Json(user)).into_response()
}

fn clock_json(state: &Shared) -> Value {
    let now = state.clock.now_ms();
    json!({"now_ms": now, "now": rfc3339(now), "frozen": state.clock.is_frozen()})
}

/// `GET /_sandbox/clock`.
async fn clock(State(state): State<Shared>) -> Json<Value> {
    Json(clock_json(&state))
}

/// Body of `POST /_sandbox/clock/advance`; the parts add up.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    minutes: i64,
    #[serde(default)]
    days: i64,
}

/// `POST /_sandbox/clock/advance`: moves sandbox time forward.
async fn advance_clock(State(state): State<Shared>, Json(a): Json<Advance>) -> Json<Value> {
    state
        .clock
        .advance((a.seconds + a.minutes * 60 + a.days * 86_400) * 1000);
    Json(clock_json(&state))
}

/// `GET /_sandbox/faults`: the faults still waiting.
async fn list_faults(State(state): State<Shared>) -> Json<Value> {
    Json(json!(state.faults.lock().pending()))
}

/// `POST /_sandbox/faults`: queues a fault, or revokes a connection's tokens at once.
async fn add_fault(State(state): State<Shared>, Json(spec): Json<FaultSpec>) -> AdminResult {
    if let FaultSpec::Revoke {
        region,
        client_id,
        username,
    } = &spec
    {
        let revoked = state
            .tokens
            .lock()
            .revoke(*region, *client_id, username.as_deref());
        return Ok(Json(json!({"revoked": revoked})).into_response());
    }
    state
        .faults
        .lock()
        .add(&spec)
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    Ok((StatusCode::CREATED, Json(json!(spec))).into_response())
}

/// `DELETE /_sandbox/faults`.
async fn clear_faults(State(state): State<Shared>) -> StatusCode {
    state.faults.lock().clear();
    StatusCode::NO_CONTENT
}

/// `GET /_sandbox/stats`.
async fn stats(State(state): State<Shared>) -> Json<Value> {
    Json(json!(*state.stats.lock()))
}

/// `GET /_sandbox/divisions`: every division with its region.
async fn divisions(State(state): State<Shared>) -> Json<Value> {
    let books = state.books.read();
    let list: Vec<Value> = books
        .divisions()
        .map(|d| {
            json!({"code": d.code, "region": d.region, "description": d.description,
                   "currency": d.currency, "country": d.country, "is_main": d.is_main})
        })
        .collect();
    Json(Value::Array(list))
}

/// Resolves `{region}/{division}` of a books URL, refusing a division of the other region.
fn division_of(state: &Shared, region: &str, division: i32) -> Result<i32, AdminError> {
    let region = Region::from_prefix(region)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "unknown region"))?;
    match state.books.read().division(division) {
        Some(d) if d.region == region => Ok(division),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "no such division in this region",
        )),
    }
}

fn set_of(name: &str) -> Result<EntitySet, AdminError> {
    set_by_name(name).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            format!("unknown entity set {name:?}"),
        )
    })
}

fn key_of(text: &str) -> Result<Key, AdminError> {
    parse_key_token(text).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "the key must be a GUID or an integer",
        )
    })
}

/// The write-locked books, stamped with sandbox time for `Created`, `Modified` and `DeletedDate`.
fn books_now(state: &Shared) -> parking_lot::RwLockWriteGuard<'_, super::books::Books> {
    let mut books = state.books.write();
    if let Some(now) = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()) {
        books.set_now(now);
    }
    books
}

/// `GET /_sandbox/books/{region}/{division}/summary`.
async fn summary(
    State(state): State<Shared>,
    Path((region, division)): Path<(String, i32)>,
) -> AdminResult {
    let division = division_of(&state, &region, division)?;
    let summary = state
        .books
        .read()
        .summary(division)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "no such division"))?;
    Ok(Json(json!(summary)).into_response())
}

/// `GET /_sandbox/books/{region}/{division}/{set}[?$filter=…]`: the rows of a set (those matching
/// an Exact-style `$filter`), every field plus `Timestamp`, in key order — so that tests can name
/// the records they change (an invoice's line IDs, say) without an OAuth token.
async fn list_records(
    State(state): State<Shared>,
    Path((region, division, set)): Path<(String, i32, String)>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> AdminResult {
    let (division, set) = (division_of(&state, &region, division)?, set_of(&set)?);
    let filter = query
        .get("$filter")
        .map(|f| super::odata::filter::parse(f))
        .transpose()
        .map_err(|_| error(StatusCode::BAD_REQUEST, "the $filter could not be parsed"))?;
    let books = state.books.read();
    let table = books
        .table(division, set)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "no such division"))?;
    let rows: Vec<Value> = table
        .iter_by_key(None)
        .filter(|r| filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
        .map(|r| {
            let mut fields = r.fields.to_map();
            fields.insert("Timestamp".into(), json!(r.timestamp));
            Value::Object(fields)
        })
        .collect();
    Ok(Json(rows).into_response())
}

/// `POST /_sandbox/books/{region}/{division}/move`: Exact moved the division (`DivisionMoveDate`).
async fn move_division(
    State(state): State<Shared>,
    Path((region, division)): Path<(String, i32)>,
) -> AdminResult {
    let division = division_of(&state, &region, division)?;
    books_now(&state).move_division(division)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_sandbox/books/{region}/{division}/forget-deletions`: empties the division's
/// `sync/Deleted` log, as Exact's does for deletions older than two months, so that only a full
/// read can tell that those records are gone.
async fn forget_deletions(
    State(state): State<Shared>,
    Path((region, division)): Path<(String, i32)>,
) -> AdminResult {
    let division = division_of(&state, &region, division)?;
    books_now(&state).forget_deletions(division)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_sandbox/books/{region}/{division}/{set}`: creates a record from Exact-style fields.
async fn create_record(
    State(state): State<Shared>,
    Path((region, division, set)): Path<(String, i32, String)>,
    Json(fields): Json<Map<String, Value>>,
) -> AdminResult {
    let (division, set) = (division_of(&state, &region, division)?, set_of(&set)?);
    let key = books_now(&state).create(division, set, fields)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key": key.odata_literal()})),
    )
        .into_response())
}

/// `PUT|PATCH /_sandbox/books/{region}/{division}/{set}/{key}`: replaces the given fields.
async fn update_record(
    State(state): State<Shared>,
    Path((region, division, set, key)): Path<(String, i32, String, String)>,
    Json(patch): Json<Map<String, Value>>,
) -> AdminResult {
    let (division, set, key) = (
        division_of(&state, &region, division)?,
        set_of(&set)?,
        key_of(&key)?,
    );
    books_now(&state).update(division, set, &key, patch)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /_sandbox/books/{region}/{division}/{set}/{key}`: deletes it; sync/Deleted logs it.
async fn delete_record(
    State(state): State<Shared>,
    Path((region, division, set, key)): Path<(String, i32, String, String)>,
) -> AdminResult {
    let (division, set, key) = (
        division_of(&state, &region, division)?,
        set_of(&set)?,
        key_of(&key)?,
    );
    books_now(&state).delete(division, set, &key)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Body of a payment: amount in the document's currency, optional `YYYY-MM-DD` date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payment {
    amount: f64,
    #[serde(default)]
    date: Option<chrono::NaiveDate>,
}

/// `POST /_sandbox/books/{region}/{division}/{set}/{key}/payments`: pays (part of) an invoice or bill.
async fn record_payment(
    State(state): State<Shared>,
    Path((region, division, set, key)): Path<(String, i32, String, String)>,
    Json(p): Json<Payment>,
) -> AdminResult {
    let (division, set, key) = (
        division_of(&state, &region, division)?,
        set_of(&set)?,
        key_of(&key)?,
    );
    books_now(&state).record_payment(division, set, &key, p.amount, p.date)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
