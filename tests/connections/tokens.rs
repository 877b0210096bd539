//! The token engine: refreshes across hours of sandbox time, exactly one refresh under
//! concurrency (one server or two on one database), crash recovery, keep-alive.

use std::time::Duration;

use ledgerline::crypto::token_context;
use ledgerline::provider::ProviderError;
use ledgerline::sandbox::Seed;
use ledgerline::sandbox::seed::RefreshGrace;
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::net::TcpListener;

use ledgerline::connections::fallback::{FallbackDir, UnsavedTokens};
use ledgerline::provider::TokenGrant;
use secrecy::SecretString;
use serde_json::json;

use crate::common::PgTestDatabase;
use crate::world::{NL_APP, World, WorldOptions, refreshes, start_server};

fn nl_refreshes(stats: &Value) -> Value {
    refreshes(stats, "nl", NL_APP.0)
}

async fn linked_nl(world: &World) -> (String, Value) {
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let (status, page) = world.link(&connection, None).await;
    assert_eq!(status, 200, "{page}");
    // The first pull uses the fresh tokens; let it finish before a test moves the clock.
    world.wait_for_pull(&company).await;
    (company, connection)
}

#[tokio::test]
async fn tokens_survive_hours_of_sandbox_time_with_one_refresh_per_expiry() {
    let world = World::start().await;
    let (_, connection) = linked_nl(&world).await;
    let row = world.row(&connection).await;
    world.upstream_call(&world.server, &row).await.unwrap();
    for step in 1..=18 {
        world.advance(600).await; // 3 hours in 10-minute steps
        world
            .upstream_call(&world.server, &row)
            .await
            .unwrap_or_else(|e| panic!("step {step}: {e}"));
    }
    let counts = nl_refreshes(&world.stats().await);
    assert_eq!(counts["accepted"], 18, "{counts}");
    for refused in [
        "refused_too_early",
        "refused_old_token",
        "refused_expired",
        "refused_other",
    ] {
        assert_eq!(counts[refused], 0, "{refused}: {counts}");
    }
    // Calls within the 570-second window never refresh.
    world.advance(300).await;
    world.upstream_call(&world.server, &row).await.unwrap();
    assert_eq!(nl_refreshes(&world.stats().await)["accepted"], 18);
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let world = World::start().await;
    let (_, connection) = linked_nl(&world).await;
    let row = world.row(&connection).await;
    world.advance(600).await;
    let calls = (0..10).map(|_| world.upstream_call(&world.server, &row));
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    let counts = nl_refreshes(&world.stats().await);
    assert_eq!(counts["accepted"], 1, "{counts}");
    assert_eq!(counts["refused_too_early"], 0);
    assert_eq!(counts["refused_old_token"], 0);
}

async fn two_servers_one_refresh(world: &World) {
    let (_, connection) = linked_nl(world).await;
    let second = start_server(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &world.database_url,
        &world.sandbox,
        world.dir.path(),
    )
    .await;
    world.advance(600).await;
    second.state.clock.advance(Duration::from_secs(600));
    let row = world.row(&connection).await;
    let first_calls = (0..4).map(|_| world.upstream_call(&world.server, &row));
    let second_calls = (0..4).map(|_| world.upstream_call(&second, &row));
    let (a, b) = tokio::join!(
        futures_util::future::join_all(first_calls),
        futures_util::future::join_all(second_calls)
    );
    for result in a.into_iter().chain(b) {
        result.unwrap();
    }
    let counts = nl_refreshes(&world.stats().await);
    assert_eq!(counts["accepted"], 1, "two servers, one refresh: {counts}");
    assert_eq!(counts["refused_old_token"], 0);
    assert_eq!(counts["refused_too_early"], 0);
}

#[tokio::test]
async fn two_servers_on_one_sqlite_database_refresh_once() {
    let world = World::start().await;
    two_servers_one_refresh(&world).await;
}

#[tokio::test]
async fn two_servers_on_one_postgres_database_refresh_once() {
    World::on_postgres(
        "two_servers_on_one_postgres_database_refresh_once",
        two_servers_one_refresh,
    )
    .await;
}

