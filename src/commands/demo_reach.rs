//! The demo's last word: connect through the env values the apps now receive and show that
//! they reach the new databases (PostgreSQL through DATABASE_URL, Redis through REDIS_URL).

use std::time::Duration;

use crate::error::Result;
use crate::migrate::verify::VerifyError;
use crate::model::Scope;
use crate::platform::Platform;
use crate::ui::{Align, TableBuilder, format_count};

use super::context::Context;

const APPS: [&str; 2] = ["web", "worker"];
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// For every env value of the demo apps that points at one of `targets`, connects with it and
/// shows what it finds. A value that does not connect is an error: the relink would be broken.
pub async fn show(
    ctx: &Context,
    platform: &dyn Platform,
    scope: &Scope,
    targets: &[String],
) -> Result<()> {
    let mut table = TableBuilder::new(&[
        ("APP", Align::Left),
        ("ENV KEY", Align::Left),
        ("SERVICE", Align::Left),
        ("REACHED", Align::Left),
    ]);
    let mut rows = 0;
    for app in APPS {
        for var in platform.app_env(scope, app).await? {
            let description = var.description.unwrap_or_default();
            // "postgresql13 service database13"
            let Some(service) = description
                .split_whitespace()
                .nth(2)
                .filter(|s| targets.iter().any(|t| t == s))
            else {
                continue;
            };
            let reached = if var.value.starts_with("postgresql://") {
                postgres_summary(var.value).await
            } else if var.value.starts_with("redis://") {
                redis_summary(var.value).await
            } else {
                continue;
            }
            .map_err(|detail| VerifyError::DemoUnreached {
                app: app.to_owned(),
                key: var.key.clone(),
                service: service.to_owned(),
                detail,
            })?;
            table.row(vec![
                app.to_owned(),
                var.key.clone(),
                service.to_owned(),
                reached,
            ]);
            rows += 1;
        }
    }
    if rows > 0 {
        ctx.output.line("");
        ctx.output.line(&table.render());
    }
    Ok(())
}

/// "postgresql 15.18: 4 tables, 7,920 rows"
async fn postgres_summary(url: String) -> std::result::Result<String, String> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| format!("the URL does not parse: {e}"))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let result = async {
        let version: String = client.query_one("SHOW server_version", &[]).await?.get(0);
        let tables = client
            .query(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
                 WHERE table_type = 'BASE TABLE' \
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .await?;
        let mut rows: i64 = 0;
        for t in &tables {
            let name: String = t.get(0);
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM {name}"), &[])
                .await?
                .get(0);
            rows += n;
        }
        Ok::<_, tokio_postgres::Error>(format!(
            "postgresql {version}: {} tables, {} rows",
            tables.len(),
            format_count(rows.unsigned_abs())
        ))
    }
    .await
    .map_err(|e| e.to_string());
    drop(client);
    driver.abort();
    result
}

/// "redis 7.0.15: 500 keys"
async fn redis_summary(url: String) -> std::result::Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
        let mut conn = client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(|e| e.to_string())?;
        let keys: u64 = redis::cmd("DBSIZE")
            .query(&mut conn)
            .map_err(|e| e.to_string())?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut conn)
            .map_err(|e| e.to_string())?;
        let version = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("?")
            .trim()
            .to_owned();
        Ok(format!("redis {version}: {keys} keys"))
    })
    .await
    .map_err(|e| e.to_string())?
}
