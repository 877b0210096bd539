//! Helpers shared by the test binaries.

#![allow(dead_code)]

/// A fresh PostgreSQL database on the server named by `TEST_DATABASE_URL`, or `None` (after
/// saying so) when that variable is unset.
pub struct PgTestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgTestDatabase {
    pub async fn create(test: &str) -> Option<PgTestDatabase> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("skipping the PostgreSQL part of {test}: TEST_DATABASE_URL is not set");
            return None;
        };
        let name = format!("ll_test_{}", uuid::Uuid::new_v4().simple());
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("TEST_DATABASE_URL is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        Some(PgTestDatabase {
            url: url.to_string(),
            admin_url,
            name,
        })
    }

    /// Makes the database refuse every connection and ends the open ones (an outage as a
    /// client sees it); [`PgTestDatabase::accept_connections`] ends it.
    pub async fn refuse_connections(&self) {
        let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS false",
            self.name
        )))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.name)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }

    /// Ends an outage begun by [`PgTestDatabase::refuse_connections`].
    pub async fn accept_connections(&self) {
        let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            self.name
        )))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }

    /// Drops the database (call at the end of the test).
    pub async fn drop_database(self) {
        if let Ok(pool) = sqlx::PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}
