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
