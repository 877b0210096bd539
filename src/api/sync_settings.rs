//! Codat's sync settings (`GET`/`POST /profile/syncSettings`): per tenant and data type, how
//! many hours pass between scheduled refreshes and whether a new link pulls the data type.
//! The scheduler (`crate::sync::schedule`) acts on them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiJson;
use super::time::iso_utc;
use crate::app::AppState;
use crate::provider::DataType;
use crate::store::SyncSettingRow;
use crate::sync::schedule::effective_settings;

/// Limits of the integer fields, the same in the document and in the checks.
const MAX_SCHEDULE_HOURS: i32 = 8760;
const MAX_SYNC_ORDER: i32 = 10_000;
const MAX_MONTHS: i32 = 1200;

/// Codat's SyncSetting: how often, and how much history, a data type is fetched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSetting {
    /// The data type's key (`invoices`, `chartOfAccounts`, …): one Ledgerline serves.
    pub data_type: String,
    /// Whether a new link queues this data type at once.
    pub fetch_on_first_link: bool,
    /// Hours between scheduled refreshes (Codat's default: 24).
    #[schema(value_type = i32, minimum = 1, maximum = 8760)]
    #[serde(deserialize_with = "whole_number")]
    pub sync_schedule: i64,
    /// The order in which data types are listed. Pulls queued together still run in
    /// Ledgerline's pull order, which lets data types read from one upstream source share it.
    #[schema(value_type = i32, minimum = 0, maximum = 10000)]
    #[serde(deserialize_with = "whole_number")]
    pub sync_order: i64,
    /// Records modified upstream (`sourceModifiedDate`) before this date-time are not stored,
    /// and one stored earlier is flagged deleted when a pull reads it again (a `fullPull`
    /// applies it to everything). Every data type but `company`.
    #[schema(nullable = false, format = DateTime)]
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_from_utc: Option<String>,
    /// Months back from now: records modified upstream before then are not stored, as with
    /// `syncFromUtc` (the later of the two wins). 0 limits nothing.
    #[schema(value_type = Option<i32>, nullable = false, minimum = 0, maximum = 1200)]
    #[serde(
        default,
        deserialize_with = "whole_number_not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_from_window: Option<i64>,
    /// Months of financial statements to fetch, at Codat (stored and returned; Ledgerline serves
    /// no financial statement, so it limits nothing).
    #[schema(value_type = Option<i32>, nullable = false, minimum = 0, maximum = 1200)]
    #[serde(
        default,
        deserialize_with = "whole_number_not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub months_to_sync: Option<i64>,
    /// Whether the setting is locked: a later `POST` that changes a locked setting is refused
    /// (409) unless it sends `isLocked: false` with it, which unlocks it; `overridesDefaults:
    /// false` is refused while any setting is locked. Absent keeps the stored value (unlocked
    /// for a data type never set).
    #[schema(nullable = false)]
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_locked: Option<bool>,
}

/// An integer field, also when written `24.0` (JSON Schema's integers include it); the range
/// is checked afterwards, so that the message names the limits.
fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(whole) = number.as_i64() {
        return Ok(whole);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(D::Error::custom(format!(
            "{number} is not a whole number in range"
        ))),
    }
}

/// An optional integer field: absent is `None`, `null` is refused (the document says so).
fn whole_number_not_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    whole_number(deserializer).map(Some)
}

/// An optional field: absent is `None`, `null` is refused (the document says so).
fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Codat's SyncSettings: the caller's settings for every data type Ledgerline serves.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettings {
    /// The tenant's id (Codat's client id).
    pub client_id: Uuid,
    pub settings: Vec<SyncSetting>,
    /// Whether the tenant has set its own settings (else every data type has the defaults).
    pub overrides_defaults: bool,
}

