//! Reading a service's data from the outside, the way an app would: psql through the connection
//! URL the sandbox offers.

use std::process::Command;

use super::sandbox::TestSandbox;

/// What psql prints for `sql` (quiet, unaligned, tuples only); panics with psql's error text.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "psql failed on {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The sandbox's connection URL of a service of shop/production, linked or not.
pub fn connection_url(sb: &TestSandbox, service: &str) -> String {
    let scope = setops_migrate::model::Scope {
        project: "shop".into(),
        stage: "production".into(),
    };
    let url = format!(
        "{}{}",
        sb.url,
        setops_migrate::api::paths::service_connection(&scope, service)
    );
    let conn: setops_migrate::api::ServiceConnection = reqwest::blocking::Client::new()
        .get(url)
        .bearer_auth(&sb.token)
        .send()
        .expect("connection endpoint answers")
        .error_for_status()
        .expect("connection endpoint succeeds")
        .json()
        .expect("a ServiceConnection");
    conn.url
}
