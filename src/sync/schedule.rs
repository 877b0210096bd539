//! Scheduled pulls: Codat's sync settings say, per tenant and data type, how many hours may pass
//! between refreshes (`syncSchedule`, default 24) and whether a new link pulls the data type at
//! once (`fetchOnFirstLink`). The scheduler looks every minute (of the server's clock, which
//! tests move) for Linked connections whose data types are due — last queued pull +
//! `syncSchedule` hours, or the link + `syncSchedule` for one never pulled — and queues them
//! through [`SyncEngine::queue_many_as`], the path on-demand pulls take, so the store's one-running-
//! pull rule covers both and several instances never queue the same pull twice. Scheduled pulls
//! draw on the division's budget as `Scheduled`: they stop short of the daily reserve kept for
//! on-demand pulls.
//!
//! A server that starts finds every pull that came due while it was down at once. Rather than
//! queue them all in its first minute, it gives each connection a fixed place in a start-up
//! window (from the connection's id) and queues its due work only from there on.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use uuid::Uuid;

use super::{QueueError, SyncEngine};
use crate::clock::Clock;
use crate::model::DATASETS;
use crate::provider::{CallPriority, DataType};
use crate::store::{ConnectionRow, ConnectionStatus, Store, StoreError, SyncSettingRow};

/// Codat's default refresh interval.
pub const DEFAULT_SYNC_SCHEDULE_HOURS: i32 = 24;
/// How often the scheduler looks for due work.
pub const TICK: Duration = Duration::from_secs(60);
/// Over how long a starting server spreads the work that came due while it was down.
pub const START_UP_SPREAD: Duration = Duration::from_secs(15 * 60);

const HOUR_MS: i64 = 3_600_000;

/// The settings a data type has when the tenant set none: refreshed daily, fetched on link, in
/// pull order.
pub fn default_setting(data_type: DataType) -> SyncSettingRow {
    SyncSettingRow {
        data_type: data_type.key().to_string(),
        fetch_on_first_link: true,
        sync_schedule_hours: DEFAULT_SYNC_SCHEDULE_HOURS,
        sync_order: DATASETS
            .iter()
            .position(|spec| spec.key == data_type.key())
            .unwrap_or_default() as i32,
        sync_from_utc: None,
        sync_from_window: None,
        months_to_sync: None,
        is_locked: false,
    }
}

/// Every served data type's setting: the stored one, else the default; in `syncOrder`.
pub fn effective_settings(stored: &[SyncSettingRow]) -> Vec<(DataType, SyncSettingRow)> {
    let mut settings: Vec<(DataType, SyncSettingRow)> = DataType::all()
        .map(|data_type| {
            let setting = stored
                .iter()
                .find(|s| s.data_type == data_type.key())
                .cloned()
                .unwrap_or_else(|| default_setting(data_type));
            (data_type, setting)
        })
        .collect();
    settings.sort_by_key(|(data_type, s)| (s.sync_order, data_type.spec().pull_order));
    settings
}

/// The data types a new link pulls at once (`fetchOnFirstLink`).
pub async fn fetched_on_link(store: &Store, tenant_id: Uuid) -> Result<Vec<DataType>, StoreError> {
    let stored = store.sync_settings(tenant_id).await?;
    Ok(effective_settings(&stored)
        .into_iter()
        .filter(|(_, s)| s.fetch_on_first_link)
        .map(|(data_type, _)| data_type)
        .collect())
}

/// When the data type of this connection is next due: `syncSchedule` hours after its latest
/// queued pull, or after the link if it was never pulled (`fetchOnFirstLink` off).
pub fn due_at(
    connection: &ConnectionRow,
    setting: &SyncSettingRow,
    latest_request: Option<i64>,
) -> i64 {
    due_at_in_hours_of(connection, setting, latest_request, HOUR_MS)
}

/// [`due_at`] with hours of `hour_ms` (see [`Scheduler::for_benchmarks`]).
fn due_at_in_hours_of(
    connection: &ConnectionRow,
    setting: &SyncSettingRow,
    latest_request: Option<i64>,
    hour_ms: i64,
) -> i64 {
    let since = latest_request
        .or(connection.linked_at)
        .unwrap_or(connection.created_at);
    since.saturating_add(i64::from(setting.sync_schedule_hours.max(1)) * hour_ms)
}

/// The instant from which a starting server queues this connection's due work: its fixed place
/// in the start-up window, so that a restart spreads the backlog instead of sending it at once.
pub fn start_up_slot(connection_id: Uuid, started_at: i64, spread: Duration) -> i64 {
    let window = spread.as_millis().max(1);
    started_at + (connection_id.as_u128() % window) as i64
}

/// Queues scheduled pulls. Cloning shares nothing but handles.
#[derive(Clone)]
pub struct Scheduler {
    engine: SyncEngine,
    store: Store,
    clock: Clock,
    started_at: i64,
    spread: Duration,
    /// How long an hour of `syncSchedule` lasts: an hour, but for benchmarks.
    hour_ms: i64,
    /// How often it looks for due work: [`TICK`], but for benchmarks.
    every: Duration,
}

impl Scheduler {
    pub fn new(engine: SyncEngine, store: Store, clock: Clock, spread: Duration) -> Self {
        let started_at = clock.now_ms();
        Scheduler {
            engine,
            store,
            clock,
            started_at,
            spread,
            hour_ms: HOUR_MS,
            every: TICK,
        }
    }