/// A process that refreshed and died before storing the rotated pair: Exact has the new
/// refresh token, we still hold the old one.
async fn refresh_behind_our_back(world: &World, connection: &Value) -> Value {
    let row = world.row(connection).await;
    let tokens = world.server.state.store.get_tokens(row.id).await.unwrap();
    let refresh_token = world
        .server
        .state
        .master_key
        .open(
            &tokens.tokens.refresh_token_sealed,
            &token_context(row.id, "refresh"),
        )
        .unwrap();
    let response = world
        .http
        .post(format!(
            "{}/api/oauth2/token",
            world.sandbox.base_url(ledgerline::sandbox::Region::Nl)
        ))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", NL_APP.0),
            ("client_secret", NL_APP.1),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the lost refresh");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_refresh_lost_in_a_crash_ends_deauthorized_with_a_clear_message_and_no_retry_loop() {
    let world = World::start().await;
    let (company, connection) = linked_nl(&world).await;
    world.advance(600).await;
    let _ = refresh_behind_our_back(&world, &connection).await;

    let row = world.row(&connection).await;
    match world.upstream_call(&world.server, &row).await {
        Err(ProviderError::Reconnect(message)) => assert!(message.contains("linkUrl"), "{message}"),
        other => panic!("expected Reconnect, got {other:?}"),
    }
    let now = world.reload(&company, &connection).await;
    assert_eq!(now["status"], "Deauthorized");
    let message = now["dataConnectionErrors"][0]["errorMessage"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("Old refresh token used") && message.contains("connect again"),
        "{message}"
    );

    // Later calls fail at once: no second refresh is spent against a dead token.
    for _ in 0..3 {
        assert!(matches!(
            world.upstream_call(&world.server, &row).await,
            Err(ProviderError::Reconnect(_))
        ));
    }
    let counts = nl_refreshes(&world.stats().await);
    assert_eq!(counts["refused_old_token"], 1, "{counts}");

    // Following the linkUrl again recovers the connection.
    let (status, _) = world.link(&connection, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );
    let row = world.row(&connection).await;
    world.upstream_call(&world.server, &row).await.unwrap();
}

#[tokio::test]
async fn a_refresh_lost_in_a_crash_recovers_where_exact_keeps_the_old_token_alive() {
    let mut seed = Seed::demo();
    seed.options.refresh_grace = RefreshGrace::UntilNewUsed;
    let world = World::start_with(WorldOptions {
        seed,
        ..WorldOptions::default()
    })
    .await;
    let (company, connection) = linked_nl(&world).await;
    world.advance(600).await;
    let _ = refresh_behind_our_back(&world, &connection).await;
    world.advance(570).await;
    let row = world.row(&connection).await;
    world.upstream_call(&world.server, &row).await.unwrap();
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );
}

#[tokio::test]
async fn keep_alive_saves_dormant_connections_from_the_30_day_expiry() {
    let world = World::start().await;
    let (company, connection) = linked_nl(&world).await;
    for _ in 0..3 {
        world.advance(26 * 86_400).await;
        assert_eq!(world.server.state.tokens.keep_alive_once().await, 1);
    }
    let row = world.row(&connection).await;
    world.upstream_call(&world.server, &row).await.unwrap();
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );
    assert_eq!(nl_refreshes(&world.stats().await)["refused_expired"], 0);

    // Without the keep-alive, 31 idle days kill the refresh token.
    let idle = World::start().await;
    let (company, connection) = linked_nl(&idle).await;
    idle.advance(31 * 86_400).await;
    let row = idle.row(&connection).await;
    assert!(matches!(
        idle.upstream_call(&idle.server, &row).await,
        Err(ProviderError::Reconnect(_))
    ));
    let now = idle.reload(&company, &connection).await;
    assert_eq!(now["status"], "Deauthorized");
    assert!(
        now["dataConnectionErrors"][0]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("30 days")
    );
}

async fn generation(world: &World, connection: &Value) -> i64 {
    let row = world.row(connection).await;
    world
        .server
        .state
        .store
        .get_tokens(row.id)
        .await
        .unwrap()
        .generation
}

fn unsaved_file(world: &World, connection: &Value) -> std::path::PathBuf {
    world
        .dir
        .path()
        .join("unsaved-tokens")
        .join(format!("{}.json", connection["id"].as_str().unwrap()))
}

/// Waits until the stored generation reaches `expected` (the rotated pair reached the store).
async fn wait_for_generation(world: &World, connection: &Value, expected: i64) {
    for _ in 0..300 {
        if generation(world, connection).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the rotated pair never reached the store (generation {}, expected {expected})",
        generation(world, connection).await
    );
}

/// After the pair rotated during a failure is stored: the next refresh spends it, Exact accepts
/// it, and the connection stays Linked.
async fn the_next_refresh_uses_the_rotated_pair(world: &World, company: &str, connection: &Value) {
    world.advance(600).await;
    let row = world.row(connection).await;
    world.upstream_call(&world.server, &row).await.unwrap();
    let counts = nl_refreshes(&world.stats().await);
    assert_eq!(counts["accepted"], 2, "{counts}");
    assert_eq!(counts["refused_old_token"], 0, "{counts}");
    assert_eq!(world.reload(company, connection).await["status"], "Linked");
}

