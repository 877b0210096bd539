//! The shared upstream call budget and the per-connection pull lease, on SQLite always and on
//! PostgreSQL when `TEST_DATABASE_URL` is set. Two `Store`s on one database stand for two
//! server instances.

use ledgerline::store::{
    CallClaim, CallLimits, CallTake, DAY_MS, MINUTE_MS, ON_DEMAND_HOLD_MS, ObservedLimits, Store,
    day_start, minute_start,
};
use uuid::Uuid;

use crate::harness::PgTestDatabase;

const LIMITS: CallLimits = CallLimits {
    per_minute: 60,
    per_day: 100,
};
/// 10:00:00 UTC on some day: the top of a minute.
const T0: i64 = 1_764_756_000_000;

/// One call: `share` 100 is on-demand work, less is scheduled work with that daily share.
async fn take(store: &Store, division: &str, now: i64, share: i64) -> CallTake {
    let claim = if share == 100 {
        CallClaim::ON_DEMAND
    } else {
        CallClaim::scheduled(share)
    };
    store
        .take_upstream_call("exact-online-nl", division, now, LIMITS, claim)
        .await
        .unwrap()
}

fn granted(take: CallTake) -> bool {
    matches!(take, CallTake::Granted(_))
}

/// Minute and day windows, the on-demand reserve, and Exact's headers.
async fn budget_arithmetic(a: &Store, b: &Store) {
    assert_eq!(minute_start(T0 + 59_999), T0);
    assert_eq!(day_start(T0) % DAY_MS, 0);
    // Two instances share the minute: 30 each fill it, the 61st is refused on either.
    for n in 0..60 {
        let store = if n % 2 == 0 { a } else { b };
        assert!(granted(take(store, "101", T0 + n, 100).await), "call {n}");
    }
    match take(a, "101", T0 + 100, 100).await {
        CallTake::Refused(w) => {
            assert_eq!((w.minute_used, w.minute_limit), (60, 60));
            assert_eq!(w.minute_start, T0, "the window the refusal waits out");
        }
        other => panic!("the 61st call of a minute must be refused: {other:?}"),
    }
    assert!(
        granted(take(b, "102", T0 + 100, 100).await),
        "another division has its own budget"
    );
    // The next clock minute opens a new window; the day keeps counting.
    match take(b, "101", T0 + MINUTE_MS, 100).await {
        CallTake::Granted(w) => {
            assert_eq!(w.minute_used, 1);
            assert_eq!(w.day_used, 61);
        }
        other => panic!("{other:?}"),
    }
    // Scheduled work (90 % share) stops at 90 of 100; on-demand work may spend the rest.
    let later = T0 + 2 * MINUTE_MS;
    for n in 0..29 {
        assert!(granted(take(a, "101", later + n, 90).await), "call {n}");
    }
    match take(b, "101", later + 40, 90).await {
        CallTake::Refused(w) => assert_eq!((w.day_used, w.day_limit), (90, 100)),
        other => panic!("scheduled work must stop at the reserve: {other:?}"),
    }
    for n in 0..10 {
        assert!(granted(take(b, "101", later + 50 + n, 100).await));
    }
    assert!(
        !granted(take(a, "101", later + 100, 100).await),
        "the day is spent"
    );
    let w = a
        .upstream_call_budget("exact-online-nl", "101", later + 200)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((w.remaining_today(), w.day_limit), (0, 100));
    // The next UTC day starts afresh.
    let tomorrow = day_start(T0) + DAY_MS + 5;
    match take(a, "101", tomorrow, 90).await {
        CallTake::Granted(w) => assert_eq!((w.day_used, w.minute_used), (1, 1)),
        other => panic!("{other:?}"),
    }

    // Exact counted more than we did (the stricter count wins), with other limits.
    let observed = ObservedLimits {
        minute: Some((100, 97)),
        day: Some((9000, 8000)),
        ..ObservedLimits::default()
    };
    a.observe_upstream_limits("exact-online-nl", "101", tomorrow + 10, LIMITS, &observed)
        .await
        .unwrap();
    let w = b
        .upstream_call_budget("exact-online-nl", "101", tomorrow + 20)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((w.minute_used, w.minute_limit), (3, 100));
    assert_eq!(
        (w.day_used, w.day_limit, w.remaining_today()),
        (1000, 9000, 8000)
    );
    // A lower count from Exact does not undo ours.
    let lower = ObservedLimits {
        day: Some((9000, 8999)),
        ..ObservedLimits::default()
    };
    b.observe_upstream_limits("exact-online-nl", "101", tomorrow + 30, LIMITS, &lower)
        .await
        .unwrap();
    let w = a
        .upstream_call_budget("exact-online-nl", "101", tomorrow + 40)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.day_used, 1000);
    // A window Exact closed stays closed until it said, on every instance.
    let blocked = ObservedLimits {
        minute: Some((100, 0)),
        minute_blocked_until: tomorrow + 30_000,
        ..ObservedLimits::default()
    };
    a.observe_upstream_limits("exact-online-nl", "101", tomorrow + 50, LIMITS, &blocked)
        .await
        .unwrap();
    assert!(!granted(take(b, "101", tomorrow + 20_000, 100).await));
    assert!(granted(take(b, "101", tomorrow + MINUTE_MS, 100).await));
}

