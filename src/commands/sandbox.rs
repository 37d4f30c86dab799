//! `sandbox serve` and `sandbox stop`.

use std::net::SocketAddr;
use std::path::Path;

use crate::error::Result;
use crate::model::ServiceType;
use crate::sandbox::process::{StopOutcome, serve_foreground, stop as stop_server};
use crate::sandbox::{EngineConfig, emulated_servers};
use crate::ui::Output;

pub async fn serve(
    output: &Output,
    dir: &Path,
    listen: SocketAddr,
    seed: Option<&Path>,
    config: &EngineConfig,
) -> Result<()> {
    let servers = emulated_servers(dir, config);
    serve_foreground(dir, listen, seed, config, |info, token_file| {
        if output.is_json() {
            let servers: serde_json::Map<String, serde_json::Value> = servers
                .iter()
                .map(|(t, s)| {
                    let value = match s {
                        Ok(server) => serde_json::json!({ "server": server }),
                        Err(why) => serde_json::json!({ "unavailable": why }),
                    };
                    (t.to_string(), value)
                })
                .collect();
            output.json(&serde_json::json!({
                "url": info.url, "pid": info.pid, "token_file": token_file, "servers": servers,
            }));
        } else {
            output.line(&format!("Sandbox listening on {}", info.url));
            output.line(&format!("Token file: {}", token_file.display()));
            for line in server_lines(&servers) {
                output.human(&line);
            }
            output.human(&format!(
                "Use it with: setops-migrate --api {} --token-file {} ...   (or --sandbox {})",
                info.url,
                token_file.display(),
                dir.display()
            ));
            output.human("Stop with Ctrl-C.");
        }
    })
    .await?;
    Ok(())
}

/// "postgresql11 runs on PostgreSQL 11.22 (…)", or why a type has no server here.
pub fn server_lines(servers: &[(ServiceType, std::result::Result<String, String>)]) -> Vec<String> {
    servers
        .iter()
        .map(|(t, s)| match s {
            Ok(server) => format!("{t} runs on {server}"),
            Err(why) => format!("{t} has no server here: {why}"),
        })
        .collect()
}

pub async fn stop(output: &Output, dir: &Path) -> Result<()> {
    match stop_server(dir).await? {
        StopOutcome::Stopped { pid } => output.line(&format!(
            "Stopped the sandbox of {} (pid {pid}).",
            dir.display()
        )),
        StopOutcome::NotRunning => {
            output.line(&format!("No sandbox is running for {}.", dir.display()))
        }
    }
    Ok(())
}