#[tokio::test]
async fn a_rotated_pair_the_database_refuses_is_kept_in_a_file_and_stored_when_it_recovers() {
    let world = World::start().await;
    let (company, connection) = linked_nl(&world).await;
    let before = generation(&world, &connection).await;
    let sqlite = sqlx::SqlitePool::connect(&world.database_url)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_token_writes BEFORE UPDATE OF refresh_token_sealed \
         ON connection_tokens BEGIN SELECT RAISE(ABORT, 'injected: writes refused'); END",
    )
    .execute(&sqlite)
    .await
    .unwrap();
    world.advance(600).await;
    let row = world.row(&connection).await;
    // Exact rotates, the database refuses the pair: it is kept, and used.
    world.upstream_call(&world.server, &row).await.unwrap();
    let file = unsaved_file(&world, &connection);
    let kept = std::fs::read_to_string(&file).expect("the pair is in the unsaved-tokens file");
    assert!(kept.contains("\"refreshTokenSealed\":\"v1:"), "{kept}");
    assert_eq!(
        generation(&world, &connection).await,
        before,
        "not stored yet"
    );
    // Calls meanwhile use the kept pair without another refresh.
    world.upstream_call(&world.server, &row).await.unwrap();
    assert_eq!(nl_refreshes(&world.stats().await)["accepted"], 1);

    sqlx::query("DROP TRIGGER refuse_token_writes")
        .execute(&sqlite)
        .await
        .unwrap();
    wait_for_generation(&world, &connection, before + 1).await;
    for _ in 0..50 {
        if !file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !file.exists(),
        "the file is deleted once the pair is stored"
    );
    the_next_refresh_uses_the_rotated_pair(&world, &company, &connection).await;
}

/// The audit's reproduction: PostgreSQL refuses connections while a (slow) refresh is in flight.
#[tokio::test]
async fn a_postgres_outage_during_a_refresh_loses_no_token() {
    let Some(db) =
        PgTestDatabase::create("a_postgres_outage_during_a_refresh_loses_no_token").await
    else {
        return;
    };
    let world = World::start_with(WorldOptions {
        database_url: Some(db.url.clone()),
        ..WorldOptions::default()
    })
    .await;
    let (company, connection) = linked_nl(&world).await;
    let before = generation(&world, &connection).await;
    world.advance(600).await;
    world
        .fault(json!({"kind": "latency", "ms": 2000, "path": "oauth2/token"}))
        .await;
    let row = world.row(&connection).await;
    let outage = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        db.refuse_connections().await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        db.accept_connections().await;
    };
    let (call, ()) = tokio::join!(world.upstream_call(&world.server, &row), outage);
    // Whether the call itself got through depends on what it needed from the database; the
    // rotated pair must not be lost either way.
    if let Err(e) = call {
        assert!(!matches!(e, ProviderError::Reconnect(_)), "{e}");
    }
    wait_for_generation(&world, &connection, before + 1).await;
    the_next_refresh_uses_the_rotated_pair(&world, &company, &connection).await;
    drop(world);
    db.drop_database().await;
}

/// A refresh whose answer comes after its caller gave up is still stored.
#[tokio::test]
async fn a_late_refresh_answer_is_stored_after_its_caller_gave_up() {
    let world = World::start().await;
    let (company, connection) = linked_nl(&world).await;
    let before = generation(&world, &connection).await;
    world.advance(600).await;
    world
        .fault(json!({"kind": "late_answer", "ms": 2500, "path": "oauth2/token"}))
        .await;
    let row = world.row(&connection).await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(800),
        world.upstream_call(&world.server, &row),
    )
    .await;
    assert!(gave_up.is_err(), "the caller stops waiting first");
    assert_eq!(
        nl_refreshes(&world.stats().await)["accepted"],
        1,
        "Exact rotated"
    );
    wait_for_generation(&world, &connection, before + 1).await;
    the_next_refresh_uses_the_rotated_pair(&world, &company, &connection).await;
}

/// A server that stopped after writing the unsaved-tokens file: the next start stores the pair.
#[tokio::test]
async fn unsaved_tokens_from_the_last_run_are_stored_at_start_up() {
    let world = World::start().await;
    let (company, connection) = linked_nl(&world).await;
    let before = generation(&world, &connection).await;
    world.advance(600).await;
    let grant = refresh_behind_our_back(&world, &connection).await;
    let row = world.row(&connection).await;
    let sealed = world.server.state.tokens.seal(
        row.id,
        &TokenGrant {
            access_token: SecretString::from(grant["access_token"].as_str().unwrap()),
            refresh_token: SecretString::from(grant["refresh_token"].as_str().unwrap()),
            expires_in_secs: 600,
        },
    );
    FallbackDir::in_data_dir(world.dir.path())
        .save(&UnsavedTokens {
            connection_id: row.id,
            replaces_generation: before,
            tokens: sealed,
        })
        .unwrap();
    let _restarted = start_server(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &world.database_url,
        &world.sandbox,
        world.dir.path(),
    )
    .await;
    assert_eq!(generation(&world, &connection).await, before + 1);
    assert!(!unsaved_file(&world, &connection).exists());
    the_next_refresh_uses_the_rotated_pair(&world, &company, &connection).await;
}