/// On-demand work goes first within a minute, on every instance: once an on-demand caller had to
/// wait for the next minute (and marked it), scheduled callers wait while it keeps calling.
async fn on_demand_work_goes_first_in_the_minute(a: &Store, b: &Store) {
    let t = T0 + 20 * MINUTE_MS;
    // No mark without a wait: on-demand and scheduled calls share an open minute.
    assert!(granted(take(a, "first", t, 100).await));
    match take(b, "first", t + 1, 90).await {
        CallTake::Granted(w) => assert_eq!(w.on_demand_waiting_until, 0),
        other => panic!("{other:?}"),
    }
    for n in 2..60 {
        assert!(granted(take(b, "first", t + n, 90).await), "call {n}");
    }
    // The minute is full: an on-demand caller on instance a waits for the next and marks it.
    assert!(!granted(take(a, "first", t + 100, 100).await));
    let next = t + MINUTE_MS;
    a.mark_on_demand_waiting("exact-online-nl", "first", next + ON_DEMAND_HOLD_MS)
        .await
        .unwrap();
    // The next minute opens: instance b's scheduled caller yields though the minute is empty.
    match take(b, "first", next + 10, 90).await {
        CallTake::Refused(w) => {
            assert_eq!(w.minute_used, 0, "refused for the mark, not the minute");
            assert_eq!(w.on_demand_waiting_until, next + ON_DEMAND_HOLD_MS);
        }
        other => panic!("scheduled work must yield to the waiting on-demand work: {other:?}"),
    }
    // Each on-demand call under the mark extends it.
    match take(a, "first", next + 5_000, 100).await {
        CallTake::Granted(w) => {
            assert_eq!(w.on_demand_waiting_until, next + 5_000 + ON_DEMAND_HOLD_MS)
        }
        other => panic!("{other:?}"),
    }
    assert!(!granted(
        take(b, "first", next + ON_DEMAND_HOLD_MS + 1, 90).await
    ));
    // Once the on-demand work stops calling, the mark lapses and scheduled work goes on.
    assert!(granted(
        take(b, "first", next + 5_000 + ON_DEMAND_HOLD_MS, 90).await
    ));
    // A lapsed mark is not extended by later on-demand calls.
    match take(a, "first", next + 30_000, 100).await {
        CallTake::Granted(w) => {
            assert_eq!(w.on_demand_waiting_until, next + 5_000 + ON_DEMAND_HOLD_MS)
        }
        other => panic!("{other:?}"),
    }
    assert!(granted(take(b, "first", next + 30_001, 90).await));
}

