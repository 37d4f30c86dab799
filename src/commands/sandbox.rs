//! `sandbox serve` and `sandbox stop`.

use std::net::SocketAddr;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::ServiceType;
use crate::sandbox::process::{StopOutcome, serve_foreground, stop as stop_server};
use crate::sandbox::{EngineConfig, emulated_servers};
use crate::ui::Output;

/// Where `sandbox serve` listens, and whether an address other machines reach was asked for on
/// purpose (`--public`).
pub struct Listen {
    pub addr: SocketAddr,
    pub public: bool,
}

impl Listen {
    /// Loopback is the default and always fine; anything else needs `--public`, because the
    /// sandbox hands out what only its own machine should see.
    fn check(&self) -> Result<()> {
        if self.addr.ip().is_loopback() || self.public {
            return Ok(());
        }
        Err(Error::usage(format!(
            "--listen {}: not a loopback address, so every machine that reaches it could use this \
             sandbox: {}. Listen on 127.0.0.1 (the default), or pass --public to do this on purpose",
            self.addr,
            EXPOSED.join("; ")
        )))
    }
}

/// What a sandbox on a reachable address serves to other machines.
const EXPOSED: [&str; 3] = [
    "the API, over plain HTTP (no TLS), to anyone holding a token of DIR/token or \
     DIR/users/*.token",
    "each service's connection endpoint, which answers token holders with database passwords",
    "pre-signed transfer URLs, which download or upload a backup for anyone who holds one, \
     without a token, until they expire",
];

pub async fn serve(
    output: &Output,
    dir: &Path,
    listen: Listen,
    seed: Option<&Path>,
    config: &EngineConfig,
    live_apps: bool,
) -> Result<()> {
    listen.check()?;
    let servers = emulated_servers(dir, config);
    serve_foreground(
        dir,
        listen.addr,
        seed,
        config,
        live_apps,
        |info, token_file| {
            if !listen.addr.ip().is_loopback() {
                // On stderr in every output format: a JSON consumer's log keeps the warning too.
                eprintln!(
                    "warning: --public: this sandbox listens on {}, reachable from other machines:",
                    listen.addr
                );
                for item in EXPOSED {
                    eprintln!("  - {item}");
                }
                eprintln!(
                    "  Not exposed: the services' PostgreSQL and Redis servers listen on 127.0.0.1 \
                 only."
                );
            }
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
                    "live_apps": live_apps,
                }));
            } else {
                output.line(&format!("Sandbox listening on {}", info.url));
                output.line(&format!("Token file: {}", token_file.display()));
                if live_apps {
                    output.human(
                        "Live apps: each app with a running container writes to the services it \
                     links; counts at GET /_sandbox/live-writes",
                    );
                }
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
        },
    )
    .await?;
    // Ctrl-C (or SIGTERM) is how it ends: a normal end, exit 0.
    output.line(&format!("Stopped the sandbox of {}.", dir.display()));
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
