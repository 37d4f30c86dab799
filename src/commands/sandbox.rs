//! `sandbox serve` and `sandbox stop`.

use std::net::SocketAddr;
use std::path::Path;

use crate::error::Result;
use crate::sandbox::EngineConfig;
use crate::sandbox::process::{StopOutcome, serve_foreground, stop as stop_server};
use crate::ui::Output;

pub async fn serve(
    output: &Output,
    dir: &Path,
    listen: SocketAddr,
    seed: Option<&Path>,
    config: &EngineConfig,
) -> Result<()> {
    serve_foreground(dir, listen, seed, config, |info, token_file| {
        if output.is_json() {
            output.json(&serde_json::json!({
                "url": info.url, "pid": info.pid, "token_file": token_file,
            }));
        } else {
            output.line(&format!("Sandbox listening on {}", info.url));
            output.line(&format!("Token file: {}", token_file.display()));
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