/// The body of `POST /profile/syncSettings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSyncSettings {
    /// The tenant's id, as `GET` answers it. The API key says whose settings change.
    pub client_id: Uuid,
    /// The data types to change; the others keep their settings.
    pub settings: Vec<SyncSetting>,
    /// `false` discards the tenant's settings (and these): every data type is back to the
    /// defaults.
    #[schema(default = true)]
    #[serde(default = "yes")]
    pub overrides_defaults: bool,
}

fn yes() -> bool {
    true
}

/// Routes for the sync settings.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_sync_settings, update_sync_settings))
}

pub const TAG: &str = "Sync settings";

fn view(row: &SyncSettingRow) -> SyncSetting {
    SyncSetting {
        data_type: row.data_type.clone(),
        fetch_on_first_link: row.fetch_on_first_link,
        sync_schedule: row.sync_schedule_hours.into(),
        sync_order: row.sync_order.into(),
        sync_from_utc: row.sync_from_utc.map(iso_utc),
        sync_from_window: row.sync_from_window.map(i64::from),
        months_to_sync: row.months_to_sync.map(i64::from),
        is_locked: Some(row.is_locked),
    }
}

/// Checks one posted setting; the fields at fault are named as `settings[i].field`.
fn checked(index: usize, setting: &SyncSetting) -> Result<SyncSettingRow, Vec<(String, String)>> {
    let field = |name: &str| format!("settings[{index}].{name}");
    let mut problems = vec![];
    if DataType::from_key(&setting.data_type).is_none() {
        problems.push((
            field("dataType"),
            format!(
                "{:?} is not a data type Ledgerline serves; it serves: {}",
                setting.data_type,
                DataType::all()
                    .map(|d| d.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut range = |name: &str, value: Option<i64>, min: i32, max: i32| {
        if let Some(value) = value
            && !(i64::from(min)..=i64::from(max)).contains(&value)
        {
            problems.push((
                field(name),
                format!("{value} is out of range: {min} to {max}"),
            ));
        }
    };
    range(
        "syncSchedule",
        Some(setting.sync_schedule),
        1,
        MAX_SCHEDULE_HOURS,
    );
    range("syncOrder", Some(setting.sync_order), 0, MAX_SYNC_ORDER);
    range("syncFromWindow", setting.sync_from_window, 0, MAX_MONTHS);
    range("monthsToSync", setting.months_to_sync, 0, MAX_MONTHS);
    let sync_from_utc = match setting.sync_from_utc.as_deref() {
        None => None,
        // RFC 3339 with its `T` (chrono would also take a space, which the document's
        // `date-time` does not).
        Some(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) if matches!(text.as_bytes().get(10), Some(b'T' | b't')) => {
                Some(at.timestamp_millis())
            }
            _ => {
                problems.push((
                    field("syncFromUtc"),
                    format!("{text:?} is not a date-time such as 2020-01-01T12:00:00Z"),
                ));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SyncSettingRow {
        data_type: setting.data_type.clone(),
        fetch_on_first_link: setting.fetch_on_first_link,
        // In range (checked above), so these fit.
        sync_schedule_hours: setting.sync_schedule as i32,
        sync_order: setting.sync_order as i32,
        sync_from_utc,
        sync_from_window: setting.sync_from_window.map(|v| v as i32),
        months_to_sync: setting.months_to_sync.map(|v| v as i32),
        // Absent: as stored (see `locked_changes`).
        is_locked: setting.is_locked.unwrap_or(false),
    })
}

/// The posted settings that would change a locked one without unlocking it, named as
/// `settings[i].isLocked`; and the rows to store, a lock kept where `isLocked` was absent.
fn locked_changes(
    posted: &[SyncSetting],
    rows: Vec<SyncSettingRow>,
    stored: &[SyncSettingRow],
) -> Result<Vec<SyncSettingRow>, Vec<(String, String)>> {
    let mut problems = vec![];
    let mut out = Vec::with_capacity(rows.len());
    for (index, (setting, mut row)) in posted.iter().zip(rows).enumerate() {
        let Some(current) = stored.iter().find(|s| s.data_type == row.data_type) else {
            out.push(row);
            continue;
        };
        if current.is_locked && setting.is_locked != Some(false) {
            row.is_locked = true;
            if row != *current {
                problems.push((
                    format!("settings[{index}].isLocked"),
                    format!(
                        "the setting of {} is locked: send \"isLocked\": false with it to unlock \
                         and change it",
                        row.data_type
                    ),
                ));
            }
        }
        out.push(row);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Get sync settings
///
/// How often each data type Ledgerline serves is refreshed on schedule (`syncSchedule`, in
/// hours) and whether a new link pulls it (`fetchOnFirstLink`), for the caller's tenant.
#[utoipa::path(get, path = "/profile/syncSettings", tag = TAG,
    operation_id = "get_sync_settings",
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The settings of every data type", body = SyncSettings),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
async fn get_sync_settings(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<SyncSettings>> {
    let stored = state.store.sync_settings(tenant.0.id).await?;
    Ok(Json(SyncSettings {
        client_id: tenant.0.id,
        settings: effective_settings(&stored)
            .iter()
            .map(|(_, row)| view(row))
            .collect(),
        overrides_defaults: !stored.is_empty(),
    }))
}

/// Update all sync settings
///
/// Sets the listed data types' settings for the caller's tenant (the API key says which; the
/// others keep theirs; a data type listed twice takes the last). `overridesDefaults: false`
/// puts every data type back to the defaults (every 24 hours, fetched on first link). A
/// locked setting (`isLocked`) changes only with `isLocked: false`, which unlocks it. The
/// scheduler uses the new schedules from its next look, within a minute.
#[utoipa::path(post, path = "/profile/syncSettings", tag = TAG,
    operation_id = "update_sync_settings",
    request_body = UpdateSyncSettings,
    security(("auth_header" = [])),
    responses(
        (status = 204, description = "Stored"),
        (status = 400, description = "Ledgerline extension: a setting is invalid (the field is named in `validation`)", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 409, description = "Ledgerline extension: a locked setting would change without `isLocked: false`, or `overridesDefaults: false` while a setting is locked (named in `validation`)", body = ErrorMessage),
    ))]
async fn update_sync_settings(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<UpdateSyncSettings>,
) -> ApiResult<StatusCode> {
    let mut rows = Vec::with_capacity(body.settings.len());
    let mut problems = vec![];
    for (index, setting) in body.settings.iter().enumerate() {
        match checked(index, setting) {
            Ok(row) => rows.push(row),
            Err(mut more) => problems.append(&mut more),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    let stored = state.store.sync_settings(tenant.0.id).await?;
    if !body.overrides_defaults {
        let locked: Vec<&str> = stored
            .iter()
            .filter(|s| s.is_locked)
            .map(|s| s.data_type.as_str())
            .collect();
        if !locked.is_empty() {
            return Err(ApiError::invalid_field(
                "overridesDefaults",
                format!(
                    "the settings of {} are locked: unlock them (\"isLocked\": false) before \
                     going back to the defaults",
                    locked.join(", ")
                ),
            )
            .with_status(StatusCode::CONFLICT));
        }
        state.store.clear_sync_settings(tenant.0.id).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let rows = locked_changes(&body.settings, rows, &stored)
        .map_err(|problems| ApiError::invalid_fields(problems).with_status(StatusCode::CONFLICT))?;
    // The last of a data type listed twice wins.
    let mut unique: Vec<SyncSettingRow> = vec![];
    for row in rows.into_iter().rev() {
        if !unique.iter().any(|r| r.data_type == row.data_type) {
            unique.push(row);
        }
    }
    state
        .store
        .upsert_sync_settings(tenant.0.id, &unique, state.clock.now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Writes the served data types into the document as the closed set `dataType` takes.
pub fn document(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(setting))) = components.schemas.get_mut("SyncSetting") {
        setting.properties.insert(
            "dataType".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The data type's key: one Ledgerline serves"))
                .enum_values(Some(DataType::all().map(|d| d.key())))
                .into(),
        );
    }
}