    /// Benchmarks only (`examples/budget_bench.rs`; no flag or setting of the server reaches
    /// it): an hour of `syncSchedule` lasts `hour`, and the scheduler looks every `every`, so
    /// that scheduled pulls recur within a run of minutes.
    pub fn for_benchmarks(mut self, hour: Duration, every: Duration) -> Self {
        self.hour_ms = hour.as_millis().max(1) as i64;
        self.every = every;
        self
    }

    /// Looks for due work every [`TICK`] of the server's clock until the task is stopped.
    pub async fn run(self) {
        loop {
            match self.tick().await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "queued scheduled pulls"),
                Err(e) => tracing::warn!(error = %e, "the scheduler could not read what is due"),
            }
            self.clock.sleep(self.every).await;
        }
    }

    /// Queues every due data type of every Linked connection; returns how many pulls it queued.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let connections = self
            .store
            .connections_with_status(ConnectionStatus::Linked)
            .await?;
        if connections.is_empty() {
            return Ok(0);
        }
        let settings = self.store.all_sync_settings().await?;
        let latest = self.store.latest_pull_requests().await?;
        let in_start_up = now < self.started_at + self.spread.as_millis() as i64;
        let mut effective: HashMap<Uuid, Vec<(DataType, SyncSettingRow)>> = HashMap::new();
        // One run per connection, so data types read from one upstream source share its reads.
        let mut due: BTreeMap<Uuid, (ConnectionRow, Vec<DataType>)> = BTreeMap::new();
        for connection in connections {
            if in_start_up && now < start_up_slot(connection.id, self.started_at, self.spread) {
                continue;
            }
            let tenant_settings = effective.entry(connection.tenant_id).or_insert_with(|| {
                effective_settings(
                    settings
                        .get(&connection.tenant_id)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                )
            });
            let wanted: Vec<DataType> = tenant_settings
                .iter()
                .filter(|(data_type, setting)| {
                    let last = latest
                        .get(&(connection.company_id, data_type.key().to_string()))
                        .copied();
                    due_at_in_hours_of(&connection, setting, last, self.hour_ms) <= now
                })
                .map(|(data_type, _)| *data_type)
                .collect();
            if !wanted.is_empty() {
                due.insert(connection.id, (connection, wanted));
            }
        }
        let mut queued = 0;
        for (connection, wanted) in due.into_values() {
            match self
                .engine
                .queue_many_as(
                    connection.tenant_id,
                    connection.company_id,
                    &wanted,
                    Some(connection.id),
                    CallPriority::Scheduled,
                )
                .await
            {
                Ok(pulls) => queued += pulls.len(),
                // Switched off by the tenant, or unlinked meanwhile: nothing to refresh.
                Err(QueueError::Disabled(_) | QueueError::NoLinkedConnection(_)) => {}
                Err(QueueError::AlreadyRunning(_)) => {}
                Err(QueueError::Store(e)) => return Err(e),
            }
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(linked_at: i64) -> ConnectionRow {
        ConnectionRow {
            id: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            company_id: Uuid::new_v4(),
            integration_key: "exact-online-nl".into(),
            status: ConnectionStatus::Linked,
            upstream_company: None,
            available_companies: vec![],
            created_at: linked_at - 1000,
            linked_at: Some(linked_at),
            last_sync: None,
            errors: vec![],
        }
    }

    #[test]
    fn a_data_type_is_due_its_schedule_after_its_latest_pull_or_the_link() {
        let c = connection(1_000);
        let mut setting = default_setting(DataType::all().next().unwrap());
        assert_eq!(due_at(&c, &setting, Some(5_000)), 5_000 + 24 * HOUR_MS);
        assert_eq!(due_at(&c, &setting, None), 1_000 + 24 * HOUR_MS);
        setting.sync_schedule_hours = 2;
        assert_eq!(due_at(&c, &setting, Some(5_000)), 5_000 + 2 * HOUR_MS);
    }

    #[test]
    fn start_up_slots_spread_connections_over_the_window() {
        let spread = Duration::from_secs(600);
        let slots: Vec<i64> = (0..200)
            .map(|_| start_up_slot(Uuid::new_v4(), 1_000, spread))
            .collect();
        assert!(slots.iter().all(|s| (1_000..1_000 + 600_000).contains(s)));
        // Not a herd: the slots fall in every tenth of the window.
        for tenth in 0..10 {
            let from = 1_000 + tenth * 60_000;
            assert!(
                slots.iter().any(|s| (from..from + 60_000).contains(s)),
                "no connection starts in tenth {tenth}"
            );
        }
        // A connection keeps its slot.
        let id = Uuid::new_v4();
        assert_eq!(start_up_slot(id, 0, spread), start_up_slot(id, 0, spread));
    }

    #[test]
    fn stored_settings_override_the_defaults_and_order_by_sync_order() {
        let first = DataType::all().next().unwrap();
        let last = DataType::all().last().unwrap();
        let mut mine = default_setting(last);
        mine.sync_order = -1;
        mine.sync_schedule_hours = 3;
        let settings = effective_settings(&[mine]);
        assert_eq!(settings.len(), DataType::all().count());
        assert_eq!(settings[0].0, last);
        assert_eq!(settings[0].1.sync_schedule_hours, 3);
        assert_eq!(settings[1].0, first);
        assert_eq!(
            settings[1].1.sync_schedule_hours,
            DEFAULT_SYNC_SCHEDULE_HOURS
        );
    }
}