/// Many callers racing on two stores for one minute get exactly its limit between them.
async fn racing_callers_share_one_minute(a: &Store, b: &Store) {
    let now = T0 + 7 * MINUTE_MS;
    let calls = (0..100).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        async move { granted(take(&store, "race", now + n, 100).await) }
    });
    let granted = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .filter(|g| *g)
        .count();
    assert_eq!(granted, 60, "one minute's limit across both instances");
}

/// One run at a time holds a connection's lease; a dead run's lease expires.
async fn pull_lease(a: &Store, b: &Store) {
    let connection = Uuid::new_v4();
    let other = Uuid::new_v4();
    let lease = 90_000;
    assert!(
        a.try_take_pull_lease(connection, "run-a", T0, T0 + lease)
            .await
            .unwrap()
    );
    assert!(
        !b.try_take_pull_lease(connection, "run-b", T0 + 10, T0 + 10 + lease)
            .await
            .unwrap(),
        "a live lease is not taken over"
    );
    assert!(
        b.try_take_pull_lease(other, "run-b", T0 + 10, T0 + 10 + lease)
            .await
            .unwrap(),
        "leases are per connection"
    );
    // Renewed by its holder only.
    assert!(
        a.extend_pull_lease(connection, "run-a", T0 + 60_000 + lease)
            .await
            .unwrap()
    );
    assert!(
        !b.extend_pull_lease(connection, "run-b", T0 + 1_000_000)
            .await
            .unwrap()
    );
    assert!(
        !b.try_take_pull_lease(connection, "run-b", T0 + lease + 1, T0 + 2 * lease)
            .await
            .unwrap(),
        "the renewal moved the expiry"
    );
    // The holder died: past the expiry another run takes over, and the dead one cannot renew.
    let late = T0 + 60_000 + lease + 1;
    assert!(
        b.try_take_pull_lease(connection, "run-b", late, late + lease)
            .await
            .unwrap()
    );
    assert!(
        !a.extend_pull_lease(connection, "run-a", late + 5)
            .await
            .unwrap()
    );
    // Released by its holder only; then free at once.
    a.release_pull_lease(connection, "run-a").await.unwrap();
    assert!(
        !a.try_take_pull_lease(connection, "run-c", late + 1, late + lease)
            .await
            .unwrap()
    );
    b.release_pull_lease(connection, "run-b").await.unwrap();
    assert!(
        a.try_take_pull_lease(connection, "run-c", late + 2, late + lease)
            .await
            .unwrap()
    );
    // Racing runs: exactly one wins.
    let contested = Uuid::new_v4();
    let racers = (0..20).map(|n| {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            store
                .try_take_pull_lease(contested, &format!("run-{n}"), T0, T0 + lease)
                .await
                .unwrap()
        }
    });
    let winners = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .filter(|w| *w)
        .count();
    assert_eq!(winners, 1);
    // A restart on SQLite drops the leases its last process held.
    assert!(a.release_all_pull_leases().await.unwrap() >= 2);
    assert!(
        b.try_take_pull_lease(contested, "after-restart", T0 + 1, T0 + lease)
            .await
            .unwrap()
    );
}

async fn exercise(a: &Store, b: &Store) {
    budget_arithmetic(a, b).await;
    racing_callers_share_one_minute(a, b).await;
    on_demand_work_goes_first_in_the_minute(a, b).await;
    pull_lease(a, b).await;
}

#[tokio::test]
async fn the_call_budget_and_pull_leases_are_shared_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let (a, b) = (
        Store::connect(&url).await.unwrap(),
        Store::connect(&url).await.unwrap(),
    );
    exercise(&a, &b).await;

    if let Some(db) =
        PgTestDatabase::create("the_call_budget_and_pull_leases_are_shared_on_sqlite_and_postgres")
            .await
    {
        let a = Store::connect(&db.url).await.unwrap();
        let b = Store::connect(&db.url).await.unwrap();
        exercise(&a, &b).await;
        a.close().await;
        b.close().await;
        db.drop_database().await;
    }
}
